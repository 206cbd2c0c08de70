"""Jobs under faults, with real worker and beat processes on the real Redis and PostgreSQL:
kill -9 of a whole worker (main process and children) mid-combine, and two beat processes at once."""
from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from core.models import Job
from orders.models import Allocation, BuyingRound, Invoice, PurchaseOrder
from tests.conftest import wait_for_job
from tests.faults._support import (
    expected_allocations,
    fault_app,
    new_queue,
    seed_round,
    start_beat,
    start_worker,
    stop,
    wait_for_log,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

# Redis hands an unacknowledged message to another worker after this long; no task may run longer.
SHORT = {"CELERY_VISIBILITY_TIMEOUT": "10", "CELERY_TASK_TIME_LIMIT": "8", "CELERY_UNACKED_RESTORE_INTERVAL": "2"}


def _waiting_on_lock(database: str) -> list[int]:
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        # By the lock it waits for, not by its text: PostgreSQL keeps only the first 1 kB of a query,
        # and the combine's statement names its table after a long list of constants.
        rows = conn.execute(
            "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND relation = 'allocations'::regclass "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchall()
    return [r[0] for r in rows]


def test_whole_worker_killed_mid_combine_then_a_new_worker_completes_it_once(database, committed, tmp_path):
    queue = new_queue()
    app = fault_app(database, queue, SHORT)
    data = seed_round(committed, groups=300, offers=6, suppliers=3)
    round_id = data["round_id"]
    log = tmp_path / "worker.log"
    first = start_worker(database, queue, log, extra_env=SHORT)
    second = None
    # The combine is held right where it writes allocations (purchase orders already flushed): a lock
    # taken by this test, so the kill lands mid-combine every time, however fast the combine gets.
    blocker = None
    try:
        blocker = psycopg.connect(database, autocommit=False)
        wait_for_log(log, "ready.")
        blocker.execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
        response = app.test_client().post(f"/api/v1/rounds/{round_id}/close", headers=data["committee"])
        assert response.status_code == 202, response.get_data(as_text=True)
        job_id = response.json["job_id"]
        assert wait_for_job(app, job_id, timeout=30, states=("running", "succeeded", "failed")) == "running"
        deadline = time.monotonic() + 20
        while not _waiting_on_lock(database):
            assert time.monotonic() < deadline, "the combine never reached its allocation insert"
            time.sleep(0.1)

        # kill -9 the main worker process and its children at once: nothing acknowledges the message.
        stop(first, signal.SIGKILL)
        blocker.rollback()
        blocker.close()
        time.sleep(1.0)
        committed.expire_all()
        assert committed.get(Job, job_id).state == "running"
        assert committed.scalar(select(func.count()).select_from(PurchaseOrder)
                                .where(PurchaseOrder.round_id == round_id)) == 0, "a partial combine was committed"
        committed.rollback()

        # A new worker: Redis gives it the unacknowledged message once the visibility timeout has passed.
        second = start_worker(database, queue, log, extra_env=SHORT)
        assert wait_for_job(app, job_id, timeout=90) == "succeeded"
        time.sleep(12)  # past another visibility timeout: nothing is delivered a third time
        committed.expire_all()
        job = committed.get(Job, job_id)
        assert job.state == "succeeded" and job.attempts == 2, (job.state, job.attempts)
        assert committed.get(BuyingRound, round_id).state == "combined"
        pos = committed.execute(select(PurchaseOrder.supplier_id).where(PurchaseOrder.round_id == round_id)).all()
        assert sorted(s for (s,) in pos) == sorted(data["supplier_ids"])  # one per supplier, no more
        got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)
                                     .where(Allocation.round_id == round_id)).all())
        assert len(got) == 300 * 6
        assert got == expected_allocations(committed, round_id)
        assert committed.scalar(select(func.count()).select_from(Invoice).where(Invoice.round_id == round_id)) == 300
        # The combine once, and once the job that then tells the groups (no job of a part, none twice).
        kinds = dict(committed.execute(select(Job.kind, func.count()).group_by(Job.kind)).all())
        assert kinds == {"combine_round": 1, "orders.announce_combined": 1}, kinds
    finally:
        if blocker is not None and not blocker.closed:
            blocker.close()
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)


def test_two_beat_processes_for_two_intervals_do_each_scheduled_thing_once(database, committed, tmp_path):
    from network.models import Network
    from reports.models import MonthlySummary

    queue = new_queue()
    interval = 3
    env = {"RUAMSUE_BEAT_INTERVAL": str(interval)}
    app = fault_app(database, queue, env)
    past = datetime.now(UTC) - timedelta(minutes=5)
    first = seed_round(committed, groups=40, offers=4, suppliers=2, closes_at=past)
    network = committed.get(Network, first["network_id"])
    # The network existed last month, so last month's summary is due on every beat.
    network.created_at = datetime.now(UTC) - timedelta(days=70)
    committed.commit()
    others = [seed_round(committed, groups=20, offers=3, suppliers=2, closes_at=past, network=network)
              for _ in range(2)]
    rounds = [first, *others]
    worker_log, beat_logs = tmp_path / "worker.log", [tmp_path / "beat1.log", tmp_path / "beat2.log"]
    worker = start_worker(database, queue, worker_log, concurrency=4, extra_env=env)
    beats = []
    try:
        wait_for_log(worker_log, "ready.")
        beats = [start_beat(database, queue, beat_logs[i], tmp_path / f"schedule{i}", extra_env=env) for i in range(2)]
        # Two intervals of both beats: each sends every entry at least twice.
        for beat_log in beat_logs:
            wait_for_log(beat_log, "Sending due task close-due-rounds", timeout=30, count=2)
            wait_for_log(beat_log, "Sending due task build-due-summaries", timeout=30, count=2)
        for b in beats:
            stop(b)
        deadline = time.monotonic() + 60
        while True:
            committed.expire_all()
            states = committed.scalars(select(Job.state)).all()
            if len(states) >= 4 and all(s == "succeeded" for s in states):
                break
            assert time.monotonic() < deadline, f"jobs did not finish: {states}"
            committed.rollback()
            time.sleep(0.3)

        for data in rounds:
            rid = data["round_id"]
            assert committed.get(BuyingRound, rid).state == "combined"
            jobs = committed.scalars(select(Job).where(Job.dedupe_key == f"combine:{rid}")).all()
            assert len(jobs) == 1 and jobs[0].attempts == 1, [(j.id, j.attempts) for j in jobs]
            assert committed.scalar(select(func.count()).select_from(PurchaseOrder)
                                    .where(PurchaseOrder.round_id == rid)) == 2
            got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)
                                         .where(Allocation.round_id == rid)).all())
            assert got == expected_allocations(committed, rid)
        summaries = committed.execute(select(MonthlySummary.month, MonthlySummary.version)
                                      .where(MonthlySummary.network_id == network.id)).all()
        assert len(summaries) == 1 and summaries[0].version == 1, summaries
        summary_jobs = committed.scalars(select(Job).where(Job.dedupe_key.like(f"summary:{network.id}:%"))).all()
        assert len(summary_jobs) == 1 and summary_jobs[0].attempts == 1
        kinds = dict(committed.execute(select(Job.kind, func.count()).group_by(Job.kind)).all())
        assert kinds == {"combine_round": len(rounds), "orders.announce_combined": len(rounds),
                         "build_summary": 1}, kinds
        # Both beats really sent (the worker ran their close-due-rounds tasks).
        assert open(worker_log).read().count("ruamsue.close_due_rounds") >= 4
    finally:
        for b in beats:
            stop(b)
        stop(worker)
        del app


def test_worker_killed_during_per_supplier_parts_then_a_new_worker_completes_the_round(database, committed, tmp_path):
    """The automatic split (a small ``RUAMSUE_COMBINE_PARTS_MIN_LINES``): the coordinator and the part jobs are
    mid-write when the whole worker is killed; a new worker finishes every part once and the round once."""
    queue = new_queue()
    env = {**SHORT, "RUAMSUE_COMBINE_PARTS_MIN_LINES": "10"}
    app = fault_app(database, queue, env)
    data = seed_round(committed, groups=200, offers=6, suppliers=3)
    round_id = data["round_id"]
    log = tmp_path / "worker.log"
    first = start_worker(database, queue, log, concurrency=4, extra_env=env)
    second = None
    blocker = None
    try:
        blocker = psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://"), autocommit=False)
        wait_for_log(log, "ready.")
        blocker.execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
        response = app.test_client().post(f"/api/v1/rounds/{round_id}/close", headers=data["committee"])
        assert response.status_code == 202, response.get_data(as_text=True)
        job_id = response.json["job_id"]
        # Parts are published and at least two are held at their allocation insert.
        deadline = time.monotonic() + 30
        while len(_waiting_on_lock(database)) < 2:
            assert time.monotonic() < deadline, "the parts never reached their allocation insert"
            time.sleep(0.1)
        committed.expire_all()
        parts = committed.scalars(select(Job).where(Job.kind == "combine_round_part")).all()
        assert len(parts) == 3, "the round was not split per supplier"
        committed.rollback()

        stop(first, signal.SIGKILL)
        blocker.rollback()
        blocker.close()
        time.sleep(1.0)
        committed.expire_all()
        assert committed.scalar(select(func.count()).select_from(Allocation)
                                .where(Allocation.round_id == round_id)) == 0, "a killed part committed"
        committed.rollback()

        second = start_worker(database, queue, log, concurrency=4, extra_env=env)
        assert wait_for_job(app, job_id, timeout=120) == "succeeded"
        time.sleep(12)  # past another visibility timeout: nothing runs a third time
        committed.expire_all()
        assert committed.get(BuyingRound, round_id).state == "combined"
        pos = committed.execute(select(PurchaseOrder.supplier_id).where(PurchaseOrder.round_id == round_id)).all()
        assert sorted(s for (s,) in pos) == sorted(data["supplier_ids"])
        got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)
                                     .where(Allocation.round_id == round_id)).all())
        assert len(got) == 200 * 6
        assert got == expected_allocations(committed, round_id)
        assert committed.scalar(select(func.count()).select_from(Invoice).where(Invoice.round_id == round_id)) == 200
        part_states = committed.scalars(select(Job.state).where(Job.kind == "combine_round_part")).all()
        assert sorted(part_states) == ["succeeded"] * 3, part_states
    finally:
        if blocker is not None and not blocker.closed:
            blocker.close()
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)
