"""Wires the orders domain into the app: API, pages, job handlers."""
from __future__ import annotations

from flask import Flask

from core.api import get_api
from core.web import csrf


def init_app(app: Flask) -> None:
    from core.api import allow_large_json
    from orders.slips import MAX_SLIP_BYTES

    # A payment may carry a slip photo in base64 (4/3 of its bytes), beyond the usual JSON limit.
    allow_large_json("orders_api.payments", MAX_SLIP_BYTES * 4 // 3 + 100_000)
    import orders.audit_text  # noqa: F401  (the audit trail's sentences of this domain)
    import orders.combine  # noqa: F401  (registers the combine job handlers)
    from core.events import network_timezone_changed
    from orders import rollups

    network_timezone_changed.connect(rollups.on_timezone_changed)
    from core.jobs import periodic
    from orders.services import close_due_rounds

    periodic("close_due_rounds", close_due_rounds, task="ruamsue.close_due_rounds", every=60.0)
    from orders.events import remind_closing_rounds

    periodic("remind_closing_rounds", remind_closing_rounds, task="ruamsue.remind_closing_rounds", every=300.0)
    import orders.invoice_views  # noqa: F401  (invoice and payment pages: routes on the same blueprint)
    import orders.order_views  # noqa: F401  (the group's order pages, on the same blueprint)
    from orders.api import blp
    from orders.views import bp, register_pages

    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_pages()
    from markupsafe import Markup

    from orders import paying

    # A bill's PromptPay QR drawn on the server as inline SVG (invoices, household bills, the sheet).
    app.jinja_env.filters["promptpay_qr"] = lambda payload: Markup(paying.qr_svg(payload, inline=True))
    from core.pwa import keep_offline
    from orders.offline_views import bp as offline_bp

    app.register_blueprint(offline_bp)  # the order page's JSON write, CSRF-protected like the page
    keep_offline(app, "orders_views.rounds", "orders_views.round_detail", "orders_views.order")
