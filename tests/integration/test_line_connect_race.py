"""One LINE account connected by several users at the same instant (LINE Login on two phones, or a
redelivered webhook racing a login) on the real PostgreSQL: the last one keeps it, nobody gets a 5xx.

Without the per-account lock in ``notifications.line_link.connect``, each transaction clears the account
from the other users as of its own snapshot, sets it on its own user, and all but the first to commit
fail on the unique key of ``line_user_id`` (tried and seen: an IntegrityError in most rounds)."""
from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import Any

USERS = 4  # users connecting the same LINE account at once
ROUNDS = 10  # LINE accounts raced one after the other


def _users(session: Any) -> list[int]:
    from network.models import Network, User

    tag = uuid.uuid4().hex[:8]
    network = Network(name=f"LINE race {tag}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    session.add(network)
    session.flush()
    users = [User(network_id=network.id, email=f"committee-{i}-{tag}@example.org", name=f"กรรมการ {i}", role="committee",
                  password_hash="x", session_version=0, active=True) for i in range(USERS)]
    session.add_all(users)
    session.commit()
    return [u.id for u in users]


def _race(app: Any, user_ids: list[int], line_user_id: str) -> list[str]:
    from core.db import db
    from network.models import User
    from notifications.line_link import connect_by_login

    outcomes = [""] * len(user_ids)
    barrier = threading.Barrier(len(user_ids))

    def run(i: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get_one(User, user_ids[i])
                barrier.wait(timeout=30)
                connect_by_login(actor, line_user_id)
                outcomes[i] = "connected"
            except Exception as exc:  # noqa: BLE001 - reported in the main thread
                outcomes[i] = repr(exc)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a connect was still running after 60 s"
    return outcomes


def test_one_line_account_connected_by_many_at_once(worker_app: Any, committed: Any) -> None:
    from sqlalchemy import select

    from notifications.models import NotificationSettings

    user_ids = _users(committed)
    failed: list[tuple[int, list[str]]] = []
    holders: list[int] = []
    for round_no in range(ROUNDS):
        line_user_id = f"U{uuid.uuid4().hex}"
        outcomes = _race(worker_app, user_ids, line_user_id)
        if outcomes != ["connected"] * USERS:
            failed.append((round_no, outcomes))
        committed.expire_all()
        holders.append(len(committed.scalars(select(NotificationSettings.user_id).where(
            NotificationSettings.line_user_id == line_user_id, NotificationSettings.line.is_(True))).all()))
    assert not failed, f"{len(failed)} of {ROUNDS} rounds had a connect fail: {failed[:2]}"
    # One LINE account, one user: whoever connected last holds it.
    assert holders == [1] * ROUNDS
