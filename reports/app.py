"""Wires the reports domain into the app: the summaries API, the summary job, the beat task."""
from __future__ import annotations

from flask import Flask

from core.api import get_api
from core.web import csrf


def init_app(app: Flask) -> None:
    import reports.audit_text  # noqa: F401  (the audit trail's sentences of this domain)
    import reports.models
    import reports.services
    from core.jobs import periodic
    from reports.api import blp
    from reports.views import bp, register_pages

    # Hourly, so each network's own "early on the 1st" (00:05 local) is caught in its time zone.
    periodic("build_due_summaries", reports.services.enqueue_due_summaries, task="ruamsue.build_due_summaries",
             minute=5)
    from core.events import month_data_changed

    # A change landing in a month already summarised makes it stale: its rebuild is enqueued.
    month_data_changed.connect(reports.services.mark_stale)
    from reports.periods import MONTH_PARAMETER, MonthConverter

    # Before the routes that use it are added.
    app.url_map.converters["month"] = MonthConverter
    get_api(app).register_converter(MonthConverter, lambda converter: dict(MONTH_PARAMETER))
    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_pages()
