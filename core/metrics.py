"""Prometheus metrics (``prometheus_client``) and ``GET /metrics``.

What is counted, and who counts it:

- ``ruamsue_http_requests_total`` / ``ruamsue_http_request_duration_seconds`` {endpoint, method, status}:
  every request, here.
- ``ruamsue_jobs_total`` / ``ruamsue_job_duration_seconds`` {kind, outcome}: every job run, by
  ``core.jobs`` (outcome: succeeded, failed, retry).
- ``ruamsue_jobs_waiting`` {state}: outbox rows not done (pending, running), read from the database
  at each scrape; ``ruamsue_jobs_oldest_waiting_seconds`` the age of the oldest.
- ``ruamsue_combine_lines_total``, ``ruamsue_combine_seconds_total``: what the combine did, through
  :func:`record_combine` (lines per second = ``rate(lines) / rate(seconds)``);
  ``ruamsue_combine_last_lines_per_second`` the rate of the latest combine.
- ``ruamsue_notifications_sent_total`` / ``ruamsue_notifications_failed_total`` {channel}: a domain
  that sends notifications increments :data:`NOTIFICATIONS_SENT` / :data:`NOTIFICATIONS_FAILED`
  (``NOTIFICATIONS_SENT.labels(channel="line").inc()``); core only defines them.
  ``ruamsue_notification_send_errors_total`` {channel}: sends that crashed on an unexpected error (a bug,
  not the channel's refusal) through :data:`NOTIFICATION_SEND_ERRORS`.

Several processes (gunicorn workers, Celery workers): set ``PROMETHEUS_MULTIPROC_DIR`` to a directory
shared by every process of one host, before they start, and ``/metrics`` adds up all of them (see
docs/operations.md). Without it each process answers with its own figures only.

``/metrics`` answers only with ``Authorization: Bearer $METRICS_TOKEN``; with no token configured it
does not exist (404).
"""
from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Each process writes its figures there from the first metric on: the folder must exist (a Celery
    # worker started before gunicorn created it would fail otherwise).
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: they double the output and nobody alerts on them

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

REQUESTS = Counter("ruamsue_http_requests", "HTTP requests answered", ["endpoint", "method", "status"])
REQUEST_SECONDS = Histogram("ruamsue_http_request_duration_seconds", "Time to answer an HTTP request",
                            ["endpoint", "method", "status"], buckets=REQUEST_BUCKETS)
JOBS = Counter("ruamsue_jobs", "Background job runs", ["kind", "outcome"])
JOB_SECONDS = Histogram("ruamsue_job_duration_seconds", "Time a job's handler ran", ["kind", "outcome"],
                        buckets=JOB_BUCKETS)
COMBINE_LINES = Counter("ruamsue_combine_lines", "Order lines combined")
COMBINE_SECONDS = Counter("ruamsue_combine_seconds", "Seconds spent combining")
COMBINE_LAST_RATE = Gauge("ruamsue_combine_last_lines_per_second", "Order lines per second of the latest combine",
                          multiprocess_mode="mostrecent")
NOTIFICATIONS_SENT = Counter("ruamsue_notifications_sent", "Notifications handed to their channel", ["channel"])
NOTIFICATIONS_FAILED = Counter("ruamsue_notifications_failed", "Notifications that could not be sent", ["channel"])
NOTIFICATION_SEND_ERRORS = Counter("ruamsue_notification_send_errors", "Sends that crashed on a bug (not a delivery "
                                   "failure)", ["channel"])


def record_job(kind: str, outcome: str, seconds: float) -> None:
    JOBS.labels(kind=kind, outcome=outcome).inc()
    JOB_SECONDS.labels(kind=kind, outcome=outcome).observe(seconds)


def record_combine(lines: int, seconds: float) -> None:
    """Called by the combine (any domain) after combining ``lines`` order lines in ``seconds``."""
    COMBINE_LINES.inc(lines)
    COMBINE_SECONDS.inc(seconds)
    if seconds > 0:
        COMBINE_LAST_RATE.set(lines / seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


class _JobsWaiting(Collector):
    """Outbox rows not done, read at scrape time from the database every process shares."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from core.clock import utcnow
        from core.db import db
        from core.models import Job

        waiting = GaugeMetricFamily("ruamsue_jobs_waiting", "Jobs not done yet (outbox rows)", labels=["state"])
        oldest = GaugeMetricFamily("ruamsue_jobs_oldest_waiting_seconds", "Age of the oldest job not done")
        up = GaugeMetricFamily("ruamsue_metrics_database_up", "1 when the database answered this scrape")
        try:
            rows = db.session.execute(
                select(Job.state, func.count(), func.min(Job.created_at))
                .where(Job.state.in_(("pending", "running"))).group_by(Job.state)
            ).all()
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the scrape still answers; the database gauge says why
            self.app.logger.warning("metrics: could not count waiting jobs", exc_info=True)
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        counts = {"pending": 0, "running": 0}
        first = None
        for state, count, created in rows:
            counts[state] = int(count)
            if created is not None and (first is None or created < first):
                first = created
        for state, count in counts.items():
            waiting.add_metric([state], count)
        oldest.add_metric([], (utcnow() - first).total_seconds() if first is not None else 0.0)
        up.add_metric([], 1)
        yield from (waiting, oldest, up)


def exposition(app: Flask) -> bytes:
    """The text of ``/metrics``: this process's (or, in multiprocess mode, every process's) figures and
    the database's."""
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(_JobsWaiting(app))
    return text + generate_latest(database)


def _endpoint() -> str:
    rule = request.url_rule
    return rule.endpoint if rule is not None else "unmatched"


def _authorised() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())


def init_app(app: Flask) -> None:
    app.config.setdefault("METRICS_TOKEN", os.environ.get("METRICS_TOKEN", ""))

    @app.after_request
    def _observe(response: Response) -> Response:
        from core.request_id import elapsed

        labels: dict[str, Any] = {"endpoint": _endpoint(), "method": request.method,
                                  "status": str(response.status_code)}
        REQUESTS.labels(**labels).inc()
        seconds = elapsed()
        if seconds is not None:
            REQUEST_SECONDS.labels(**labels).observe(seconds)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        from flask import abort

        if not app.config.get("METRICS_TOKEN"):
            abort(404)
        if not _authorised():
            response = Response("unauthorised\n", status=401, mimetype="text/plain")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return Response(exposition(app), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
