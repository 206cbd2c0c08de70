"""One-time links into an account: an invitation for a new user, a reset for one who forgot (one mechanism).

The admin asks for a link; only the SHA-256 of its token is stored. Opening the link (``redeem``) sets the
user's password, marks the link used, voids the user's other open links, ends the user's other sessions and
API tokens, and is in the audit trail. A link works once and until it expires; an unknown, used or expired
link answers the same "no longer valid", so that a guessed token learns nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, select, update
from werkzeug.security import generate_password_hash

from core.audit import record
from core.auth import hash_token, new_token
from core.clock import utcnow
from core.db import db
from core.errors import Forbidden, InvalidInput, Msg, NotFound
from network import permissions
from network.models import NO_PASSWORD, AccessLink, ApiToken, User
from network.passwords import require_password

PURPOSES = ("invitation", "reset")
# An invitation travels by LINE or on paper to a meeting; a reset is asked for and used the same day.
DEFAULT_LIFETIME = {"invitation": timedelta(days=14), "reset": timedelta(hours=24)}


@dataclass(frozen=True)
class IssuedLink:
    user: User
    token: str
    expires_at: datetime


def lifetime(purpose: str) -> timedelta:
    hours = current_app.config.get(f"{purpose.upper()}_LINK_HOURS")
    return timedelta(hours=float(hours)) if hours else DEFAULT_LIFETIME[purpose]


def issue_for(actor: Any, user: User, purpose: str, *, replace: bool = False) -> IssuedLink:
    """Write a link for ``user`` (the caller has checked who may ask); ``replace`` voids the user's earlier
    open links of the same purpose (a reset: only the newest works). The caller commits."""
    now = utcnow()
    if replace:
        db.session.execute(update(AccessLink).where(AccessLink.user_id == user.id, AccessLink.purpose == purpose,
                                                    AccessLink.used_at.is_(None)).values(used_at=now))
    token = new_token()
    link = AccessLink(user_id=user.id, purpose=purpose, token_hash=hash_token(token), created_by_id=actor.id,
                      created_at=now, expires_at=now + lifetime(purpose))
    db.session.add(link)
    record(actor, f"user.{purpose}", "user", user.id, None, {"expires_at": link.expires_at.isoformat()})
    return IssuedLink(user, token, link.expires_at)


def issue_link(actor: Any, user_id: int, purpose: str = "invitation") -> IssuedLink:
    """A new link for one user of the actor's network (the admin's; earlier links stay until used or expired)."""
    if purpose not in PURPOSES:
        raise InvalidInput("Unknown kind of link.", {"purpose": [Msg("invitation or reset.", "invalid")]})
    if not permissions.can_manage_users(actor):
        raise Forbidden("Only the network admin invites users.")
    user = db.session.get(User, user_id)
    if user is None or user.network_id != actor.network_id:
        raise NotFound("No such user.")
    if not user.active:
        raise InvalidInput(Msg("This user is switched off.", "user_inactive"), {})
    issued = issue_for(actor, user, purpose)
    db.session.commit()
    return issued


def invite_everyone_waiting(actor: Any) -> list[IssuedLink]:
    """A link for every active user of the network who has never set a password (the printed sheet)."""
    if not permissions.can_manage_users(actor):
        raise Forbidden("Only the network admin invites users.")
    users = db.session.scalars(select(User).where(User.network_id == actor.network_id, User.active.is_(True),
                                                  User.password_hash == NO_PASSWORD).order_by(User.group_id, User.name))
    issued = [issue_for(actor, user, "invitation") for user in users]
    db.session.commit()
    return issued


def _open_link(token: str, *, lock: bool = False) -> AccessLink:
    return _open_link_by_hash(hash_token(token or ""), lock=lock)


def _open_link_by_hash(token_hash: str, *, lock: bool = False) -> AccessLink:
    query = select(AccessLink).where(AccessLink.token_hash == token_hash)
    link = db.session.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or not link.user.active:
        raise NotFound(Msg("This link is no longer valid: ask the network admin for a new one.", "link_invalid"))
    return link


def peek(token: str) -> AccessLink:
    """The open link (to greet its user by name), or NotFound."""
    return _open_link(token)


def _use(link: AccessLink, how: str | None) -> User:
    """The link used once: every other open link of the user voided, the user's older sessions and API tokens
    ended, in the audit trail. In the caller's transaction."""
    user = link.user
    now = utcnow()
    link.used_at = now
    db.session.execute(update(AccessLink).where(AccessLink.user_id == user.id, AccessLink.used_at.is_(None))
                       .values(used_at=now))
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now))
    db.session.execute(cast(Table, User.__table__).update().where(User.id == user.id)
                       .values(session_version=User.session_version + 1))
    record(user, f"user.{link.purpose}_used", "user", user.id, None, {"by": how} if how else None)
    return user


def redeem(token: str, password: str) -> User:
    """Use the link once: the new password, every other way in closed. Returns the user to log in."""
    link = _open_link(token, lock=True)
    user = link.user
    password = require_password("password", password, email=user.email)  # the one password rule
    user.password_hash = generate_password_hash(password)
    _use(link, None)
    db.session.commit()
    db.session.refresh(user)
    return user


def token_hash_of_open_link(token: str) -> str:
    """What a way in other than a password (LINE Login) keeps while the user proves who they are elsewhere:
    the link's hash, never the token; NotFound when the link no longer works."""
    return _open_link(token).token_hash


def use_by_hash(token_hash: str, how: str) -> User:
    """Use the link once with another way in instead of a password (``how``: "line"); the password stays as
    it was (none for a new user). In the caller's transaction: the caller connects that way in, then commits."""
    return _use(_open_link_by_hash(token_hash, lock=True), how)
