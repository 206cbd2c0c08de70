"""Issue 22 §2/§4 in Chromium at 360 × 740, in Thai, on a live server: after a rebuild of a signed month the
page links every version (and ``?version=N`` opens each), a chart opened alone carries the same "changed
since sign-off" note as the page, and the charts drawn in the page raise no content-security-policy error."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.live import Journey, harness
from tests.browser.test_thai_journeys import (  # noqa: F401  (the fixtures)
    _delivered_on_the_last_day_of,
    world,
)
from tests.conftest import wait_for_job

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def test_versions_after_a_rebuild_and_the_lone_chart(browser, server, world, worker_app, committed):  # type: ignore[no-untyped-def]  # noqa: F811
    api, h, month = worker_app.test_client(), world["h"], world["month"]
    assert api.post(f"/api/v1/summaries/{month}/review", headers=h["committee"],
                    json={"meeting_date": f"{month}-28", "attendance": 12}).status_code == 200
    late = api.post(f"/api/v1/listings/{world['listing']}/purchases", headers=h["leader"],
                    json={"group_id": world["groups"]["coop"].id, "quantity": 10}).get_json()
    assert api.post(f"/api/v1/purchases/{late['id']}/deliver", headers=h["seller"], json={}).status_code == 200
    _delivered_on_the_last_day_of(month, late["id"], committed)
    job = api.post(f"/api/v1/summaries/{month}", headers=h["committee"]).get_json()["job_id"]
    assert wait_for_job(worker_app, job) == "succeeded"
    committee = Journey(browser, server, "summary-versions")
    errors: list[str] = []
    committee.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    committee.login(world["users"]["committee"].email, harness().PASSWORD)
    page = committee.page
    committee.go(f"/summaries/{month}")
    assert page.locator("#chart-savings svg").count() == 1
    page.wait_for_timeout(300)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    versions = page.locator("#versions a")
    assert versions.count() == 2, _text(page, "main")
    for number in (1, 2):
        committee.go(f"/summaries/{month}?version={number}")
        assert f"ฉบับที่ {number}" in _text(page, "#summary-status")
    committee.shot("versions")
    committee.go(f"/summaries/{month}/charts/savings.svg")
    words = page.evaluate("() => [...document.querySelectorAll('text')].map(t => t.textContent).join(' ')")
    assert "เปลี่ยนหลังรับรอง" in words, words
    # Rebuilt again with nothing new: the page says so in words.
    committee.go(f"/summaries/{month}")
    page.click("#rebuild")
    page.click("dialog[open] #dialog-yes")
    from playwright.sync_api import expect

    expect(page.locator("#rebuild-outcome")).to_be_visible(timeout=60_000)
    assert "ไม่มีตัวเลขใดเปลี่ยน" in _text(page, "#rebuild-outcome"), _text(page, "#rebuild-outcome")
    committee.shot("rebuilt-unchanged")
    committee.close()
