"""Celery beat task of the orders domain: thin, idempotent, a call into the service."""
from __future__ import annotations

from celery import shared_task

from core.db import db


@shared_task(name="ruamsue.close_due_rounds")
def close_due_rounds() -> int:
    """Every minute: close the rounds whose deadline has passed (each close enqueues its combine job)."""
    from orders.services import close_due_rounds as close

    try:
        return close()
    finally:
        db.session.remove()
