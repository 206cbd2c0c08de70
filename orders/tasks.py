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


@shared_task(name="ruamsue.remind_closing_rounds")
def remind_closing_rounds() -> int:
    """Every five minutes: leaders of groups with no order in a round closing within 24 hours."""
    from orders.events import remind_closing_rounds as remind

    try:
        return remind()
    finally:
        db.session.remove()
