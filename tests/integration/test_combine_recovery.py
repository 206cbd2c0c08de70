"""A failed combine can be recovered (issue 11, point 2), on real workers and in the embedded thread mode.

Transient failures (a lock held elsewhere past ``RUAMSUE_COMBINE_LOCK_TIMEOUT``) retry with exponential
back-off and jitter; after ``JOB_MAX_ATTEMPTS`` the round is ``combine_failed`` with the reason in plain
words; a permanent failure (tiers that break the rules) fails at once; after the fix,
``POST /api/v1/rounds/<id>/combine`` gives the same purchase orders as a clean run."""
from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from core.models import Job
from orders.models import Allocation, BuyingRound, PriceTier, PurchaseOrder
from tests.conftest import _make_app, start_worker, wait_for_job
from tests.support import expected_allocations, seed_round

pytestmark = [pytest.mark.worker, pytest.mark.timeout(300)]

ENV = {"RUAMSUE_COMBINE_LOCK_TIMEOUT": "0.5", "JOB_RETRY_BASE": "1", "JOB_RETRY_MAX": "4", "JOB_MAX_ATTEMPTS": "3"}


@pytest.fixture
def own_worker(database, tmp_path):  # type: ignore[no-untyped-def]
    """An app and a worker on a queue of their own, with short lock timeouts and back-offs."""
    from core.db import db

    queue = f"ruamsue-recovery-{uuid.uuid4().hex[:8]}"
    app = _make_app(database, queue=queue, JOBS_MODE="celery", COMBINE_LOCK_TIMEOUT=0.5, JOB_RETRY_BASE=1.0,
                    JOB_RETRY_MAX=4.0, JOB_MAX_ATTEMPTS=3)
    log = tmp_path / "worker.log"
    worker = start_worker(database, concurrency=1, extra_env=ENV, log=log, queue=queue)
    try:
        yield app, log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except Exception:  # noqa: BLE001
            worker.kill()
        with app.app_context():
            db.engine.dispose()


def _plain_url(database: str) -> str:
    return database.replace("postgresql+psycopg://", "postgresql://")


def _job(session: Any, job_id: str) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_transient_failure_retries_after_a_back_off_then_succeeds(own_worker, committed, database):  # type: ignore[no-untyped-def]
    app, log = own_worker
    seeded = seed_round(committed, groups=12, offers=4, suppliers=2)
    round_id = seeded["round_id"]
    with psycopg.connect(_plain_url(database)) as blocker:
        blocker.execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
        closed = app.test_client().post(f"/api/v1/rounds/{round_id}/close", headers=seeded["committee"])
        assert closed.status_code == 202
        job_id = closed.json["job_id"]
        # The first attempt times out on the lock and waits for its back-off, pending.
        _wait(lambda: _job(committed, job_id).attempts >= 1 and _job(committed, job_id).state == "pending",
              60, "the first attempt did not fail and wait")
        first_start = _job(committed, job_id).started_at
        assert "lock" in (_job(committed, job_id).error or "").lower()
        committed.rollback()
        blocker.rollback()  # the lock goes: the retry can succeed
    assert wait_for_job(app, job_id, timeout=60) == "succeeded", log.read_text(errors="replace")[-2000:]
    job = _job(committed, job_id)
    assert job.attempts == 2
    # Not retried in milliseconds: attempt 1 waited 0.5 s for the lock, then a back-off of at least half the
    # base (1 s, jittered) passed before attempt 2 started.
    assert (job.started_at - first_start).total_seconds() >= 0.95
    assert committed.get(BuyingRound, round_id).state == "combined"
    got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)
                                 .where(Allocation.round_id == round_id)).all())
    assert got == expected_allocations(committed, round_id)


def test_give_up_after_the_maximum_attempts_leaves_the_round_combine_failed(own_worker, committed, database):  # type: ignore[no-untyped-def]
    app, log = own_worker
    seeded = seed_round(committed, groups=6, offers=2, suppliers=2)
    round_id = seeded["round_id"]
    client = app.test_client()
    with psycopg.connect(_plain_url(database)) as blocker:
        blocker.execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
        started = time.monotonic()
        job_id = client.post(f"/api/v1/rounds/{round_id}/close", headers=seeded["committee"]).json["job_id"]
        state = wait_for_job(app, job_id, timeout=90)
        took = time.monotonic() - started
        blocker.rollback()
    assert state == "failed", log.read_text(errors="replace")[-2000:]
    job = _job(committed, job_id)
    assert job.attempts == 3
    # Two back-offs of at least 0.5 s and 1 s (base 1 s, jitter down to half): the attempts were spread out.
    assert took >= 1.5, took
    rnd = client.get(f"/api/v1/rounds/{round_id}", headers=seeded["committee"]).json
    assert rnd["state"] == "combine_failed"
    assert "3 times" in rnd["failure"] and "database" in rnd["failure"] and "Traceback" not in rnd["failure"]
    assert committed.scalar(select(PurchaseOrder.id).where(PurchaseOrder.round_id == round_id)) is None
    # The committee retries (the lock is gone): a new job, not the failed one handed back.
    again = client.post(f"/api/v1/rounds/{round_id}/combine", headers=seeded["committee"])
    assert again.status_code == 202 and again.json["job_id"] != job_id
    assert wait_for_job(app, again.json["job_id"], timeout=60) == "succeeded"
    committed.expire_all()
    assert committed.get(BuyingRound, round_id).state == "combined"
    assert committed.get(BuyingRound, round_id).failure is None


def _break_tiers(session: Any, offer_id: int) -> None:
    """Tiers that break the rules (the price rises), written past the service as old data could be."""
    tiers = session.scalars(select(PriceTier).where(PriceTier.offer_id == offer_id)).all()
    for tier in tiers:
        if tier.min_quantity > 0:
            tier.unit_price = Decimal("99.00")
    session.commit()


def _fix_tiers(session: Any, offer_id: int) -> None:
    for tier in session.scalars(select(PriceTier).where(PriceTier.offer_id == offer_id)).all():
        if tier.min_quantity > 0:
            tier.unit_price = Decimal("41.50")
    session.commit()


def test_a_permanent_failure_then_the_fix_then_retry_equals_a_clean_run(own_worker, committed):  # type: ignore[no-untyped-def]
    app, log = own_worker
    client = app.test_client()
    broken = seed_round(committed, groups=10, offers=4, suppliers=2)
    _break_tiers(committed, broken["offer_ids"][1])

    failed_job = client.post(f"/api/v1/rounds/{broken['round_id']}/close", headers=broken["committee"]).json["job_id"]
    assert wait_for_job(app, failed_job, timeout=60) == "failed"
    assert _job(committed, failed_job).attempts == 1, "a permanent failure was retried"
    rnd = client.get(f"/api/v1/rounds/{broken['round_id']}", headers=broken["committee"]).json
    assert rnd["state"] == "combine_failed" and "tier" in rnd["failure"]
    # The committee's page says why, with a button.
    from core.db import db
    from tests.integration.pages_helpers import login

    with app.app_context():
        from network.models import User

        member = db.session.scalar(select(User).where(User.email == broken["committee_email"]))
        pages = app.test_client()
        login(pages, member)
        html = pages.get(f"/rounds/{broken['round_id']}").get_data(as_text=True)
        db.session.remove()
    assert 'id="combine-failed"' in html and "tier" in html and "/combine" in html
    # A re-close does not hand back the failed job either; neither does the retry.
    _fix_tiers(committed, broken["offer_ids"][1])
    retry = client.post(f"/api/v1/rounds/{broken['round_id']}/combine", headers=broken["committee"])
    assert retry.status_code == 202 and retry.json["job_id"] != failed_job
    same = client.post(f"/api/v1/rounds/{broken['round_id']}/combine", headers=broken["committee"])
    assert same.json["job_id"] == retry.json["job_id"]  # idempotent
    assert wait_for_job(app, retry.json["job_id"], timeout=60) == "succeeded"
    committed.expire_all()
    assert committed.get(BuyingRound, broken["round_id"]).state == "combined"
    # The same purchase orders, lines, allocations and invoices as a clean run: every figure equal to the
    # pure pricing functions (which the combine equals on a clean run, tests/integration/test_combine_sql.py).
    from tests.integration.test_combine_sql import actual, reference

    expected, got = reference(committed, broken["round_id"]), actual(committed, broken["round_id"])
    for key in ("po_lines", "pos", "allocations", "invoices"):
        assert got[key] == expected[key], key
    assert len(got["pos"]) == 2
    # Once combined, asking again returns the finished job.
    assert client.post(f"/api/v1/rounds/{broken['round_id']}/combine",
                       headers=broken["committee"]).json["job_id"] == retry.json["job_id"]


def test_thread_mode_backs_off_too(database, committed):  # type: ignore[no-untyped-def]
    """The embedded mode (jobs in a thread of the web process) retries with the same back-off."""
    from core.db import db

    app = _make_app(database, JOBS_MODE="thread", COMBINE_LOCK_TIMEOUT=0.5, JOB_RETRY_BASE=1.0, JOB_RETRY_MAX=4.0,
                    JOB_MAX_ATTEMPTS=3)
    seeded = seed_round(committed, groups=6, offers=2, suppliers=2)
    round_id = seeded["round_id"]
    try:
        with psycopg.connect(_plain_url(database)) as blocker:
            blocker.execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
            job_id = app.test_client().post(f"/api/v1/rounds/{round_id}/close",
                                            headers=seeded["committee"]).json["job_id"]
            _wait(lambda: _job(committed, job_id).attempts >= 1 and _job(committed, job_id).state == "pending",
                  30, "the first attempt did not fail and wait")
            first_start = _job(committed, job_id).started_at
            committed.rollback()
            time.sleep(0.2)
            assert _job(committed, job_id).attempts == 1, "retried at once, without a back-off"
            committed.rollback()
            blocker.rollback()
        assert wait_for_job(app, job_id, timeout=30) == "succeeded"
        job = _job(committed, job_id)
        assert job.attempts == 2
        assert (job.started_at - first_start).total_seconds() >= 0.95
    finally:
        with app.app_context():
            db.engine.dispose()
