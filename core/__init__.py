"""The kernel every domain uses: the app factory, the database, errors, auth, jobs, page registries.

The kernel knows no domain: ``create_app`` loads the packages named in the ``DOMAINS`` setting (see
``config.DOMAINS``), each of which wires its blueprints, CLI, periodic work and job handlers in its own ``app.py``
(``init_app(app)``) and registers what it adds to shared places with the kernel's registries. The Celery
app and tasks are the edge package named by the ``TASKS`` setting (``tasks/``).
"""
from __future__ import annotations

import importlib
import os
from typing import Any

from flask import Flask, Response

__all__ = ["create_app"]


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    import config
    from core import api as api_module
    from core import (
        audit,  # noqa: F401  (the audit trail's read-only guard)
        jobs,
        pages,
    )
    from core.auth import login_manager
    from core.db import db
    from core.migrate import migrate

    app = Flask("ruamsue", instance_path=str(config.INSTANCE_DIR),
                root_path=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                static_folder="core/static", template_folder="core/templates")
    app.config.update(config.load())
    if overrides:
        app.config.update(overrides)
    db.init_app(app)
    _init_pool_checks(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    jobs.init_app(app)
    api_module.init_app(app)
    from core import pwa, web

    pwa.init_compression(app)  # first, so that it compresses what every later hook has written
    web.init_app(app)
    pwa.init_app(app)
    pages.init_app(app)
    from core import operations

    operations.init_app(app)  # request ids, logs, metrics, /healthz, /readyz, backup CLI
    for name in app.config["DOMAINS"]:
        importlib.import_module(f"{name}.app").init_app(app)
    # The Celery edge (tasks/: Flask's celery_init_app pattern), loaded by name after the domains as they
    # are, so that the kernel imports neither Celery nor tasks/.
    importlib.import_module(app.config["TASKS"]).celery_init_app(app)
    _init_resilience(app)
    if app.config["JOBS_MODE"] == "thread" and os.environ.get("RUAMSUE_SCHEDULER") == "1":
        jobs.start_scheduler(app, float(app.config.get("BEAT_INTERVAL") or 60.0))
    return app


def _init_pool_checks(app: Flask) -> None:
    """Connections that sat idle are checked before use, so a restarted database is ridden out."""
    from core.db import db, ping_after_idle

    idle = app.config.get("DB_PING_AFTER_IDLE")
    if idle is None or float(idle) < 0 or (app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("pool_pre_ping"):
        return
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name != "sqlite":
                ping_after_idle(engine, float(idle))


def _init_resilience(app: Flask) -> None:
    """A database that went away answered with a clean 503, never a 500 (health checks: core.health)."""
    from flask import jsonify, request
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from core.db import db
    from core.errors import error_body

    def unavailable(error: Exception) -> Response:
        if isinstance(error, DBAPIError) and not isinstance(error, (OperationalError, InterfaceError)) \
                and not error.connection_invalidated:
            raise error  # a bug, not an outage: stays a 500
        app.logger.warning("database unavailable: %s", error.__class__.__name__)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
            pass
        message = "The database is not reachable just now; try again in a moment."
        if request.path.startswith("/api/") or request.path in ("/readyz", "/ping"):
            response = jsonify(error_body(503, "unavailable", message))
        else:
            response = app.response_class(message, mimetype="text/plain")
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response

    for exc in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, DBAPIError):
        app.register_error_handler(exc, unavailable)

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        """Liveness and the load test's floor: no database, no session, nothing."""
        return {"pong": True}
