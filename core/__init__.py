"""Plumbing every domain uses: the app factory, the database, errors, auth, jobs."""
from __future__ import annotations

import importlib
import os
from typing import Any

from flask import Flask

# Each domain package wires its blueprints, CLI and job handlers in its own app.py.
DOMAINS = ("network", "orders", "market", "reports")


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    import config
    from core import api as api_module
    from core import jobs
    from core.auth import login_manager
    from core.db import db
    from core.migrate import migrate
    from tasks import celery_init_app

    app = Flask("ruamsue", instance_path=str(config.INSTANCE_DIR),
                root_path=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                static_folder="core/static", template_folder="core/templates")
    app.config.update(config.load())
    if overrides:
        app.config.update(overrides)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    jobs.init_app(app)
    api_module.init_app(app)
    from core import web

    web.init_app(app)
    for name in DOMAINS:
        importlib.import_module(f"{name}.app").init_app(app)
    from core import demo

    demo.init_app(app)
    celery_init_app(app)
    if app.config["JOBS_MODE"] == "thread" and os.environ.get("RUAMSUE_SCHEDULER") == "1":
        jobs.start_scheduler(app)
    return app
