"""Passwords of accounts: a user changes their own; the admin (or the committee, for anyone but an admin)
issues a one-time link to set a new one. Each ends every other session and API token of the user (a
stolen cookie or token stops working) and is in the audit trail. One function, one transaction."""
from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, update
from werkzeug.security import check_password_hash, generate_password_hash

from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Forbidden, InvalidInput, Msg, NotFound
from network import access
from network.models import ApiToken, User
from network.passwords import require_password


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
    """A new one-time link for a user of the actor's network, through the one mechanism of links into an
    account (``network.access``, which invitations use too); the user's earlier unused reset links stop
    working. Returns the token, shown this once, and when it expires."""
    if actor.role not in ("admin", "committee"):
        raise Forbidden("Only the network admin or the committee issues password reset links.")
    user = db.session.get(User, user_id)
    if user is None or user.network_id != actor.network_id:
        raise NotFound("No such user.")
    if not _may_reset(actor, user):
        raise Forbidden("The committee issues reset links for leaders and sellers; the admin for anyone.")
    issued = access.issue_for(actor, user, "reset", replace=True)
    db.session.commit()
    return issued.token, issued.expires_at


def reset_user(token: str) -> User:
    """Whose password the link sets (404 when it is used or expired)."""
    return access.peek(token).user


def reset_password(token: str, new: str) -> User:
    """Set the password through a link: once, before it expires; every session and token of the user end."""
    return access.redeem(token, new)
