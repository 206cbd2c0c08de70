"""Connecting LINE on the embedded default (SQLite, no Redis): the code, the signed webhook call, the
wrong-code counter (SQLite's INSERT ... ON CONFLICT DO NOTHING) and the bot's reply to the stand-in."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.notify_support import LINE_TOKEN, line_stand_in

SCRIPT = r'''
import base64, hashlib, hmac, json
from core import create_app
from core.db import db
from network.models import Group, User
from network.services import create_network
from notifications import line_link
from notifications.models import LineLinkFailure, NotificationSettings

app = create_app({"RATELIMIT_ENABLED": False})
assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
client = app.test_client()

def call(user, text):
    body = json.dumps({"destination": "U" + "f" * 32, "events": [{
        "type": "message", "mode": "active", "timestamp": 1, "source": {"type": "user", "userId": user},
        "webhookEventId": "01H", "deliveryContext": {"isRedelivery": False}, "replyToken": "r" + text,
        "message": {"type": "text", "id": "1", "quoteToken": "q", "text": text}}]}).encode()
    signature = base64.b64encode(hmac.new(b"embedded-secret", body, hashlib.sha256).digest()).decode()
    answer = client.post("/line/webhook", data=body, headers={"X-Line-Signature": signature})
    assert answer.status_code == 200, answer.get_data(as_text=True)

with app.app_context():
    network = create_network("เครือข่ายเดโม", "admin@example.org", "long-password-1")
    group = Group(network_id=network.id, name="กลุ่มหนึ่ง", members=5, registered_poor_members=1)
    db.session.add(group)
    db.session.flush()
    leader = User(network_id=network.id, email="leader@example.org", name="L", role="leader", group_id=group.id,
                  password_hash="x", active=True, session_version=0)
    db.session.add(leader)
    db.session.commit()
    leader_id = leader.id
    code = line_link.new_code(leader).code
    call("U" + "1" * 32, "00000000" if code != "00000000" else "00000001")
    call("U" + "1" * 32, "00000002" if code != "00000002" else "00000003")
    assert db.session.get(LineLinkFailure, "U" + "1" * 32).failures == 2
    db.session.remove()
    call("U" + "2" * 32, code)
    settings = db.session.get(NotificationSettings, leader_id)
    assert settings.line and settings.line_user_id == "U" + "2" * 32
print("OK")
'''


def test_connecting_line_on_the_embedded_default(tmp_path: Path) -> None:
    with line_stand_in() as line:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
        env.update(RUAMSUE_INSTANCE=str(tmp_path), LINE_CHANNEL_ACCESS_TOKEN=LINE_TOKEN, LINE_API_ENDPOINT=line.url,
                   LINE_CHANNEL_SECRET="embedded-secret")
        upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
        assert upgrade.returncode == 0, upgrade.stderr[-2000:]
        run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]
        replies = [r["body"]["messages"][0]["text"] for r in line.replies()]
        assert line.problems == [] and len(replies) == 3
        assert replies[0].startswith("ไม่พบรหัสนี้") and replies[2].startswith("เชื่อมต่อ LINE กับบัญชี L ")
