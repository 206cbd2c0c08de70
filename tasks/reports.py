"""Celery beat task of the reports domain: thin, idempotent, one call into the service."""
from __future__ import annotations

from celery import shared_task

from core.db import db
from reports import services


@shared_task(name="ruamsue.build_due_summaries")
def build_due_summaries() -> int:
    """Hourly: each network whose clock has reached the 1st gets last month's summary built once."""
    try:
        return services.enqueue_due_summaries()
    finally:
        db.session.remove()
