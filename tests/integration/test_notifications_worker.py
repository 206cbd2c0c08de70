"""Notifications end to end on a real Celery worker: the job enqueued with the event runs after
commit, LINE (real SDK -> stand-in) and e-mail (SMTP -> aiosmtpd) receive exactly one message each,
and running the jobs again sends nothing twice."""
from __future__ import annotations

import time as clock
from collections.abc import Iterator
from datetime import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.conftest import wait_for_job
from tests.notify_support import LINE_TOKEN, NotifyWorld, notify_worker, wipe

pytestmark = pytest.mark.worker

LINE_ID = "U" + "c" * 32


@pytest.fixture(scope="module")
def world(database: str, worker_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotifyWorld]:
    with notify_worker(database, worker_app, tmp_path_factory.mktemp("notify") / "worker.log") as w:
        yield w


@pytest.fixture
def people(world: NotifyWorld) -> Iterator[dict[str, Any]]:
    from core.db import db
    from network.models import Group, Network, User
    from notifications.models import NotificationSettings

    with world.app.app_context():
        network = Network(name="เครือข่ายทดสอบ", timezone="UTC")  # UTC: no quiet hours in the way at 21-07 Bangkok
        db.session.add(network)
        db.session.flush()
        group = Group(network_id=network.id, name="กลุ่มออมทรัพย์บ้านนา", members=10, registered_poor_members=2)
        db.session.add(group)
        db.session.flush()
        leader = User(network_id=network.id, email="leader@example.org", name="ผู้นำ", role="leader", group_id=group.id,
                      password_hash=generate_password_hash("x", method="pbkdf2:sha256:1000"), active=True,
                      session_version=0)
        db.session.add(leader)
        db.session.flush()
        db.session.add(NotificationSettings(user_id=leader.id, email=True, line=True, line_user_id=LINE_ID,
                                            quiet_from=time(0, 0), quiet_until=time(0, 0)))
        db.session.commit()
        ids = {"network_id": network.id, "group_id": group.id, "leader_id": leader.id}
        db.session.remove()
    yield ids
    wipe(world.app)


def _emit(world: NotifyWorld, people: dict[str, Any], key: str) -> str:
    from core.db import db
    from core.models import Job
    from core.notify import Audience, Event, emit

    with world.app.app_context():
        emit(Event(key=key, kind="payment_recorded", network_id=people["network_id"],
                   audience=(Audience("leaders", people["group_id"]),),
                   context={"round": "รอบปุ๋ย", "group": "กลุ่มออมทรัพย์บ้านนา", "amount": Decimal("2500"),
                            "paid": Decimal("2500"), "total": Decimal("10250.75"), "outstanding": Decimal("7750.75")},
                   link="/invoices/3"))
        db.session.commit()  # the job goes to the worker only now
        job_id = db.session.scalar(select(Job.id).where(Job.dedupe_key == f"notify:{key}"))
        db.session.remove()
    assert job_id is not None
    return str(job_id)


def test_event_sent_by_the_worker_once_even_when_jobs_run_twice(world, people):
    from core import jobs

    job_id = _emit(world, people, "payment_recorded:w1")
    assert wait_for_job(world.app, job_id) == "succeeded"
    pushes = world.line.pushes()
    assert world.line.problems == [] and len(pushes) == 1
    assert pushes[0]["headers"]["Authorization"] == f"Bearer {LINE_TOKEN}"
    assert pushes[0]["body"]["to"] == LINE_ID
    assert pushes[0]["body"]["messages"][0]["text"] == (
        "บันทึกการชำระเงิน 2,500.00 บาทแล้ว\nรอบปุ๋ย: กลุ่มออมทรัพย์บ้านนา ชำระแล้ว 2,500.00 บาท "
        "จาก 10,250.75 บาท คงเหลือ 7,750.75 บาท\nhttps://ruamsue.example/invoices/3")
    mails = world.mail.received()
    assert len(mails) == 1
    assert str(mails[0]["Subject"]).strip() == "บันทึกการชำระเงิน 2,500.00 บาทแล้ว"
    assert "คงเหลือ 7,750.75 บาท" in mails[0].get_content()

    # The same job handed to the worker again, and the periodic sweep twice: nothing more is sent.
    with world.app.app_context():
        assert jobs.send(world.app, job_id)
        celery = world.app.extensions["celery"]
        celery.send_task("ruamsue.send_due_notifications", queue=world.queue)
        celery.send_task("ruamsue.send_due_notifications", queue=world.queue)
    # One worker process takes its queue in order: once a later job finished, those ran before it.
    later = _emit(world, people, "payment_recorded:w2")
    assert wait_for_job(world.app, later) == "succeeded"
    clock.sleep(0.5)
    # Two events, two pushes (one retry key, i.e. one delivery, each), two e-mails: nothing repeated.
    keys = [p["retry_key"] for p in world.line.pushes()]
    assert len(keys) == 2 and len(set(keys)) == 2 and world.line.problems == []
    assert len(world.mail.received()) == 2
