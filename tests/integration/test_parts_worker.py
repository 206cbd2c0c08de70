"""The automatic per-supplier split on real Celery workers: a round of at least
``RUAMSUE_COMBINE_PARTS_MIN_LINES`` lines is combined as one part job per supplier, which the workers
share, and the result equals ``pricing/`` line by line. (A worker killed during the parts is in
tests/faults/test_faults_1_jobs.py: it kills processes, so it runs in its own CI step.)"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from core.models import Job
from orders.models import Allocation, BuyingRound, PurchaseOrder
from tests.conftest import _make_app, start_worker, wait_for_job
from tests.support import expected_allocations, seed_round

pytestmark = [pytest.mark.worker, pytest.mark.timeout(240)]


@pytest.fixture
def parts_queue(database, tmp_path):  # type: ignore[no-untyped-def]
    """An app and two workers of their own, on their own queue, configured to split small rounds."""
    from core.db import db

    queue = f"ruamsue-parts-{uuid.uuid4().hex[:8]}"
    app = _make_app(database, queue=queue, JOBS_MODE="celery")
    env = {"RUAMSUE_COMBINE_PARTS_MIN_LINES": "10"}
    log = tmp_path / "parts-worker.log"
    workers = [start_worker(database, concurrency=2, extra_env=env, log=log, queue=queue) for _ in range(2)]
    try:
        yield app, log
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except Exception:  # noqa: BLE001
                worker.kill()
        with app.app_context():
            db.engine.dispose()


def test_a_large_round_is_split_per_supplier_on_real_workers(parts_queue, committed):
    app, log = parts_queue
    seeded = seed_round(committed, groups=40, offers=6, suppliers=3)
    round_id = seeded["round_id"]
    client = app.test_client()
    closed = client.post(f"/api/v1/rounds/{round_id}/close", headers=seeded["committee"])
    assert closed.status_code == 202, closed.get_data(as_text=True)
    job_id = closed.json["job_id"]
    state = wait_for_job(app, job_id, timeout=120)
    committed.expire_all()
    job = committed.get(Job, job_id)
    assert state == "succeeded", (job.error, log.read_text(errors="replace")[-3000:])
    # The coordinator split it: one part per supplier, recorded as jobs, each finished.
    assert job.result["parts"] == 3, job.result
    parts = committed.scalars(select(Job).where(Job.kind == "combine_round_part",
                                                Job.dedupe_key.like(f"combine:{round_id}:%"))).all()
    assert len(parts) == 3
    assert committed.scalar(select(func.count()).select_from(PurchaseOrder)
                            .where(PurchaseOrder.round_id == round_id)) == 3
    assert committed.get(BuyingRound, round_id).state == "combined"
    got = dict(committed.execute(select(Allocation.order_line_id, Allocation.allocated)
                                 .where(Allocation.round_id == round_id)).all())
    assert len(got) == 40 * 6
    assert got == expected_allocations(committed, round_id)
