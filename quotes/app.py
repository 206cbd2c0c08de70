"""Wires the quotes domain into the app: API, pages, what it adds to the home page and the menu."""
from __future__ import annotations

from flask import Flask

from core.api import get_api, public_endpoint
from core.web import csrf


def init_app(app: Flask) -> None:
    import quotes.audit_text  # noqa: F401  (the audit trail's sentences of this domain)
    import quotes.models  # noqa: F401  (the tables, for the metadata)
    from core.jobs import periodic
    from quotes.events import announce_closed_requests

    periodic("announce_closed_requests", announce_closed_requests, task="ruamsue.announce_closed_requests",
             every=300.0)
    from core.summary_parts import summary_part
    from quotes.competition import competition

    summary_part("competition", competition)  # what competition won, in the monthly summary
    from quotes.api import blp
    from quotes.views import bp, register_pages

    # A supplier's private link is its only credential (the service looks the link up, nothing else).
    public_endpoint("quotes_api.QuoteByToken")
    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_pages()
