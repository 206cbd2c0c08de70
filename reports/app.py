"""Wires the reports domain into the app: the summaries API, the summary job, the beat task, the CLI."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.api import get_api
from core.web import csrf

reports_cli = AppGroup("reports", help="Monthly summaries.")


@reports_cli.command("rebuild-rollups")
@click.option("--network-id", type=int, default=None, help="One network (default: every network).")
def rebuild_rollups_command(network_id: int | None) -> None:
    """Recompute the monthly roll-ups from the allocations and marketplace purchases (the backfill tool)."""
    from sqlalchemy import select

    from core.db import db
    from network.models import Network
    from reports.rollup_reads import rebuild

    ids = [network_id] if network_id is not None else list(db.session.scalars(select(Network.id).order_by(Network.id)))
    for nid in ids:
        rebuild(nid)
        db.session.commit()
        click.echo(f"network {nid}: roll-ups rebuilt")


def init_app(app: Flask) -> None:
    import reports.audit_text  # noqa: F401  (the audit trail's sentences of this domain)

    app.cli.add_command(reports_cli)
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
