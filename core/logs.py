"""Logs: one JSON object per line in production, readable text in the demo.

Production is any deployment on PostgreSQL (``DATABASE_URL`` set); ``LOG_FORMAT=json|text`` overrides.
Every line written while a request is served carries its ``request_id`` (``core.request_id``); a line
written by a job carries the job's id.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request

# Set by core.jobs while a job runs, so its lines can be found together.
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("ruamsue_job_id", default=None)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "job_id"}


class ContextFilter(logging.Filter):
    """Puts the request id (and the job id) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        from core.request_id import current

        record.request_id = current() or "-"
        record.job_id = job_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "job_id"):
            value = getattr(record, key, "-")
            if value and value != "-":
                entry[key] = value
        # Fields passed with ``extra=`` (method, path, status, ms of the request line, ...).
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"


def log_format(config: dict[str, Any] | Any) -> str:
    chosen = str(config.get("LOG_FORMAT") or "").lower()
    if chosen in ("json", "text"):
        return chosen
    return "text" if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite") else "json"


def make_handler(fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name("ruamsue")
    return handler


def configure(fmt: str, level: str | int = "INFO") -> None:
    """Send the root logger's lines through our handler (replacing an earlier one of ours)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "ruamsue":
            root.removeHandler(existing)
    root.addHandler(make_handler(fmt))
    root.setLevel(level)


def init_app(app: Flask) -> None:
    app.config.setdefault("LOG_FORMAT", os.environ.get("LOG_FORMAT", ""))
    app.config.setdefault("LOG_LEVEL", os.environ.get("LOG_LEVEL", "INFO"))
    fmt = log_format(app.config)
    app.config["LOG_FORMAT"] = fmt
    configure(fmt, str(app.config.get("LOG_LEVEL") or "INFO"))
    # Flask's own handler would write each line a second time, without the id.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    # A Celery worker keeps these handlers too: tasks.keep_our_logging.
    access = logging.getLogger("ruamsue.request")

    @app.after_request
    def _request_line(response: Response) -> Response:
        """One line per request answered: what, how it ended, how long it took."""
        from core.request_id import elapsed

        seconds = elapsed()
        access.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"method": request.method, "path": request.path, "status": response.status_code,
                           "ms": round(seconds * 1000, 1) if seconds is not None else None})
        return response

