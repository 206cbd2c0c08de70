"""The kernel's Celery tasks: run a job of the outbox, re-send stale jobs. Each is one call into core.jobs."""
from __future__ import annotations

from celery import Task, shared_task
from flask import current_app

from core import jobs
from core.db import db


@shared_task(name="ruamsue.run_job", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job_task(self: Task[[str], str], job_id: str) -> str:
    try:
        state = jobs.run_job(job_id)
    finally:
        db.session.remove()
    if state == "retry":
        # Exponential back-off with jitter (JOB_RETRY_BASE, JOB_RETRY_MAX), the same rule as the thread mode.
        raise self.retry(countdown=jobs.backoff_seconds(self.request.retries + 1))
    return state


@shared_task(name="ruamsue.dispatch_stale_jobs")
def dispatch_stale_jobs() -> int:
    try:
        return jobs.dispatch_stale(current_app._get_current_object())  # type: ignore[attr-defined]
    finally:
        db.session.remove()
