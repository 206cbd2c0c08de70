"""Celery beat task of notifications: thin, idempotent, one call into the sender."""
from __future__ import annotations

from celery import shared_task

from core.db import db
from notifications import sending


@shared_task(name="ruamsue.send_due_notifications")
def send_due_notifications() -> dict[str, int]:
    """Every minute: messages held by quiet hours, and retries whose back-off has passed."""
    try:
        return sending.send_due()
    finally:
        db.session.remove()
