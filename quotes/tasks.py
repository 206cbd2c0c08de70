"""Celery beat task of the quotes domain: thin, idempotent, a call into the service."""
from __future__ import annotations

from celery import shared_task

from core.db import db


@shared_task(name="ruamsue.announce_closed_requests")
def announce_closed_requests() -> int:
    """Every five minutes: tell the committee of requests for quotation whose closing time has passed."""
    from quotes.events import announce_closed_requests as announce

    try:
        return announce()
    finally:
        db.session.remove()
