"""Wires the reports domain into the app: the summaries API, the summary job, the beat task."""
from __future__ import annotations

from flask import Flask

from core.api import get_api
from core.web import csrf


def init_app(app: Flask) -> None:
    import reports.models
    import reports.services
    import reports.tasks  # noqa: F401  (registers ruamsue.build_due_summaries)
    from reports.api import blp
    from reports.views import bp

    from core.jobs import periodic

    periodic("build_due_summaries", reports.services.enqueue_due_summaries)
    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
