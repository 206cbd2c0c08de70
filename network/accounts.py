"""Passwords of accounts: a user changes their own; the admin (or the committee, for anyone but an admin)
issues a one-time link to set a new one. Each ends every other session and API token of the user (a
stolen cookie or token stops working) and is in the audit trail. One function, one transaction."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core.audit import record
from core.auth import hash_token
from core.clock import utcnow
from core.db import db
from core.errors import Forbidden, InvalidInput, Msg, NotFound
from network.models import ApiToken, PasswordReset, User
from network.passwords import require_password

# How long a reset link works: a day, time to reach the leader by phone or LINE.
RESET_LINK_LIFETIME = timedelta(hours=24)


def _end_everything_else(user: User, keep_token_id: int | None = None) -> None:
    """Every session cookie of the user stops working (the version in it is old) and every API token is
    revoked, but the one the caller is using (``keep_token_id``)."""
    db.session.execute(cast(Table, User.__table__).update().where(User.id == user.id)
                       .values(session_version=User.session_version + 1))
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep_token_id is not None:
        query = query.where(ApiToken.id != keep_token_id)
    db.session.execute(query.values(revoked_at=utcnow()))


def change_password(actor: User, current: str, new: str, *, keep_token_id: int | None = None) -> User:
    """The actor's own password; the current one must be given (a borrowed phone cannot take the account)."""
    if not isinstance(current, str) or not check_password_hash(actor.password_hash, current):
        raise InvalidInput(Msg("The current password is wrong.", "password_wrong"),
                           {"current_password": [Msg("Wrong password.", "password_wrong")]})
    new = require_password("new_password", new, email=actor.email)
    user = db.session.get(User, actor.id, with_for_update=True)
    assert user is not None
    user.password_hash = generate_password_hash(new)
    _end_everything_else(user, keep_token_id)
    record(user, "user.password_change", "user", user.id, None, {"sessions_ended": True})
    db.session.commit()
    db.session.refresh(user)
    return user


def _may_reset(actor: User, user: User) -> bool:
    if actor.role == "admin":
        return True
    # The committee helps a leader or seller who forgot, never takes over an admin's or its own peers'.
    return actor.role == "committee" and user.role in ("leader", "seller")


def issue_reset(actor: User, user_id: int) -> tuple[str, datetime]:
    """A new one-time link for a user of the actor's network (earlier unused links of that user stop
    working). Returns the token, shown this once, and when it expires."""
    if actor.role not in ("admin", "committee"):
        raise Forbidden("Only the network admin or the committee issues password reset links.")
    user = db.session.get(User, user_id)
    if user is None or user.network_id != actor.network_id:
        raise NotFound("No such user.")
    if not _may_reset(actor, user):
        raise Forbidden("The committee issues reset links for leaders and sellers; the admin for anyone.")
    now = utcnow()
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                       .values(used_at=now))
    token = secrets.token_urlsafe(32)  # 256 random bits
    reset = PasswordReset(user_id=user.id, token_hash=hash_token(token), issued_by_id=actor.id, created_at=now,
                          expires_at=now + RESET_LINK_LIFETIME)
    db.session.add(reset)
    record(actor, "user.password_reset_issued", "user", user.id, None, {"expires_at": reset.expires_at})
    db.session.commit()
    return token, reset.expires_at


def _live_reset(token: str, *, lock: bool = False) -> PasswordReset:
    if not isinstance(token, str) or not token or len(token) > 200:
        raise NotFound(Msg("This link has been used or has expired.", "reset_link_dead"))
    query = select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    if lock:
        query = query.with_for_update()
    reset = db.session.scalar(query)
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        raise NotFound(Msg("This link has been used or has expired.", "reset_link_dead"))
    return reset


def reset_user(token: str) -> User:
    """Whose password the link sets (404 when it is used or expired)."""
    return _live_reset(token).user


def reset_password(token: str, new: str) -> User:
    """Set the password through a link: once, before it expires; every session and token of the user end."""
    reset = _live_reset(token, lock=True)
    user = reset.user
    new = require_password("new_password", new, email=user.email)
    user.password_hash = generate_password_hash(new)
    reset.used_at = utcnow()
    _end_everything_else(user)
    record(user, "user.password_reset", "user", user.id, None, {"link_issued_by": reset.issued_by_id})
    db.session.commit()
    db.session.refresh(user)
    return user
