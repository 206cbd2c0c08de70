"""The embedded default (SQLite, jobs in a thread of the process, no Redis) sends notifications too:
the event's job runs in-process after commit and the real SDK and SMTP client reach the stand-ins."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.notify_support import LINE_TOKEN, line_stand_in, smtp_server

SCRIPT = r'''
import time
from datetime import time as tod
from decimal import Decimal
from sqlalchemy import select
from core import create_app
from core.db import db
from core.notify import Audience, Event, emit
from network.models import Group, User
from network.services import create_network
from notifications.models import Delivery, NotificationSettings

app = create_app()
assert app.config["JOBS_MODE"] == "thread" and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
with app.app_context():
    network = create_network("เครือข่ายเดโม", "admin@example.org", "long-password-1")
    group = Group(network_id=network.id, name="กลุ่มหนึ่ง", members=5, registered_poor_members=1)
    db.session.add(group)
    db.session.flush()
    leader = User(network_id=network.id, email="leader@example.org", name="L", role="leader", group_id=group.id,
                  password_hash="x", active=True, session_version=0)
    db.session.add(leader)
    db.session.flush()
    db.session.add(NotificationSettings(user_id=leader.id, email=True, line=True, line_user_id="U" + "d" * 32,
                                        quiet_from=tod(0, 0), quiet_until=tod(0, 0)))
    db.session.commit()
    for key in ("payment_recorded:e1", "payment_recorded:e1"):  # the same event twice
        emit(Event(key=key, kind="payment_recorded", network_id=network.id, audience=(Audience("leaders", group.id),),
                   context={"round": "R", "group": "G", "amount": Decimal("99.5"), "paid": Decimal("99.5"),
                            "total": Decimal("1000"), "outstanding": Decimal("900.5")}, link="/invoices/1"))
        db.session.commit()
    for _ in range(200):
        states = sorted(db.session.scalars(select(Delivery.state)))
        db.session.remove()
        if states == ["sent", "sent"]:
            break
        time.sleep(0.1)
    assert states == ["sent", "sent"], states
    from notifications.sending import send_due
    assert send_due()["sent"] == 0
print("OK")
'''


def test_embedded_default_sends_in_process(tmp_path: Path) -> None:
    with line_stand_in() as line, smtp_server() as box:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
        env.update(RUAMSUE_INSTANCE=str(tmp_path), LINE_CHANNEL_ACCESS_TOKEN=LINE_TOKEN, LINE_API_ENDPOINT=line.url,
                   MAIL_SERVER=box.host, MAIL_PORT=str(box.port))
        upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
        assert upgrade.returncode == 0, upgrade.stderr[-2000:]
        run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]
        assert line.problems == [] and len(line.pushes()) == 1
        assert line.pushes()[0]["body"]["messages"][0]["text"].startswith("บันทึกการชำระเงิน 99.50 บาทแล้ว")
        mails = box.received()
        assert len(mails) == 1 and str(mails[0]["Subject"]).strip() == "บันทึกการชำระเงิน 99.50 บาทแล้ว"
