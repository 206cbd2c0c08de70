"""Wires notifications into the app: the outbox subscriber, the send job and sweep, API, pages, bell."""
from __future__ import annotations

from typing import Any

from flask import Flask

from core.api import get_api
from core.web import csrf


def init_app(app: Flask) -> None:
    from core import jobs, notify
    from notifications import config, outbox, sending
    from notifications.api import blp
    from notifications.line_login import bp as line_login_bp
    from notifications.line_webhook import bp as line_bp
    from notifications.views import bp, register_pages

    for key, value in config.load().items():
        app.config.setdefault(key, value)
    notify.subscribe(outbox.record_events)

    def send(network_id: int | None = None, event_key: str | None = None) -> dict[str, Any]:
        if network_id is not None:
            return dict(sending.send_network(network_id))
        return dict(sending.send_event(event_key or ""))

    jobs.handler(outbox.SEND_JOB)(send)
    jobs.periodic("send_due_notifications", sending.send_due, task="ruamsue.send_due_notifications", every=60.0)
    get_api(app).register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    app.register_blueprint(line_bp)
    csrf.exempt(line_bp)  # LINE's signature is the webhook's credential
    app.register_blueprint(line_login_bp)
    register_pages()
