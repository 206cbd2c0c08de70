"""What operators get from every app: request ids, logs, metrics, health checks, the backup commands."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from core import backup, health, logs, metrics, request_id

    request_id.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    health.init_app(app)
    backup.init_app(app)
    _init_server_error_page(app)


def _init_server_error_page(app: Flask) -> None:
    """An unexpected failure: logged with its request id, answered with that id as the reference."""
    from flask import jsonify, render_template, request
    from werkzeug.exceptions import InternalServerError

    from core.request_id import current

    def server_error(error: InternalServerError):  # type: ignore[no-untyped-def]
        reference = current()
        if request.path.startswith("/api/"):
            from core.errors import error_body

            body = error_body(500, "internal", "Something went wrong on our side. It has been logged.")
            body["error"]["reference"] = reference
            response = jsonify(body)
            response.status_code = 500
            return response
        try:
            return render_template("error.html", message=None, status=500), 500
        except Exception:  # noqa: BLE001 - the page itself failed: plain text still gives the reference
            app.logger.exception("the error page could not be drawn")
            return app.response_class(f"Internal error. Reference: {reference}\n", status=500,
                                      mimetype="text/plain")

    app.register_error_handler(InternalServerError, server_error)
