"""The JSON API: flask-smorest with the contract's error shape and bearer-token auth."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, error_body

_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "invalid", 429: "rate_limited", 500: "server_error", 503: "unavailable"}


def _flatten(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {...}}); clients want the fields."""
    if isinstance(messages, dict):
        fields: dict[str, Any] = {}
        for location, errs in messages.items():
            if location in ("json", "query", "form", "view_args", "headers", "files") and isinstance(errs, dict):
                fields.update(errs)
            else:
                fields[location] = errs
        return fields
    return {"_schema": messages}


class Api(SmorestApi):
    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        if not request.path.startswith("/api/"):
            return error
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        fields = _flatten(data.get("messages", {})) if "messages" in data else {}
        if status == 422:
            message = "Some fields are not valid: " + ", ".join(sorted(fields)) if fields else "Invalid input."
        elif status == 400 and "messages" in data:
            message = "The request body is not valid JSON."
        else:
            message = error.description or error.name
        body = error_body(status, _CODES.get(status, "error"), message, fields)
        response = jsonify(body)
        response.status_code = status
        for name, value in ((getattr(error, "data", None) or {}).get("headers") or {}).items():
            response.headers[name] = value
        return response


def get_api(app: Flask) -> Api:
    return app.extensions["ruamsue_api"]


def init_app(app: Flask) -> None:
    # One Api per app: tests build several apps in one process.
    api = Api()
    api.init_app(app, spec_kwargs={"servers": [{"url": "/"}]})
    app.extensions["ruamsue_api"] = api
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    from core.jobs_api import blp as jobs_blp

    api.register_blueprint(jobs_blp)

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        from core.db import db

        db.session.rollback()
        response = jsonify(error.to_dict())
        response.status_code = error.status
        return response
