"""Limits on what one request may carry, before anything reads it: a JSON body nested too deep or too
large, a form or an upload too large. Each is refused with a clear message (JSON for the API, a Thai page
for the pages), never a 5xx, whoever asks (logged in or not)."""
from __future__ import annotations

import io
import json

import pytest

from tests.integration.pages_helpers import csrf, login


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body", [_nested(1_000), _nested(100_000), '{"a":' * 1_000 + "1" + "}" * 1_000,
                                  json.dumps({"email": json.loads(_nested(40)), "password": "x"})],
                         ids=["list-1000", "list-100000", "object-1000", "deep-field"])
def test_deeply_nested_json_is_refused_before_login(client, body):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.json["error"]
    assert error["code"] == "bad_request" and "nested" in error["message"]


def test_json_nested_within_the_limit_is_read(client):  # type: ignore[no-untyped-def]
    # A wrong password, not a refusal of the shape: the body was read.
    response = client.post("/api/v1/tokens", json={"email": "a@example.org", "password": "x"})
    assert response.status_code == 401


def test_a_large_json_body_is_refused_with_413_unread(client, app):  # type: ignore[no-untyped-def]
    limit = app.config["MAX_JSON_BYTES"]
    body = '{"email": "' + "a" * 20_000_000 + '", "password": "x"}'
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 413, response.status_code
    error = response.json["error"]
    assert error["code"] == "too_large" and f"{limit:,}" in error["message"]
    # The same for a logged-in caller's endpoint: the size is checked before anything else.
    response = client.post("/api/v1/products", data=body, content_type="application/json")
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"


def test_a_large_form_is_refused_with_a_thai_page(client, world_login):  # type: ignore[no-untyped-def]
    page = client.get("/suppliers")
    response = client.post("/suppliers", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                               "supplier-name": "x" * 2_000_000})
    assert response.status_code == 413
    assert "ใหญ่เกินไป" in response.get_data(as_text=True)


def test_a_large_upload_is_refused_with_413(client, app, world_login):  # type: ignore[no-untyped-def]
    page = client.get("/suppliers")
    big = io.BytesIO(b"product,unit\n" + b"x," * (app.config["MAX_CONTENT_LENGTH"] // 2 + 10))
    response = client.post("/price-lists", content_type="multipart/form-data",
                           data={"csrf_token": csrf(page.get_data(as_text=True)), "import-file": (big, "p.csv")})
    assert response.status_code == 413
    assert "ใหญ่เกินไป" in response.get_data(as_text=True)


@pytest.fixture
def world_login(client, make_network, make_user):  # type: ignore[no-untyped-def]
    network = make_network()
    login(client, make_user(network, "committee"))


def test_a_payment_with_a_slip_photo_may_be_larger_than_other_json(client, app):  # type: ignore[no-untyped-def]
    """POST /invoices/<id>/payments takes a slip photo in base64 (up to 5 MiB): its own limit, not 1 MB.
    Not logged in, it reaches the login check (401), not the size refusal (413)."""
    body = '{"amount": "1.00", "slip": "' + "A" * 3_000_000 + '"}'
    response = client.post("/api/v1/invoices/1/payments", data=body, content_type="application/json")
    assert response.status_code == 401, response.status_code
    too_big = '{"amount": "1.00", "slip": "' + "A" * 7_500_000 + '"}'
    response = client.post("/api/v1/invoices/1/payments", data=too_big, content_type="application/json")
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
