"""The summary jobs on a real Celery worker (Redis broker, PostgreSQL): on demand and from the beat."""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from tests.conftest import PASSWORD, wait_for_job

MONTH = "2026-03"
pytestmark = pytest.mark.worker


@pytest.fixture(autouse=True)
def _worker_celery_is_default(worker_app):  # type: ignore[no-untyped-def]
    """core.jobs.send uses the shared task, i.e. the *default* Celery app; another test module may
    have made an app without a broker (memory://) the default since worker_app was built."""
    worker_app.extensions["celery"].set_default()


def _seed(session):  # type: ignore[no-untyped-def]
    from core.auth import hash_token, new_token
    from market.models import Listing, Purchase
    from network.models import ApiToken, Group, Network, User

    network = Network(name=f"Worker network {uuid.uuid4().hex[:6]}", timezone="Asia/Bangkok",
                      fee_percent=Decimal(0), created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(network)
    session.flush()
    g1 = Group(network_id=network.id, name="สหกรณ์บ้านนา", members=10, registered_poor_members=5)
    g2 = Group(network_id=network.id, name="กลุ่มทอผ้า", members=10, registered_poor_members=0)
    session.add_all([g1, g2])
    session.flush()
    listing = Listing(network_id=network.id, group_id=g2.id, name="ผ้าทอมือ", unit="piece", price=Decimal("250.00"),
                      outside_price=Decimal("200.00"), reference_price=Decimal("300.00"), stock=10)
    session.add(listing)
    session.flush()
    session.add(Purchase(network_id=network.id, listing_id=listing.id, buyer_group_id=g1.id, seller_group_id=g2.id,
                         quantity=2, unit_price=Decimal("250.00"), outside_price=Decimal("200.00"),
                         reference_price=Decimal("300.00"), amount=Decimal("500.00"), income_gain=Decimal("100.00"),
                         buyer_saving=Decimal("100.00"), state="delivered",
                         delivered_at=datetime(2026, 3, 9, 4, 0, tzinfo=UTC)))
    session.flush()
    from reports.rollup_reads import rebuild

    rebuild(network.id)  # written behind the delivery service: its roll-ups recomputed
    user = User(network_id=network.id, email=f"committee-{uuid.uuid4().hex[:6]}@example.org", name="Committee",
                password_hash=generate_password_hash(PASSWORD), role="committee", session_version=0, active=True)
    session.add(user)
    session.flush()
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    session.commit()
    return network.id, {"Authorization": f"Bearer {token}"}


def _versions(session, network_id: int, month: str) -> list[int]:  # type: ignore[no-untyped-def]
    from reports.models import MonthlySummary

    session.remove()
    return list(session.scalars(select(MonthlySummary.version).where(
        MonthlySummary.network_id == network_id, MonthlySummary.month == month).order_by(MonthlySummary.version)))


def test_on_demand_rebuild_runs_on_the_worker_and_twice_is_one_version(worker_app, celery_worker, committed):
    network_id, headers = _seed(committed)
    client = worker_app.test_client()
    first = client.post(f"/api/v1/summaries/{MONTH}", headers=headers)
    assert first.status_code == 202, first.json
    assert wait_for_job(worker_app, first.json["job_id"]) == "succeeded"
    second = client.post(f"/api/v1/summaries/{MONTH}", headers=headers)
    assert second.status_code == 202 and second.json["job_id"] != first.json["job_id"]
    assert wait_for_job(worker_app, second.json["job_id"]) == "succeeded"
    job = client.get(f"/api/v1/jobs/{second.json['job_id']}", headers=headers).json
    assert job["result"] == {"network_id": network_id, "month": MONTH, "version": 1, "changed": False}
    assert _versions(committed, network_id, MONTH) == [1]
    body = client.get(f"/api/v1/summaries/{MONTH}", headers=headers).json
    assert (body["network"]["spend"], body["network"]["savings"], body["network"]["income_gain"],
            body["network"]["registered_poor_savings"]) == ("500.00", "100.00", "100.00", "50.00")

    # Two builds at once, after a review and a change that moves a figure: still exactly one new version.
    review = client.post(f"/api/v1/summaries/{MONTH}/review", headers=headers,
                         json={"meeting_date": "2026-04-04", "attendance": 9, "notes": "ok"})
    assert review.status_code == 200
    from core import jobs
    from network.models import Group
    from reports.services import SUMMARY_JOB

    group = committed.scalar(select(Group).where(Group.network_id == network_id, Group.registered_poor_members == 5))
    group.registered_poor_members = 2  # the reach to registered-poor households moves
    committed.commit()

    ids = []
    for _ in range(2):
        job = jobs.enqueue(SUMMARY_JOB, {"network_id": network_id, "month": MONTH}, network_id=network_id)
        ids.append(job.id)
    committed.commit()
    assert [wait_for_job(worker_app, i) for i in ids] == ["succeeded", "succeeded"]
    assert _versions(committed, network_id, MONTH) == [1, 2]


def test_the_beat_task_builds_last_month_on_the_worker_once(worker_app, celery_worker, committed):
    from core.models import Job
    from reports.services import enqueue_due_summaries

    network_id, _ = _seed(committed)
    now = datetime.now(UTC)
    local = now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Bangkok"))
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    last = f"{year:04d}-{month:02d}"
    key = f"summary:{network_id}:{last}:v1"

    # The beat's own task, sent to the worker like celery beat would send it.
    worker_app.extensions["celery"].send_task("ruamsue.build_due_summaries")
    deadline = time.monotonic() + 60
    job_id = None
    while job_id is None and time.monotonic() < deadline:
        committed.remove()
        job_id = committed.scalar(select(Job.id).where(Job.dedupe_key == key))
        time.sleep(0.2)
    assert job_id is not None, "the beat task did not enqueue last month's summary"
    assert wait_for_job(worker_app, job_id) == "succeeded"
    assert _versions(committed, network_id, last) == [1]
    # A second beat (same hour, or a second beat process) enqueues nothing more.
    assert enqueue_due_summaries() == 0
    committed.remove()
    assert committed.scalar(select(func.count()).select_from(Job).where(Job.network_id == network_id)) == 1
