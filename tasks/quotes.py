"""Celery beat task of the quotes domain: thin, idempotent, one call into the service."""
from __future__ import annotations

from celery import shared_task

from core.db import db
from quotes import events


@shared_task(name="ruamsue.announce_closed_requests")
def announce_closed_requests() -> int:
    """Every five minutes: tell the committee of requests for quotation whose closing time has passed."""
    try:
        return events.announce_closed_requests()
    finally:
        db.session.remove()
