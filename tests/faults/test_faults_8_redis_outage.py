"""Redis stopped for ~30 s while leaders place orders through the API (and the committee closes a round):
orders commit, nothing answers 500, and the round's combine job runs once Redis is back (dispatch_stale).

Stops the machine's Redis (it is restarted in ``finally``): run in its own CI step, after the main suite."""
from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from core.models import Job
from orders.models import BuyingRound, GroupOrder, OrderLine
from tests.conftest import wait_for_job
from tests.faults._support import (
    ensure_redis,
    fault_app,
    new_queue,
    redis_up,
    seed_round,
    start_beat,
    start_worker,
    stop,
    wait_for_log,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
OUTAGE = float(os.environ.get("FAULTS_REDIS_OUTAGE", "30"))


def _db_order(session, round_id: int, group_id: int) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return dict(session.execute(
        select(OrderLine.offer_id, OrderLine.quantity).join(GroupOrder, GroupOrder.id == OrderLine.group_order_id)
        .where(GroupOrder.round_id == round_id, GroupOrder.group_id == group_id)).all())


def test_redis_down_orders_still_commit_and_jobs_run_after(database, committed, tmp_path):
    queue = new_queue()
    env = {"RUAMSUE_BEAT_INTERVAL": "2", "JOB_STALE_AFTER": "3"}
    # The rate limiter on, storing in Redis like production: its outage must not break a login.
    app = fault_app(database, queue, env, RATELIMIT_ENABLED=True)
    ordering = seed_round(committed, groups=8, offers=3, with_orders=False, leaders=True)
    closing = seed_round(committed, groups=30, offers=3, suppliers=2)
    round_id = ordering["round_id"]
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = start_worker(database, queue, worker_log, concurrency=2, extra_env=env)
    beat = start_beat(database, queue, beat_log, tmp_path / "schedule", extra_env=env)
    statuses: list[int] = []
    acknowledged: dict[int, dict[int, int]] = {}
    slowest = [0.0]
    lock = threading.Lock()
    stop_at = [0.0]

    def leader(group_id: int) -> None:
        client = app.test_client()
        n = 0
        while time.monotonic() < stop_at[0]:
            n += 1
            lines = [{"offer_id": o, "quantity": n + i, "tolerance": 0} for i, o in enumerate(ordering["offer_ids"])]
            started = time.monotonic()
            response = client.put(f"/api/v1/rounds/{round_id}/orders/{group_id}", json={"lines": lines},
                                  headers={**ordering["leaders"][group_id], "Idempotency-Key": str(uuid.uuid4())})
            with lock:
                slowest[0] = max(slowest[0], time.monotonic() - started)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    acknowledged[group_id] = {x["offer_id"]: x["quantity"] for x in lines}
            time.sleep(0.1)

    try:
        wait_for_log(worker_log, "ready.")
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False,
                       capture_output=True)
        deadline = time.monotonic() + 10
        while redis_up():
            assert time.monotonic() < deadline, "Redis did not stop"
            time.sleep(0.1)
        outage_started = time.monotonic()
        stop_at[0] = outage_started + OUTAGE
        threads = [threading.Thread(target=leader, args=(g,)) for g in ordering["group_ids"]]
        for t in threads:
            t.start()
        # The committee closes a round during the outage: the close commits; its job waits for Redis.
        time.sleep(2)
        started = time.monotonic()
        closed = client.post(f"/api/v1/rounds/{closing['round_id']}/close", headers=closing["committee"])
        close_seconds = time.monotonic() - started
        assert closed.status_code == 202, closed.get_data(as_text=True)
        job_id = closed.json["job_id"]
        # Logging in (rate-limited, limiter storage in Redis) still works.
        token = client.post("/api/v1/tokens", json={"email": closing["committee_email"], "password": "correct-horse-9"})
        assert token.status_code == 201, token.get_data(as_text=True)
        # Readiness names the broker that is down (the database is fine), while orders are still served.
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json() == {"database": "ok", "broker": "unavailable"}
        assert client.get("/healthz").status_code == 200
        for t in threads:
            t.join(OUTAGE + 30)
        outage = time.monotonic() - outage_started
    finally:
        ensure_redis()
    try:
        assert statuses and set(statuses) <= {200, 503}, sorted(set(statuses))
        assert 500 not in statuses
        # Orders are written to PostgreSQL, not Redis: during the outage they must commit, every group's.
        # (A run where every write got 503 would otherwise pass: nothing acknowledged, nothing to compare.)
        assert statuses.count(200) >= len(ordering["group_ids"]), (
            f"only {statuses.count(200)} of {len(statuses)} order writes committed while Redis was down")
        assert set(acknowledged) == set(ordering["group_ids"]), "a group never got an order through"
        print(f"\nRedis down {outage:.0f} s: {len(statuses)} order writes, {statuses.count(200)} committed, "
              f"{statuses.count(503)} answered 503; slowest {slowest[0]:.2f} s; close took {close_seconds:.2f} s")
        committed.expire_all()
        assert committed.get(BuyingRound, closing["round_id"]).state == "closed"
        for group_id, lines in acknowledged.items():
            assert lines and _db_order(committed, round_id, group_id) == lines
        committed.rollback()
        # Redis is back: the beat's dispatch_stale re-sends the job and the worker runs it, once.
        assert wait_for_job(app, job_id, timeout=90) == "succeeded"
        committed.expire_all()
        assert committed.get(BuyingRound, closing["round_id"]).state == "combined"
        job = committed.get(Job, job_id)
        assert job.attempts == 1, job.attempts
        assert worker.poll() is None and beat.poll() is None, "a worker or beat died with Redis"
    finally:
        stop(beat)
        stop(worker)
