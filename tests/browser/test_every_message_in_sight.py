"""Issue 22 §3 in Chromium at 360 × 740, in Thai, on a live server: after a submit that fails, the error
summary is in view with the focus, lists every field that is wrong (not only the first) with a link to each,
and each field has one message — on the request for quotation and on the supplier's quote page too."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.live import PHONE, Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def _summary_lists(page: Any, ids: list[str]) -> None:
    page.wait_for_selector("#error-summary")
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "error-summary"
    top = page.evaluate("() => document.getElementById('error-summary').getBoundingClientRect().top")
    assert -1 <= top < PHONE["height"], top
    links = page.evaluate("() => [...document.querySelectorAll('#error-summary a')].map(a => a.hash.slice(1))")
    assert all(i in links for i in ids), (ids, links, _text(page, "#error-summary"))
    for i in ids:  # one message per field
        assert page.locator(f"[id='{i}']").locator("xpath=..").locator("p.error").count() == 1, i


def test_refused_forms_list_every_field(browser, server, world):  # type: ignore[no-untyped-def]  # noqa: F811
    committee = Journey(browser, server, "in-sight-rfq")
    committee.login(world["users"]["committee"].email, harness().PASSWORD)
    page = committee.page
    committee.go("/rfqs/new")
    first = page.locator("input[name$='-on']").first
    pid = first.get_attribute("name").split("-")[0]
    first.check()
    page.fill(f"#{pid}-qty", "abc")
    page.fill(f"#{pid}-ref", "x")
    page.locator("#rfq-form button[type=submit]").click()
    _summary_lists(page, [f"{pid}-qty", f"{pid}-ref"])
    assert "ผู้ขายส่ง" in _text(page, "#error-summary")  # no supplier chosen: listed too
    assert page.locator(".error.box").count() == 0 or page.locator(".error.box").count() == 1  # one summary
    committee.shot("rfq-refused")
    committee.close()
    supplier = Journey(browser, server, "in-sight-quote")
    page = supplier.page
    supplier.go(f"/q/{world['quote_token']}")
    box = page.locator("input[name$='-on']").first
    pid = box.get_attribute("name").split("-")[0]
    box.check()
    page.fill(f"#{pid}-pack", "0")
    page.fill(f"#{pid}-t0-price", "abc")
    page.locator("#quote-form button[type=submit]").click()
    _summary_lists(page, [f"{pid}-pack", f"{pid}-t0-price"])
    supplier.shot("quote-refused")
    supplier.close()
