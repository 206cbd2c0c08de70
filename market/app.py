"""Wires the market domain into the app: API (the pages are wired by their own module)."""
from __future__ import annotations

from flask import Flask

from core.api import get_api
from core.web import csrf


def init_app(app: Flask) -> None:
    import market.audit_text  # noqa: F401  (the audit trail's sentences of this domain)
    import market.models  # noqa: F401
    from core.events import network_timezone_changed
    from market import rollups

    network_timezone_changed.connect(rollups.on_timezone_changed)
    from market.api import blp
    from market.views import bp, register_pages

    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_pages()
