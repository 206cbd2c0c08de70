"""Errors a person can read: an unknown page asked for by a browser is the Thai 404 page (phone-sized), and an
unexpected error is a Thai, phone-sized page with a reference that is also in the log; never a bare server page."""
from __future__ import annotations

import logging
import re

from tests.conftest import _make_app

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_an_unknown_page_in_a_browser_is_the_thai_404_page(client):  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page", headers=BROWSER)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "ไม่พบหน้านี้" in html and 'lang="th"' in html
    assert 'name="viewport" content="width=device-width' in html  # sized for a phone
    assert "app.css" in html
    assert "Not Found" not in html and '"error"' not in html
    # The API keeps its JSON error shape, whatever the Accept header says.
    api = client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_an_unknown_page_in_english(client):  # type: ignore[no-untyped-def]
    client.get("/login?lang=en")
    html = client.get("/no-such-page", headers=BROWSER).get_data(as_text=True)
    assert "Page not found" in html and 'lang="en"' in html


def test_an_unexpected_error_is_a_thai_page_with_a_reference_in_the_log(database, caplog):  # type: ignore[no-untyped-def]
    app = _make_app(database, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/__boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug nobody caught")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/__boom", headers=BROWSER)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "เกิดข้อผิดพลาด" in html and 'name="viewport"' in html
    assert "Internal Server Error" not in html and "Traceback" not in html
    match = re.search(r'class="reference">[^<]*<code[^>]*>([^<]+)</code>', html)
    assert match, html[:1000]
    reference = match.group(1)
    assert response.headers.get("X-Request-ID") in (None, reference)
    logged = [r for r in caplog.records
              if reference in r.getMessage() or getattr(r, "request_id", None) == reference]
    assert logged, "the reference on the page is not in the log"
    assert logged[0].exc_info and "a bug nobody caught" in str(logged[0].exc_info[1])
