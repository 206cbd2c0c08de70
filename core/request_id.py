"""Every request carries an id: ``X-Request-ID`` from a trusted proxy, or one made here.

The id is returned in the response, written in every log line of the request (``core.logs``) and
shown on the error page as the reference a user reads out to whoever helps them.
"""
from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request

HEADER = "X-Request-ID"
# What a proxy may hand us: short, and nothing that could break a log line or a header.
_VALID = re.compile(r"^[A-Za-z0-9._:@=+/-]{1,128}$")


def elapsed() -> float | None:
    """Seconds since the request began, or None outside a request."""
    if not has_request_context() or "request_started" not in g:
        return None
    return time.perf_counter() - float(g.request_started)


def current() -> str | None:
    """The id of the request being served, or None outside a request."""
    if not has_request_context():
        return None
    rid = g.get("request_id")
    return str(rid) if rid else None


def _choose() -> str:
    """The proxy's id when a proxy is trusted and its id is well formed; a new one otherwise."""
    if int(current_app.config.get("TRUSTED_PROXIES") or 0) > 0:
        given = request.headers.get(HEADER, "")
        if _VALID.match(given):
            return given
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    def assign() -> None:
        g.request_started = time.perf_counter()
        g.request_id = _choose()

    def answer(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers[HEADER] = rid
        return response

    # First of all before_request hooks: anything that logs or refuses already has an id.
    app.before_request_funcs.setdefault(None, []).insert(0, assign)
    app.after_request(answer)

    @app.context_processor
    def _reference() -> dict[str, str | None]:
        return {"request_reference": current()}
