"""Celery beat task of notifications: thin, idempotent, a call into the sender."""
from __future__ import annotations

from celery import shared_task

from core.db import db


@shared_task(name="ruamsue.send_due_notifications")
def send_due_notifications() -> dict[str, int]:
    """Every minute: messages held by quiet hours, and retries whose back-off has passed."""
    from notifications.sending import send_due

    try:
        return send_due()
    finally:
        db.session.remove()
