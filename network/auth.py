"""How the kernel finds users: the network owns them and registers these with ``core.auth``."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from core.db import db
from network.models import ApiToken, User


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the session's "id:version"; an old version (logout, new password) is refused."""
    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    # A session minted before logout (or a password change) carries an old version: refuse it.
    if user is None or not user.active or user.session_version != version:
        return None
    return user


# Built once: every API request runs it, and building the statement (and its cache key) anew each
# time cost as much as running it. Only the token's id is read, not the whole token row.
_TOKEN_USER = (
    select(User, ApiToken.id)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def load_token(token_hash: str) -> tuple[User, int] | None:
    """The active user of an unrevoked API token, and the token's id."""
    row = db.session.execute(_TOKEN_USER, {"token_hash": token_hash}).first()
    if row is None or not row[0].active:
        return None
    return row[0], row[1]


def init_app() -> None:
    from core.auth import login_manager, token_loader

    login_manager.user_loader(load_user)
    token_loader(load_token)
