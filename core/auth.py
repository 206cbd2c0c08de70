"""Who is asking: Flask-Login sessions for pages, hashed bearer tokens for the API."""
from __future__ import annotations

import hashlib
import secrets

from flask import request
from flask_login import LoginManager
from sqlalchemy import select

from core.db import db
from core.errors import NotAuthenticated

login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_view = "network_views.login"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "rs_" + secrets.token_urlsafe(32)


@login_manager.user_loader
def _load_user(user_id: str):  # type: ignore[no-untyped-def]
    from network.models import User

    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    # A session minted before logout (or a password change) carries an old version: refuse it.
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def bearer_user():  # type: ignore[no-untyped-def]
    """The API caller from ``Authorization: Bearer <token>``, or None."""
    # Cached on the request, not on g: g lives as long as the app context, which may span requests.
    if "ruamsue.api_user" in request.environ:
        return request.environ["ruamsue.api_user"]
    from network.models import ApiToken, User

    user = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        if token:
            row = db.session.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
            ).first()
            if row is not None and row.User.active:
                user = row.User
                request.environ["ruamsue.api_token_id"] = row.ApiToken.id
    request.environ["ruamsue.api_user"] = user
    return user


def api_actor():  # type: ignore[no-untyped-def]
    user = bearer_user()
    if user is None:
        raise NotAuthenticated("Send a valid token: Authorization: Bearer <token>.")
    return user
