"""Jobs on a real Celery worker over the real Redis broker, against committed PostgreSQL data."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.models import Job
from orders.models import (
    Allocation,
    BuyingRound,
    PurchaseOrder,
)
from tests.conftest import wait_for_job
from tests.support import expected_allocations, seed_round

pytestmark = pytest.mark.worker


def _network_with_round(session, *, groups: int, offers: int, suppliers: int = 2):
    seeded = seed_round(session, groups=groups, offers=offers, suppliers=suppliers)
    return seeded["round_id"], seeded["committee"]


def test_close_runs_the_combine_on_a_real_worker(worker_app, committed, celery_worker):
    round_id, headers = _network_with_round(committed, groups=30, offers=4)
    client = worker_app.test_client()
    response = client.post(f"/api/v1/rounds/{round_id}/close", headers=headers)
    assert response.status_code == 202
    job_id = response.json["job_id"]
    assert wait_for_job(worker_app, job_id) == "succeeded"
    body = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert body["state"] == "succeeded" and body["result"]["purchase_orders"] == 2
    assert client.get(f"/api/v1/rounds/{round_id}", headers=headers).json["state"] == "combined"
    got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)).all())
    assert got == expected_allocations(committed, round_id)
    # Asking again starts nothing new and changes nothing.
    again = client.post(f"/api/v1/rounds/{round_id}/close", headers=headers)
    assert again.status_code == 202 and again.json["job_id"] == job_id
    assert committed.scalar(select(func.count()).select_from(PurchaseOrder)) == 2


def test_beat_task_closes_due_rounds_and_combines(worker_app, committed, celery_worker):
    round_id, _ = _network_with_round(committed, groups=5, offers=2)
    rnd = committed.get(BuyingRound, round_id)
    rnd.closes_at = datetime.now(UTC) - timedelta(seconds=1)
    committed.commit()
    # The beat entry's task, sent through the broker exactly as beat sends it.
    celery = worker_app.extensions["celery"]
    celery.send_task("ruamsue.close_due_rounds", queue=celery.conf.task_default_queue)
    deadline = time.monotonic() + 60
    job = None
    while time.monotonic() < deadline:
        committed.expire_all()
        job = committed.scalar(select(Job).where(Job.dedupe_key == f"combine:{round_id}"))
        if job is not None and job.state == "succeeded":
            break
        time.sleep(0.3)
    assert job is not None and job.state == "succeeded"
    committed.expire_all()
    assert committed.get(BuyingRound, round_id).state == "combined"


def test_worker_killed_mid_combine_completes_once(worker_app, committed, celery_worker):
    """kill -9 of the worker children during the combine: the job re-runs, one purchase order per supplier."""
    import psycopg

    round_id, headers = _network_with_round(committed, groups=2500, offers=12, suppliers=3)
    client = worker_app.test_client()
    url = worker_app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")
    # Hold the allocations table so the combine is certainly caught mid-way, after it has begun writing.
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE allocations IN EXCLUSIVE MODE")
        job_id = client.post(f"/api/v1/rounds/{round_id}/close", headers=headers).json["job_id"]
        assert wait_for_job(worker_app, job_id, timeout=60, states=("running", "succeeded")) == "running"
        time.sleep(1.0)
        children = subprocess.run(["pgrep", "-P", str(celery_worker.pid)], capture_output=True, text=True,
                                  check=False).stdout.split()
        assert children, "the worker has no child process to kill"
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        blocker.rollback()
    # The prefork master replaces its children; the message, never acknowledged, is delivered again.
    assert wait_for_job(worker_app, job_id, timeout=180) == "succeeded"
    committed.expire_all()
    job = committed.get(Job, job_id)
    assert job.attempts >= 2, "the kill landed after the job finished; the test proved nothing"
    assert committed.scalar(select(func.count()).select_from(PurchaseOrder)) == 3
    got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)).all())
    assert len(got) == 2500 * 12
    assert got == expected_allocations(committed, round_id)
