"""After login, only a same-site path is followed (after normalising what browsers ignore); 429 answers
say when to come back (Retry-After) and 405 answers what is allowed (Allow), on the API and the pages."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import _make_app
from tests.integration.pages_helpers import PASSWORD, csrf


@pytest.mark.parametrize("target", ["%2F%09%2Fevil.example", "%2F%0A%2Fevil.example", "%2F%0D%2Fevil.example",
                                    "%2F%5Cevil.example", "%5C%5Cevil.example", "%2F%2Fevil.example",
                                    "https%3A%2F%2Fevil.example", "%20%2F%2Fevil.example", "%2F%00%2Fevil.example",
                                    "%2F%E3%80%80%2Fevil.example", "%2F%5C%2Fevil.example"])
def test_login_never_redirects_off_site(client, make_network, make_user, target):  # type: ignore[no-untyped-def]
    user = make_user(make_network(), "committee")
    page = client.get("/login")
    response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD,
                                                          "csrf_token": csrf(page.get_data(as_text=True))})
    location = response.headers.get("Location", "")
    if "%00" in target:  # a NUL in the query is refused before login (core.web): no redirect at all
        assert response.status_code == 400 and not location
        return
    assert response.status_code == 302 and "evil" not in location, location
    assert location in ("/", "http://localhost/"), location


def test_login_follows_a_same_site_path(client, make_network, make_user):  # type: ignore[no-untyped-def]
    user = make_user(make_network(), "committee")
    page = client.get("/login")
    response = client.post("/login?next=%2Frounds%3Fx%3D1", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"].endswith("/rounds?x=1")


def test_405_says_allow_on_the_api_and_pages(client):  # type: ignore[no-untyped-def]
    api = client.delete("/api/v1/tokens")
    assert api.status_code == 405 and "POST" in api.headers.get("Allow", ""), dict(api.headers)
    assert api.get_json()["error"]["code"] == "method_not_allowed"
    page = client.delete("/login")
    assert page.status_code == 405 and "POST" in page.headers.get("Allow", "")


@pytest.fixture
def limited_app(database) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from core.web import limiter

    saved = dict(vars(limiter))
    try:
        yield _make_app(database, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute",
                        RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STORAGE_OPTIONS={})
    finally:
        limiter.reset()
        vars(limiter).clear()
        vars(limiter).update(saved)


def test_429_says_retry_after_on_the_api_and_pages(limited_app):  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    answers = [client.post("/api/v1/tokens", json={"email": "x@example.org", "password": "wrong"})
               for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    token = csrf(client.get("/login").get_data(as_text=True))
    pages = [client.post("/login", data={"email": "y@example.org", "password": "wrong", "csrf_token": token})
             for _ in range(3)]
    assert pages[-1].status_code == 429 and int(pages[-1].headers["Retry-After"]) > 0
