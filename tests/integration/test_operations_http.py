"""Health checks, request ids, logs, the error page's reference and /metrics, on a real PostgreSQL."""
from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import _make_app

TOKEN = "metrics-" + uuid.uuid4().hex


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain; version=")
    values = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


@pytest.fixture(scope="module")
def ops_app(database: str) -> Any:
    """An app of its own: metrics on (a token), 500s answered by the error handlers, a route that logs."""
    app = _make_app(database, METRICS_TOKEN=TOKEN, PROPAGATE_EXCEPTIONS=False)

    def noisy() -> str:
        logging.getLogger("ruamsue.test").info("first line")
        logging.getLogger("ruamsue.test").warning("second line")
        return "ok"

    def broken() -> str:
        raise RuntimeError("boom " + "secret-detail")

    app.add_url_rule("/_ops/noisy", "ops_noisy", noisy)
    app.add_url_rule("/_ops/broken", "ops_broken", broken)
    app.add_url_rule("/api/v1/_ops/broken", "ops_api_broken", broken)
    return app


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the production (JSON) handler writes, into a buffer."""
    from core import logs

    buffer = io.StringIO()
    handler = logs.make_handler("json")
    handler.setStream(buffer)  # type: ignore[attr-defined]
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


# --- health ----------------------------------------------------------------------------------------

def test_healthz_answers_without_a_database(database: str) -> None:
    app = _make_app("postgresql://postgres@127.0.0.1:1/nowhere")
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"database": "unavailable", "broker": "ok"}  # names the part, nothing else
    assert ready.headers["Retry-After"] == "5"


def test_readyz_with_database_and_broker(ops_app: Any) -> None:
    response = ops_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "broker": "ok"}


def test_readyz_names_a_broker_that_is_down(database: str) -> None:
    app = _make_app(database, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "broker": "unavailable"}


def test_readyz_on_the_embedded_default_has_no_broker(database: str) -> None:
    app = _make_app(database, JOBS_MODE="thread", REDIS_URL="")
    assert app.test_client().get("/readyz").get_json() == {"database": "ok", "broker": "not configured"}


def test_health_checks_leak_nothing(ops_app: Any) -> None:
    client = ops_app.test_client()
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers
        for secret in ("postgres", "127.0.0.1", "redis", "ruamsue_test", "version"):
            assert secret not in text.lower(), (path, secret)


@pytest.fixture
def limited(database: str) -> Iterator[Any]:
    from core.web import limiter

    saved = dict(vars(limiter))
    try:
        yield _make_app(database, RATELIMIT_ENABLED=True, HEALTH_RATE_LIMIT="3 per minute",
                        RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STORAGE_OPTIONS={})
    finally:
        limiter.reset()
        vars(limiter).clear()
        vars(limiter).update(saved)


def test_health_checks_are_rate_limited_per_address(limited: Any) -> None:
    client = limited.test_client()
    statuses = [client.get("/readyz", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/healthz", environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 200


# --- request ids, logs, the error page -------------------------------------------------------------

def test_request_id_is_generated_and_returned(ops_app: Any) -> None:
    client = ops_app.test_client()
    first, second = client.get("/healthz"), client.get("/healthz")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    # Without a trusted proxy, a caller cannot choose the id written in the logs.
    assert client.get("/healthz", headers={"X-Request-ID": "chosen-by-anyone"}).headers["X-Request-ID"] != \
        "chosen-by-anyone"


def test_request_id_from_a_trusted_proxy(database: str) -> None:
    client = _make_app(database, TRUSTED_PROXIES=1).test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "lb-4f2a/77"}).headers["X-Request-ID"] == "lb-4f2a/77"
    for bad in ("two words", "x" * 129, "semi;colon", "\"quoted\"", ""):
        answered = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert answered != bad and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_every_log_line_of_a_request_carries_its_id(ops_app: Any, captured: io.StringIO) -> None:
    response = ops_app.test_client().get("/_ops/noisy")
    rid = response.headers["X-Request-ID"]
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    ours = [line for line in lines if line.get("request_id") == rid]
    assert [line["message"] for line in ours] == ["first line", "second line", "GET /_ops/noisy 200"]
    assert ours[1]["level"] == "WARNING" and ours[1]["logger"] == "ruamsue.test"
    assert ours[2]["status"] == 200 and ours[2]["path"] == "/_ops/noisy" and ours[2]["ms"] >= 0
    assert all(line.get("request_id") in (None, rid) for line in lines)


def test_error_page_shows_the_reference_and_the_log_has_it(ops_app: Any, captured: io.StringIO) -> None:
    response = ops_app.test_client().get("/_ops/broken")
    assert response.status_code == 500
    rid = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert f"<code translate=\"no\">{rid}</code>" in page and "secret-detail" not in page
    assert "แจ้งรหัสอ้างอิงนี้" in page and "เกิดข้อผิดพลาดในระบบ" in page  # Thai first
    english = ops_app.test_client().get("/_ops/broken?lang=en").get_data(as_text=True)
    assert "give this reference to your administrator" in english and "Something went wrong" in english
    errors = [json.loads(line) for line in captured.getvalue().splitlines()]
    crash = [e for e in errors if e.get("request_id") == rid and e["level"] == "ERROR"]
    assert crash and "secret-detail" in crash[0]["exception"]  # the log has what the page hides


def test_api_error_carries_the_reference(ops_app: Any, db_session: Any, make_network: Any, make_user: Any,
                                        token_for: Any) -> None:
    headers = token_for(make_user(make_network(), "committee"))
    response = ops_app.test_client().get("/api/v1/_ops/broken", headers=headers)
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"]["code"] == "internal"
    assert body["error"]["reference"] == response.headers["X-Request-ID"]
    assert "secret-detail" not in response.get_data(as_text=True)


def test_a_refused_page_shows_the_reference_too(client: Any, make_network: Any, make_user: Any) -> None:
    from tests.integration.pages_helpers import login

    login(client, make_user(make_network(), "committee"))
    response = client.get("/rounds/999999999")
    assert response.status_code == 404
    assert f"<code translate=\"no\">{response.headers['X-Request-ID']}</code>" in response.get_data(as_text=True)


def test_log_format_json_in_production_text_in_the_demo() -> None:
    from core.logs import log_format

    assert log_format({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/ruamsue"}) == "json"
    assert log_format({"SQLALCHEMY_DATABASE_URI": "sqlite:///instance/ruamsue.sqlite3"}) == "text"
    assert log_format({"SQLALCHEMY_DATABASE_URI": "sqlite:///x", "LOG_FORMAT": "JSON"}) == "json"


def test_text_lines_carry_the_request_id(ops_app: Any) -> None:
    from core import logs

    buffer = io.StringIO()
    handler = logs.make_handler("text")
    handler.setStream(buffer)  # type: ignore[attr-defined]
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        rid = ops_app.test_client().get("/_ops/noisy").headers["X-Request-ID"]
    finally:
        root.removeHandler(handler)
    noisy = [line for line in buffer.getvalue().splitlines() if "first line" in line]
    assert len(noisy) == 1 and f"[{rid}] ruamsue.test: first line" in noisy[0]


# --- /metrics --------------------------------------------------------------------------------------

def test_metrics_do_not_exist_without_a_token(client: Any) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_metrics_need_the_token(ops_app: Any) -> None:
    client = ops_app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_requests_are_counted_per_endpoint_and_status(ops_app: Any) -> None:
    client = ops_app.test_client()
    before = sample("ruamsue_http_requests_total", endpoint="healthz", method="GET", status="200")
    before_404 = sample("ruamsue_http_requests_total", endpoint="unmatched", method="GET", status="404")
    before_hist = sample("ruamsue_http_request_duration_seconds_count", endpoint="healthz", method="GET", status="200")
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    values = scrape(client)
    labels = (("endpoint", "healthz"), ("method", "GET"), ("status", "200"))
    assert values[("ruamsue_http_requests_total", labels)] == before + 3
    assert values[("ruamsue_http_request_duration_seconds_count", labels)] == before_hist + 3
    assert values[("ruamsue_http_request_duration_seconds_bucket", tuple(sorted(labels + (("le", "+Inf"),))))] \
        == before_hist + 3
    assert values[("ruamsue_http_requests_total", (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")))] \
        == before_404 + 1


def test_jobs_are_counted_per_kind_and_outcome_and_waiting_jobs_are_shown(ops_app: Any) -> None:
    from sqlalchemy import delete, func, select

    from core import jobs
    from core.db import db
    from core.models import Job

    calls: list[str] = []

    def ok() -> dict[str, Any]:
        calls.append("ok")
        return {"done": True}

    def broken() -> None:
        calls.append("broken")
        raise jobs.PermanentJobError("its subject is gone")

    jobs.HANDLERS["ops_test_ok"] = ok
    jobs.HANDLERS["ops_test_broken"] = broken
    client = ops_app.test_client()
    try:
        with ops_app.app_context():
            before_ok = sample("ruamsue_jobs_total", kind="ops_test_ok", outcome="succeeded")
            before_failed = sample("ruamsue_jobs_total", kind="ops_test_broken", outcome="failed")
            done = [jobs.enqueue("ops_test_ok", {}).id, jobs.enqueue("ops_test_ok", {}).id,
                    jobs.enqueue("ops_test_broken", {}).id]
            jobs.enqueue("ops_test_ok", {})  # never run: one pending job at least
            db.session.commit()
            assert [jobs.run_job(j) for j in done] == ["succeeded", "succeeded", "failed"]
            pending = db.session.execute(select(func.count()).select_from(Job).where(Job.state == "pending")).scalar_one()
            db.session.rollback()
            values = scrape(client)
        assert calls == ["ok", "ok", "broken"]
        assert values[("ruamsue_jobs_total", (("kind", "ops_test_ok"), ("outcome", "succeeded")))] == before_ok + 2
        assert values[("ruamsue_jobs_total", (("kind", "ops_test_broken"), ("outcome", "failed")))] == before_failed + 1
        assert values[("ruamsue_job_duration_seconds_count", (("kind", "ops_test_ok"), ("outcome", "succeeded")))] \
            >= before_ok + 2
        assert pending >= 1 and values[("ruamsue_jobs_waiting", (("state", "pending"),))] == pending
        assert values[("ruamsue_jobs_oldest_waiting_seconds", ())] >= 0
        assert values[("ruamsue_metrics_database_up", ())] == 1
    finally:
        jobs.HANDLERS.pop("ops_test_ok", None)
        jobs.HANDLERS.pop("ops_test_broken", None)
        with ops_app.app_context():
            db.session.execute(delete(Job).where(Job.kind.in_(("ops_test_ok", "ops_test_broken"))))
            db.session.commit()


def test_combine_and_notification_counters(ops_app: Any) -> None:
    from core import metrics

    lines, seconds = sample("ruamsue_combine_lines_total"), sample("ruamsue_combine_seconds_total")
    sent = sample("ruamsue_notifications_sent_total", channel="line")
    failed = sample("ruamsue_notifications_failed_total", channel="email")
    metrics.record_combine(12_000, 0.5)
    metrics.NOTIFICATIONS_SENT.labels(channel="line").inc()
    metrics.NOTIFICATIONS_FAILED.labels(channel="email").inc(2)
    values = scrape(ops_app.test_client())
    assert values[("ruamsue_combine_lines_total", ())] == lines + 12_000
    assert values[("ruamsue_combine_seconds_total", ())] == pytest.approx(seconds + 0.5)
    assert values[("ruamsue_combine_last_lines_per_second", ())] == 24_000
    assert values[("ruamsue_notifications_sent_total", (("channel", "line"),))] == sent + 1
    assert values[("ruamsue_notifications_failed_total", (("channel", "email"),))] == failed + 2


def test_metrics_still_answer_when_the_database_is_down() -> None:
    app = _make_app("postgresql://postgres@127.0.0.1:1/nowhere", METRICS_TOKEN=TOKEN)
    values = scrape(app.test_client())
    assert values[("ruamsue_metrics_database_up", ())] == 0
    assert ("ruamsue_jobs_waiting", (("state", "pending"),)) not in values
