"""Health checks for load balancers and orchestrators: cheap, unauthenticated, rate-limited, and
saying nothing but which part is up.

``GET /healthz``: the process answers (no database, nothing else). ``GET /readyz``: it can serve,
``{"database": "ok", "broker": "ok" | "not configured"}`` with 200, or 503 naming the part that failed
(``"unavailable"``), never an error text, host name or version.
"""
from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from core.db import db
from core.web import limiter

# A load balancer polls every few seconds; a flood from one address is turned away before any work.
DEFAULT_LIMIT = "120 per minute"


def _limit() -> str:
    return str(current_app.config.get("HEALTH_RATE_LIMIT") or DEFAULT_LIMIT)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the reason stays in the log
        current_app.logger.warning("readiness: database check failed", exc_info=True)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
            pass
        return False


def broker_state() -> str:
    """"ok", "not configured" (jobs run in this process) or "unavailable"."""
    url = str(current_app.config.get("REDIS_URL") or "")
    if not url or current_app.config.get("JOBS_MODE") == "thread":
        return "not configured"
    try:
        import redis

        client: Any = current_app.extensions.get("ruamsue_health_redis")
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            current_app.extensions["ruamsue_health_redis"] = client
        client.ping()
        return "ok"
    except Exception:  # noqa: BLE001
        current_app.logger.warning("readiness: broker check failed", exc_info=True)
        return "unavailable"


def init_app(app: Flask) -> None:
    app.config.setdefault("HEALTH_RATE_LIMIT", os.environ.get("HEALTH_RATE_LIMIT", DEFAULT_LIMIT))
    @app.get("/healthz")
    @limiter.limit(_limit)
    def healthz() -> ResponseReturnValue:
        """Liveness: this process answers. Touches nothing."""
        return {"status": "ok"}

    @app.get("/readyz")
    @limiter.limit(_limit)
    def readyz() -> ResponseReturnValue:
        """Readiness: the database answers and, when jobs go through a broker, the broker too."""
        body = {"database": "ok" if database_ok() else "unavailable", "broker": broker_state()}
        ready = body["database"] == "ok" and body["broker"] != "unavailable"
        response = jsonify(body)
        response.status_code = 200 if ready else 503
        response.headers["Cache-Control"] = "no-store"
        if not ready:
            response.headers["Retry-After"] = "5"
        return response
