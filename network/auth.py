"""How the kernel finds users: the network owns them and registers these with ``core.auth``."""
from __future__ import annotations

from sqlalchemy import select

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


def load_token(token_hash: str) -> tuple[User, int] | None:
    """The active user of an unrevoked API token, and the token's id."""
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.User.active:
        return None
    return row.User, row.ApiToken.id


def init_app() -> None:
    from core.auth import login_manager, token_loader

    login_manager.user_loader(load_user)
    token_loader(load_token)
