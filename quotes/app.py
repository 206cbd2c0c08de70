"""Wires the quotes domain into the app: API, pages."""
from __future__ import annotations

from flask import Flask

from core.api import get_api
from core.web import csrf


def init_app(app: Flask) -> None:
    import quotes.models  # noqa: F401  (the tables, for the metadata)
    from core.api import public_endpoint
    from quotes.api import blp

    # A supplier's private link is its only credential (checked by the service).
    public_endpoint("quotes_api.QuoteByToken")

    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
