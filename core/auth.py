"""Who is asking: Flask-Login sessions for pages, hashed bearer tokens for the API."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from flask import request
from flask_login import LoginManager

from core.errors import NotAuthenticated

login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_view = "network_views.login"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "rs_" + secrets.token_urlsafe(32)


# The domain that owns users registers how to find them (Flask-Login's user_loader pattern):
#   login_manager.user_loader(fn)  -- a session's user from its id string, or None;
#   token_loader(fn)               -- (user, token id) from the hash of a bearer token, or None.
TokenLoader = Callable[[str], "tuple[Any, int] | None"]
_token_loader: list[TokenLoader] = []


def token_loader(fn: TokenLoader) -> TokenLoader:
    """Register the lookup of an API token by its hash (one per app; the last registered wins)."""
    _token_loader[:] = [fn]
    return fn


def bearer_user() -> Any:
    """The API caller from ``Authorization: Bearer <token>``, or None."""
    # Cached on the request, not on g: g lives as long as the app context, which may span requests.
    if "ruamsue.api_user" in request.environ:
        return request.environ["ruamsue.api_user"]
    if not _token_loader:
        raise RuntimeError("no token loader registered (core.auth.token_loader)")
    user = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        if token:
            found = _token_loader[0](hash_token(token))
            if found is not None:
                user, request.environ["ruamsue.api_token_id"] = found
    request.environ["ruamsue.api_user"] = user
    return user


def api_actor() -> Any:
    user = bearer_user()
    if user is None:
        raise NotAuthenticated("Send a valid token: Authorization: Bearer <token>.")
    return user
