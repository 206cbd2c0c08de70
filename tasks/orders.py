"""Celery beat tasks of the orders domain: thin, idempotent, one call into the service."""
from __future__ import annotations

from celery import shared_task

from core.db import db
from orders import events, services


@shared_task(name="ruamsue.close_due_rounds")
def close_due_rounds() -> int:
    """Every minute: close the rounds whose deadline has passed (each close enqueues its combine job)."""
    try:
        return services.close_due_rounds()
    finally:
        db.session.remove()


@shared_task(name="ruamsue.remind_closing_rounds")
def remind_closing_rounds() -> int:
    """Every five minutes: leaders of groups with no order in a round closing within 24 hours."""
    try:
        return events.remind_closing_rounds()
    finally:
        db.session.remove()
