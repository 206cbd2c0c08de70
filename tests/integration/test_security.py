"""Sessions and web security, API tokens, rate limits, and the audit trail the committee reads.

- a copied session cookie is useless after logout; Flask-Login protection is "strong";
- cookies are Secure/HttpOnly/SameSite=Lax outside the embedded default, and a deployment that turns
  Secure off is flagged;
- security headers on pages and API (HSTS only over TLS, also behind a trusted proxy);
- every form refuses a POST without its CSRF token (400);
- login and token endpoints are rate-limited per address and per account (429, same answer whether
  the account exists or not);
- API tokens are stored hashed and revocable;
- the audit trail records who changed prices, orders, receipts, payments and reviews, when, from
  what to what; only the committee and the admin read it; nothing can change it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api.authz_world import (
    ADMIN,
    ANON,
    COMMITTEE,
    LEADER,
    OTHER_LEADER,
    SELLER,
    Browser,
    build_world,
    login_client,
    page_rules,
    page_url,
)
from tests.conftest import PASSWORD, _make_app
from tests.integration.pages_helpers import csrf


@pytest.fixture
def world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
          place_order):  # type: ignore[no-untyped-def]
    return build_world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                       place_order)


# --- sessions --------------------------------------------------------------------------------------

def _session_cookie(browser: Browser) -> str:
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_copied_session_cookie_is_useless_after_logout(app, world):  # type: ignore[no-untyped-def]
    mine = login_client(app, world["users"][COMMITTEE])
    assert mine.get("/").status_code == 200
    thief = Browser(app)
    thief.client.set_cookie("session", _session_cookie(mine))
    assert thief.get("/").status_code == 200  # same address and browser: the copy works while logged in
    token = csrf(mine.get("/").get_data(as_text=True))
    assert mine.post("/logout", data={"csrf_token": token}).status_code == 302
    for browser in (thief, mine):
        response = browser.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Even the exact cookie sent before the logout (not the one the logout response replaced).
    replay = Browser(app)
    replay.client.set_cookie("session", _session_cookie(thief))
    assert replay.get("/rounds").status_code == 302


def test_session_protection_is_strong_a_cookie_from_another_browser_is_refused(app, world):  # type: ignore[no-untyped-def]
    from core.auth import login_manager

    assert login_manager.session_protection == "strong"
    assert app.config.get("SESSION_PROTECTION", "strong") == "strong"
    mine = login_client(app, world["users"][ADMIN])
    thief = Browser(app)
    thief.client.set_cookie("session", _session_cookie(mine))
    response = thief.get("/users", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                         headers={"User-Agent": "curl/8.0"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_cookies_are_secure_httponly_and_lax(app, world):  # type: ignore[no-untyped-def]
    # The test app runs on PostgreSQL, as a deployment does: Secure is on without being asked for.
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    browser = Browser(app)
    response = browser.get("/login")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "; Secure" in header and "; HttpOnly" in header and "SameSite=Lax" in header


@pytest.mark.parametrize("env, secure", [
    ({}, False),  # the embedded default: the SQLite demo on http://localhost
    ({"DATABASE_URL": "postgresql://db/ruamsue"}, True),
    ({"DATABASE_URL": "postgresql://db/ruamsue", "FLASK_DEBUG": "1"}, False),
    ({"DATABASE_URL": "postgresql://db/ruamsue", "SESSION_COOKIE_SECURE": "0"}, False),
    ({"SESSION_COOKIE_SECURE": "1"}, True),
])
def test_secure_cookies_by_default_outside_the_embedded_default(monkeypatch, env, secure):  # type: ignore[no-untyped-def]
    import config
    from core.web import cookie_problems

    for name in ("DATABASE_URL", "FLASK_DEBUG", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = config.load()
    assert settings["SESSION_COOKIE_SECURE"] is secure and settings["REMEMBER_COOKIE_SECURE"] is secure
    assert settings["SESSION_COOKIE_HTTPONLY"] is True and settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    problems = cookie_problems(settings)
    # A production configuration (PostgreSQL, no debug) with Secure turned off is flagged.
    assert bool(problems) == (env.get("SESSION_COOKIE_SECURE") == "0"), problems


def test_insecure_production_cookies_are_logged_at_start_up(database, monkeypatch):  # type: ignore[no-untyped-def]
    from core import web

    warned: list[str] = []
    # Not caplog: Celery's logging set-up in other tests of the run may have disabled the logger.
    monkeypatch.setattr(web.log, "warning", lambda msg, *args: warned.append(msg % args))
    _make_app(database, SESSION_COOKIE_SECURE=False)
    assert any("SESSION_COOKIE_SECURE is off" in w for w in warned), warned


# --- headers ---------------------------------------------------------------------------------------

def _assert_headers(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_security_headers_on_pages_and_api_and_hsts_only_over_tls(app, world):  # type: ignore[no-untyped-def]
    browser = login_client(app, world["users"][COMMITTEE])
    for url in ("/", "/rounds", "/login"):
        response = browser.get(url)
        _assert_headers(response)
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS would be ignored anyway
    api = browser.client.get("/api/v1/rounds", headers=world["headers"][COMMITTEE])
    _assert_headers(api)
    secure = app.test_client().get("/login", base_url="https://localhost")
    _assert_headers(secure)
    assert "max-age=31536000" in secure.headers["Strict-Transport-Security"]
    secure_api = app.test_client().get("/api/v1/openapi.json", base_url="https://localhost")
    assert "Strict-Transport-Security" in secure_api.headers


def test_behind_a_trusted_proxy_tls_and_the_client_address_come_from_the_proxy(database, db_session):  # type: ignore[no-untyped-def]
    proxied = _make_app(database, TRUSTED_PROXIES=1)
    response = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    plain = _make_app(database)  # no proxy trusted: a client cannot claim TLS with a header
    response = plain.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


# --- CSRF ------------------------------------------------------------------------------------------

def test_every_form_refuses_a_post_without_its_csrf_token(app, world, db_session):  # type: ignore[no-untyped-def]
    from core.models import AuditEvent

    def audit() -> int:
        return int(db_session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    # LINE's webhook is no form: LINE's signature is its credential (tests/integration/test_line_webhook.py).
    rules = sorted(set(page_rules(app, "POST")) - {"/line/webhook"}) + ["/login"]
    assert len(rules) >= 20
    # As a user who may use the form (so it is the token, not the role, that refuses).
    who = {"/rounds/<int:round_id>/order": LEADER, "/market/listings/<int:listing_id>": LEADER,
           "/market/mine": SELLER, "/market/listings/<int:listing_id>/edit": SELLER,
           "/market/listings/<int:listing_id>/state": SELLER, "/market/purchases/<int:purchase_id>/<action>": SELLER,
           "/groups/<int:group_id>/edit": ADMIN}
    browsers = {role: login_client(app, world["users"][role]) for role in (ADMIN, LEADER, SELLER)}
    browsers[ANON] = Browser(app)
    failures = []
    for rule in rules:
        role = ANON if rule == "/login" else who.get(rule, ADMIN)
        url = page_url(app, rule, world)
        before = audit()
        for data in ({}, {"csrf_token": "forged"}):
            response = browsers[role].post(url, data={**data, "name": "x", "state": "paused", "amount": "1.00",
                                                      "email": world["users"][ADMIN].email, "password": PASSWORD})
            # Refused for the token, and said so in Thai (not werkzeug's English "The CSRF token is missing").
            if response.status_code != 400 or "กรุณาโหลดหน้าใหม่" not in response.get_data(as_text=True):
                failures.append(f"POST {url} as {role} with {data or 'no token'}: {response.status_code}")
        if audit() != before:
            failures.append(f"POST {url}: wrote without a CSRF token")
    assert not failures, "\n".join(failures)
    # The logout form too: without the token the session stays.
    assert browsers[ADMIN].get("/").status_code == 200


def test_the_api_takes_no_session_cookie_so_it_needs_no_csrf(app, world):  # type: ignore[no-untyped-def]
    browser = login_client(app, world["users"][COMMITTEE])
    response = browser.post("/api/v1/suppliers", json={"name": "Cookie-only supplier"})
    assert response.status_code == 401  # a cross-site form riding the cookie gets nowhere


# --- rate limits -----------------------------------------------------------------------------------

@pytest.fixture
def limited_app(database) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """An app with rate limiting on (3 a minute), in memory. The limiter is one object for every
    app of the process: its state is restored afterwards so the other tests stay unlimited."""
    from core.web import limiter

    saved = dict(vars(limiter))
    try:
        yield _make_app(database, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute",
                        RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STORAGE_OPTIONS={})
    finally:
        limiter.reset()
        vars(limiter).clear()
        vars(limiter).update(saved)


def _token_request(client: Any, email: str, address: str, password: str = "wrong-password") -> Any:
    return client.post("/api/v1/tokens", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_token_endpoint_is_limited_per_account_and_does_not_tell_whether_it_exists(
        limited_app, make_network, make_user):  # type: ignore[no-untyped-def]
    network = make_network()
    email = make_user(network, "committee").email
    client = limited_app.test_client()
    answers = {}
    for who in (email, "nobody-here@example.org"):
        # A different address each time: only the per-account limit can stop it.
        bodies = [_token_request(client, who, f"198.51.100.{i}") for i in range(4)]
        assert [r.status_code for r in bodies] == [401, 401, 401, 429], who
        assert bodies[0].get_json() == bodies[1].get_json()
        answers[who] = (bodies[0].get_json(), bodies[3].get_json())
    known, unknown = answers[email], answers["nobody-here@example.org"]
    assert known == unknown  # wrong password and no such account look the same, limited or not
    assert known[1]["error"]["code"] == "rate_limited" and email not in json.dumps(known[1])
    # The right password does not get past the limit either.
    assert _token_request(client, email, "198.51.100.77", PASSWORD).status_code == 429


def test_token_endpoint_is_limited_per_address(limited_app, make_network, make_user):  # type: ignore[no-untyped-def]
    network = make_network()
    email = make_user(network, "committee").email
    client = limited_app.test_client()
    statuses = [_token_request(client, f"guess-{i}@example.org", "192.0.2.10").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Another address is not held back by the first one's guesses.
    assert _token_request(client, email, "192.0.2.11", PASSWORD).status_code == 201


def test_login_form_is_limited_per_address_and_per_account(limited_app, make_network, make_user):  # type: ignore[no-untyped-def]
    network = make_network()
    email = make_user(network, "admin").email

    def attempt(who: str, address: str) -> Any:
        browser = Browser(limited_app)
        page = browser.get("/login", environ_base={"REMOTE_ADDR": address})
        return browser.post("/login", data={"email": who, "password": "wrong-password",
                                            "csrf_token": csrf(page.get_data(as_text=True))},
                            environ_base={"REMOTE_ADDR": address})

    texts = {}
    for who in (email, "nobody-here@example.org"):
        responses = [attempt(who, f"203.0.113.{i}") for i in range(4)]
        assert [r.status_code for r in responses] == [422, 422, 422, 429], who
        texts[who] = responses[3].get_data(as_text=True)
        assert who not in texts[who]
    # The same page for a known and an unknown account (but for the request's own reference id).
    import re

    same = [re.sub(r"[0-9a-f]{32}", "REF", texts[who]) for who in (email, "nobody-here@example.org")]
    assert same[0] == same[1]
    per_address = [attempt(f"guess-{i}@example.org", "203.0.113.200").status_code for i in range(4)]
    assert per_address == [422, 422, 422, 429]


# --- API tokens ------------------------------------------------------------------------------------

def test_tokens_are_stored_hashed_and_revocable(client, db_session, world):  # type: ignore[no-untyped-def]
    from network.models import ApiToken

    user = world["users"][LEADER]
    first = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    second = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    stored = set(db_session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)))
    assert hashlib.sha256(first.encode()).hexdigest() in stored and first not in stored
    h1, h2 = {"Authorization": f"Bearer {first}"}, {"Authorization": f"Bearer {second}"}
    assert client.get("/api/v1/rounds", headers=h1).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=h1).status_code == 204
    refused = client.get("/api/v1/rounds", headers=h1)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "not_authenticated"
    assert client.delete("/api/v1/tokens/current", headers=h1).status_code == 401
    assert client.get("/api/v1/rounds", headers=h2).status_code == 200  # the phone's other token still works
    revoked = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(first.encode()).hexdigest()))
    assert revoked.revoked_at is not None


# --- the audit trail -------------------------------------------------------------------------------

def _events(client: Any, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_change_of_money_prices_and_orders_is_in_the_audit_trail(client, world):  # type: ignore[no-untyped-def]
    h = world["headers"]
    committee = world["users"][COMMITTEE]
    # Prices: an offer and a listing.
    offer = client.post(f"/api/v1/rounds/{world['open'].id}/offers", headers=h[COMMITTEE], json={
        "product_id": world["product"].id, "supplier_id": world["supplier"].id, "pack_size": 1, "min_quantity": 0,
        "reference_price": "100.00", "tiers": [{"min_quantity": 0, "unit_price": "95.00"}]})
    assert offer.status_code == 201
    listing_id = world["listing"].id
    assert client.patch(f"/api/v1/listings/{listing_id}", headers=h[SELLER], json={"price": "33.50"}).status_code == 200
    # An order, replaced.
    order_url = f"/api/v1/rounds/{world['open'].id}/orders/{world['g1'].id}"
    lines = [{"offer_id": world["open_offer"].id, "quantity": 12, "tolerance": 1}]
    assert client.put(order_url, headers=h[LEADER], json={"lines": lines}).status_code == 200
    # A receipt, a payment, a review.
    assert client.post(f"/api/v1/purchase-orders/{world['po'].id}/receipt", headers=h[COMMITTEE],
                       json={"lines": []}).status_code == 200
    invoice_id = world["invoice"].id
    assert client.post(f"/api/v1/invoices/{invoice_id}/payments", headers=h[COMMITTEE],
                       json={"amount": "10.00", "note": "cash"}).status_code == 201
    review = client.post(f"/api/v1/summaries/{world['month']}/review", headers=h[COMMITTEE],
                         json={"meeting_date": datetime.now(UTC).date().isoformat(), "attendance": 9})
    assert review.status_code == 200

    every = _events(client, h[COMMITTEE], per_page=200)
    actions = {e["action"] for e in every}
    assert {"offer.create", "listing.update", "order.replace", "purchase_order.receipt", "invoice.payment",
            "summary.review"} <= actions
    for event in every:
        assert event["created_at"] and event["action"] and event["subject"]

    price = _events(client, h[ADMIN], subject="listing", subject_id=str(listing_id), action="listing.update")
    latest = price[0]  # newest first
    assert latest["before"] == {"price": "35.00"} and latest["after"] == {"price": "33.50"}
    assert latest["user_id"] == world["users"][SELLER].id and latest["user_name"]

    order = _events(client, h[COMMITTEE], action="order.replace")[0]
    assert order["before"] == [{"offer_id": world["open_offer"].id, "quantity": 4, "tolerance": 0}]
    assert order["after"] == lines and order["user_id"] == world["users"][LEADER].id

    payment = _events(client, h[COMMITTEE], subject="invoice", subject_id=str(invoice_id))[0]
    assert payment["after"]["amount"] == "10.00" and payment["user_id"] == committee.id
    # The world's g1 has paid 10.00 already (its first receipt): this payment takes it to 20.00.
    assert payment["before"]["paid"] == "10.00" and payment["after"]["paid"] == "20.00"
    offer_event = _events(client, h[COMMITTEE], subject="offer", subject_id=str(offer.get_json()["id"]))[0]
    assert offer_event["before"] is None and offer_event["after"]["tiers"][0]["unit_price"] == "95.00"
    reviewed = _events(client, h[COMMITTEE], action="summary.review")[0]
    assert reviewed["after"]["attendance"] == 9 and reviewed["user_id"] == committee.id


def test_audit_is_paginated_and_for_the_committee_and_admin_only(client, world, db_session):  # type: ignore[no-untyped-def]
    from core.audit import record

    for i in range(7):
        record(world["users"][COMMITTEE], "listing.update", "listing", world["listing"].id,
               {"price": f"{30 + i}.00"}, {"price": f"{31 + i}.00"})
    db_session.commit()
    h = world["headers"]
    page1 = client.get("/api/v1/audit", headers=h[COMMITTEE], query_string={"per_page": 3, "subject": "listing"})
    info = json.loads(page1.headers["X-Pagination"])
    assert info["total"] == 8 and info["total_pages"] == 3 and info["next_page"] == 2 and len(page1.get_json()) == 3
    page3 = client.get("/api/v1/audit", headers=h[COMMITTEE], query_string={"per_page": 3, "subject": "listing",
                                                                           "page": 3})
    assert len(page3.get_json()) == 2
    ids = [e["id"] for e in page1.get_json()] + [e["id"] for e in page3.get_json()]
    assert len(set(ids)) == 5
    for role in (LEADER, OTHER_LEADER, SELLER):
        refused = client.get("/api/v1/audit", headers=h[role])
        assert refused.status_code == 403 and set(refused.get_json()) == {"error"}
    assert client.get("/api/v1/audit").status_code == 401
    outsider = client.get("/api/v1/audit", headers=h["outsider"])
    assert outsider.status_code == 200 and all(e["subject_id"] != str(world["listing"].id) or
                                               e["action"] != "listing.update" for e in outsider.get_json())


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_no_endpoint_changes_the_audit_trail(client, world, db_session, method):  # type: ignore[no-untyped-def]
    from core.models import AuditEvent

    before = [(e.id, e.before, e.after) for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    event_id = before[0][0]
    for url in ("/api/v1/audit", f"/api/v1/audit/{event_id}"):
        response = client.open(url, method=method, headers=world["headers"][ADMIN], json={"after": None})
        assert response.status_code in (404, 405), (method, url, response.status_code)
    assert client.open("/api/v1/audit", method=method, headers=world["headers"][ADMIN]).status_code == 405
    db_session.expire_all()
    assert [(e.id, e.before, e.after) for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == before


def test_the_orm_refuses_to_change_or_delete_an_audit_event(db_session, world):  # type: ignore[no-untyped-def]
    from core.audit import AuditTrailIsReadOnly
    from core.models import AuditEvent

    event = db_session.scalars(select(AuditEvent)).first()
    event.after = {"price": "0.01"}
    with pytest.raises(AuditTrailIsReadOnly):
        db_session.flush()
    db_session.rollback()
    event = db_session.scalars(select(AuditEvent)).first()
    db_session.delete(event)
    with pytest.raises(AuditTrailIsReadOnly):
        db_session.flush()
    db_session.rollback()


def test_the_committee_reads_the_audit_trail_on_a_page(app, world):  # type: ignore[no-untyped-def]
    browser = login_client(app, world["users"][COMMITTEE])
    page = browser.get("/audit?subject=listing&lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # A sentence, not a code: "changed «Jasmine rice …»: Price from 36.00 baht to 35.00 baht".
    assert "Price from 36.00 baht to 35.00 baht" in text and "listing.update" not in text
    assert login_client(app, world["users"][LEADER]).get("/audit").status_code == 403
    assert login_client(app, world["users"][OTHER_LEADER]).get("/audit").status_code == 403
