"""Senders racing for one delivery (the event's job, the periodic sweep, a job run twice) on the real
PostgreSQL, sending over SMTP to a real server on 127.0.0.1: the claim (``pending`` -> ``sending``, one
conditional UPDATE in ``notifications.sending.send_one``) lets exactly one of them send.

Without the claim's ``state = 'pending'`` condition, a sender that read the delivery as pending before
another claimed it waits for that claim's commit and then claims it again: the message goes out twice.
This test fails when that condition is removed (tried and seen).
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.notify_support import Mailbox, smtp_server

SENDERS = 4  # senders of one delivery released together
ROUNDS = 15  # deliveries raced one after the other: enough that, unguarded, some always send twice


@pytest.fixture
def mailbox(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with smtp_server() as box:
        monkeypatch.setitem(app.config, "MAIL_SERVER", box.host)
        monkeypatch.setitem(app.config, "MAIL_PORT", box.port)
        yield box


def _deliveries(session: Any, count: int) -> list[int]:
    """Committed: one user with e-mail on and no quiet hours, and ``count`` e-mail deliveries due now."""
    from core.clock import utcnow
    from network.models import Network, User
    from notifications.models import Delivery, Notification, NotificationSettings

    tag = uuid.uuid4().hex[:8]
    network = Network(name=f"Claim race {tag}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    session.add(network)
    session.flush()
    user = User(network_id=network.id, email=f"committee-{tag}@example.org", name="กรรมการ", role="committee",
                password_hash="x", session_version=0, active=True)
    session.add(user)
    session.flush()
    # Equal ends: no quiet hours, so the test does not depend on the time of day.
    session.add(NotificationSettings(user_id=user.id, email=True, quiet_from=time(0, 0), quiet_until=time(0, 0)))
    due = utcnow() - timedelta(minutes=1)
    deliveries = []
    for i in range(count):
        notification = Notification(network_id=network.id, user_id=user.id, event_key=f"payment_recorded:{i}",
                                    kind="payment_recorded", title=f"Payment {i}", body="Recorded.", link="/")
        session.add(notification)
        session.flush()
        delivery = Delivery(notification_id=notification.id, network_id=network.id, user_id=user.id,
                            event_key=notification.event_key, channel="email", state="pending", attempts=0,
                            next_attempt_at=due)
        session.add(delivery)
        deliveries.append(delivery)
    session.commit()
    return [d.id for d in deliveries]


def _race(app: Any, delivery_id: int) -> list[str]:
    """``send_one`` from SENDERS threads, each with its own session and connection, all at once."""
    from core.db import db
    from notifications.sending import send_one

    outcomes: list[str] = [""] * SENDERS
    barrier = threading.Barrier(SENDERS)

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                outcomes[i] = send_one(delivery_id)
            except Exception as exc:  # noqa: BLE001 - reported in the main thread
                outcomes[i] = repr(exc)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sender was still running after 60 s"
    return outcomes


def test_senders_racing_for_one_delivery_send_it_once(app: Any, committed: Any, mailbox: Mailbox) -> None:
    from sqlalchemy import select

    from notifications.models import Delivery

    ids = _deliveries(committed, ROUNDS)
    twice: list[tuple[int, list[str], int]] = []
    for delivery_id in ids:
        outcomes = _race(app, delivery_id)
        assert all(o in ("sent", "taken", "not_due") for o in outcomes), outcomes
        received = sum(1 for m in mailbox.received() if m["Message-ID"].startswith(f"<notification-{delivery_id}@"))
        if outcomes.count("sent") != 1 or received != 1:
            twice.append((delivery_id, outcomes, received))
    committed.expire_all()
    rows = committed.execute(select(Delivery.state, Delivery.attempts).where(Delivery.id.in_(ids))).all()
    # Exactly one sender sent each message, and the mail server got it exactly once.
    assert not twice, f"{len(twice)} of {ROUNDS} deliveries went out more than once (id, outcomes, e-mails): {twice[:3]}"
    assert sorted(rows) == [("sent", 1)] * ROUNDS
