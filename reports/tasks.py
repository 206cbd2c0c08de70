"""Celery beat task of the reports domain: thin, idempotent, a call into the service."""
from __future__ import annotations

from celery import shared_task

from core.db import db


@shared_task(name="ruamsue.build_due_summaries")
def build_due_summaries() -> int:
    """Hourly: each network whose clock has reached the 1st gets last month's summary built once."""
    from reports.services import enqueue_due_summaries

    try:
        return enqueue_due_summaries()
    finally:
        db.session.remove()
