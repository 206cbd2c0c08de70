"""Orders racing the close, looked at the moment the close commits, on the real PostgreSQL: once a close
has committed, no order of the round changes any more.

The close takes the round's gate alone (``_round_gate(..., exclusive=True)`` in ``orders.services._close``)
and order writes share it, so the close waits for the writes in progress and later writes see the round
closed. Without that lock a write whose statement began before the close committed still commits after
it: the orders the close (and a combine starting right then) saw are not the orders acknowledged to the
leaders. This test fails when the close's lock is removed (tried and seen); ``test_deadline_race.py``
checks the combine's result once everything settled, which such a straggler does not change.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.support import seed_round

LEADERS = 8  # leaders writing their group's order over and over while the committee closes
ROUNDS = 16  # rounds raced one after the other: unguarded, about half of them show a write after the close
# Each leader's commit waits this long after its write (a busy server): it widens the moment between an
# order's statement and its commit, the moment the close's lock guards, so the close lands in it often.
SLOW_COMMIT = 0.005
_leader_thread = threading.local()


@pytest.fixture
def slow_leader_commits() -> Iterator[None]:
    def pause(session: Session) -> None:
        if getattr(_leader_thread, "on", False):
            time.sleep(SLOW_COMMIT)

    event.listen(Session, "before_commit", pause)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", pause)


def _orders(session: Any, round_id: int) -> dict[int, int]:
    """Each group's ordered quantity in the round (every order here has one line)."""
    from orders.models import GroupOrder, OrderLine

    rows = session.execute(
        select(GroupOrder.group_id, OrderLine.quantity).join(OrderLine, OrderLine.group_order_id == GroupOrder.id)
        .where(GroupOrder.round_id == round_id)).all()
    return {group_id: quantity for group_id, quantity in rows}


class _Race:
    """What the threads of one round saw; the main thread asserts on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: dict[int, int] = {}
        self.refused: list[str] = []
        self.unexpected: list[object] = []
        self.at_close: dict[int, int] | None = None


def _race(app: Any, data: dict[str, Any]) -> _Race:
    """LEADERS threads write their group's order again and again until refused; one more thread closes the
    round and reads the orders right after its commit. All released together by one barrier.

    The leaders call the service (what the API's PUT calls) rather than go through HTTP: with less Python
    around each write, the writes' statements fill the time and the close's commit lands among them."""
    from core.db import db
    from core.errors import DeadlinePassed
    from network.models import User
    from orders.services import close_round, replace_group_order

    round_id, offer_id = data["round_id"], data["offer_ids"][0]
    seen = _Race()
    start = threading.Barrier(LEADERS + 1)

    def leader(group_id: int) -> None:
        with app.app_context():
            try:
                actor = db.session.scalars(select(User).where(User.group_id == group_id)).one()
                db.session.rollback()
                _leader_thread.on = True
                start.wait(timeout=30)
                for quantity in range(1, 100_000):
                    try:
                        replace_group_order(actor, round_id, group_id, [{"offer_id": offer_id, "quantity": quantity}])
                    except DeadlinePassed as exc:
                        db.session.rollback()
                        with seen.lock:
                            seen.refused.append(exc.code)
                        return
                    with seen.lock:
                        seen.acknowledged[group_id] = quantity
            except Exception as exc:  # noqa: BLE001 - reported in the main thread
                with seen.lock:
                    seen.unexpected.append(exc)
            finally:
                db.session.rollback()
                db.session.remove()

    def committee() -> None:
        with app.app_context():
            try:
                actor = db.session.scalars(select(User).where(User.email == data["committee_email"])).one()
                db.session.rollback()
                start.wait(timeout=30)
                time.sleep(0.05)  # the leaders are writing by now
                close_round(actor, round_id)
                # The next statement after the close's commit: what a combine starting now would read.
                seen.at_close = _orders(db.session, round_id)
            except Exception as exc:  # noqa: BLE001 - reported in the main thread
                with seen.lock:
                    seen.unexpected.append(exc)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=leader, args=(g,), daemon=True) for g in data["group_ids"]]
    threads.append(threading.Thread(target=committee, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread was still running after 60 s"
    return seen


@pytest.mark.timeout(120)
def test_no_order_changes_after_the_close_committed(app: Any, committed: Any, slow_leader_commits: None) -> None:
    from network.models import Network

    network = Network(name="Close gate race", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    committed.add(network)
    committed.commit()
    late: list[tuple[int, dict[int, int] | None, dict[int, int]]] = []
    for _ in range(ROUNDS):
        data = seed_round(committed, groups=LEADERS, offers=1, suppliers=1, with_orders=False, leaders=True,
                          network=network)
        seen = _race(app, data)
        assert not seen.unexpected, seen.unexpected[:3]
        assert seen.refused == ["deadline_passed"] * LEADERS, "every leader must end on the close's refusal"
        committed.expire_all()
        final = _orders(committed, data["round_id"])
        assert final == seen.acknowledged, "an acknowledged order is not in the database as acknowledged"
        if seen.at_close != final:
            late.append((data["round_id"], seen.at_close, final))
    # What the close saw at its commit is what every leader was told and what stays.
    assert not late, f"{len(late)} of {ROUNDS} rounds had orders written after the close committed " \
                     f"(round, orders at the close, orders after): {late[:2]}"
