"""Wires the households domain into the app: API, pages, audit sentences."""
from __future__ import annotations

from flask import Flask

from core.api import get_api, public_endpoint
from core.web import csrf


def init_app(app: Flask) -> None:
    import households.audit_text  # noqa: F401  (the audit trail's sentences of this domain)
    import households.models  # noqa: F401  (the tables, for the metadata)
    from households import imports
    from households.api import blp
    from households.views import bp, register_pages

    # A sheet's link is the households' only credential (the service looks the sheet up, nothing else).
    public_endpoint("households_api.sheet")
    public_endpoint("households_api.SheetHousehold")
    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_pages()
    imports.init_app()
    from core.summary_parts import group_figure
    from households.bills import measured_reach

    # The registered-poor reach measured from the households' bills, read by reports/ through the kernel.
    group_figure("measured_reach", measured_reach)
    from core.pwa import keep_offline

    # A phone keeps a copy of its household's sheet (and bill) to open without a connection; saving needs one.
    keep_offline(app, "households_views.sheet", "households_views.household_bills")
