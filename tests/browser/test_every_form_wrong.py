"""Issue 22 §3 and §4, every form at once, in Chromium at 360 × 740, in Thai, on a live server: each form
of the service is submitted wrong (several boxes at once where it has several), and then

* the error summary is at the top of the viewport with the focus;
* it lists every box that is wrong, each with a link to that box (and no box twice);
* each box has one message under it, and no other error message sits elsewhere on the page
  (a second box at the top, a flash, a message out of sight);
* a date box shows and reads a Buddhist-era date ("29/02/2570" is refused: 2027 has no 29 February).

The forms: order, request for quotation, the supplier's quote page, award, listing (new, edit), purchase,
receipt of goods, payment, payment cancellation, users, groups (new, edit), network settings, password,
login, notification settings, rounds, offers, suppliers, products, price list, imports, summaries
(meeting), households (list, the households' order sheet)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.live import PHONE, Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# What the page shows after the refused submit, measured in the page.
MEASURE = """(expected) => {
  const s = document.getElementById('error-summary');
  const wrong = [...document.querySelectorAll('[aria-invalid=true]')].map(e => e.id);
  for (const id of expected) { if (!wrong.includes(id) && document.getElementById(id)) { wrong.push(id); } }
  document.querySelectorAll('.has-error').forEach(f => {
    const box = f.querySelector('input:not([type=hidden]), select, textarea');
    if (box && box.id && !wrong.includes(box.id)) { wrong.push(box.id); }
  });
  const perBox = {};
  for (const id of wrong) {
    const box = document.getElementById(id);
    if (['DIV', 'FIELDSET'].includes(box.tagName)) { perBox[id] = box.querySelectorAll(':scope > p.error').length; continue; }
    const holder = box.closest('.field') || box.parentElement;
    // The script's "cannot read this" under a number box is a message too: never beside the server's.
    const unreadable = document.body.getAttribute('data-t-unreadable');
    perBox[id] = holder.querySelectorAll('p.error').length + [...holder.querySelectorAll('.understood')]
      .filter(h => h.textContent.trim() === unreadable).length;
  }
  const elsewhere = [...document.querySelectorAll('.error.box, .flash.error, [role=alert]')]
    .filter(e => e.id !== 'error-summary' && !e.closest('#error-summary') && e.offsetParent !== null
                 && !e.classList.contains('offline-summary'))
    .map(e => e.id + ' ' + e.textContent.trim().slice(0, 80));
  if (!s) { return {summary: false, wrong, perBox, elsewhere}; }
  const r = s.getBoundingClientRect();
  return {
    summary: true, top: r.top, bottom: r.bottom, focused: document.activeElement === s,
    links: [...s.querySelectorAll('a')].map(a => decodeURIComponent(a.hash.slice(1))),
    items: [...s.querySelectorAll('li')].map(li => li.textContent.trim()),
    missing: [...s.querySelectorAll('a')].map(a => decodeURIComponent(a.hash.slice(1)))
      .filter(id => !document.getElementById(id)),
    wrong, perBox, elsewhere,
  };
}"""


@dataclass
class Case:
    name: str
    who: str  # a key of world["users"], or "" for no one logged in
    path: Callable[[dict[str, Any]], str]
    form: str  # the form's selector
    fill: dict[str, str] = field(default_factory=dict)  # box selector -> text typed
    expect: list[str] = field(default_factory=list)  # ids the summary must link
    before: Callable[[Any], None] | None = None  # anything else to do on the page before submitting
    submit: str = "button[type=submit]"


def _check_first(selector: str) -> Callable[[Any], None]:
    return lambda page: page.locator(selector).first.check()


def _cases(w: dict[str, Any]) -> list[Case]:
    coop = w["groups"]["coop"].id
    return [
        Case("login", "", lambda w: "/login", "form.card", {"#email": "ไม่ใช่อีเมล", "#password": ""},
             ["email", "password"]),
        Case("order", "leader", lambda w: f"/rounds/{w['rounds']['open']}/order", "#order-form",
             {"input[data-qty]": "สามสิบ", "input[name^=t_]": "ห้า"}, ["sel:input[data-qty]", "sel:input[name^=t_]"],
             submit="#save-order"),
        Case("rounds", "committee", lambda w: "/rounds", "#round-form",
             {"#name": "", "#closes_at": "29/02/2570 17:00"}, ["name", "closes_at"]),
        Case("offer", "committee", lambda w: f"/rounds/{w['rounds']['draft']}", "#offer-form",
             {"#offer-pack_size": "ศูนย์", "#offer-reference_price": "แปดร้อย", "#offer-tiers": "ราคาเดียว"},
             ["offer-pack_size", "offer-reference_price", "offer-tiers"]),
        Case("supplier", "committee", lambda w: "/suppliers", "#supplier-form",
             {"#supplier-name": ""}, ["supplier-name"]),
        Case("product", "committee", lambda w: "/suppliers", "#product-form",
             {"#product-name": "", "#product-unit": ""}, ["product-name", "product-unit"]),
        Case("price-list", "committee", lambda w: "/suppliers", "#import-form", {}, ["import-supplier_id", "import-file"]),
        Case("rfq", "committee", lambda w: "/rfqs/new", "#rfq-form",
             {"#name": "", "#closes_at": "31/11/2569 17:00", "input[id$=-qty]": "สามร้อย"},
             ["name", "closes_at", "sel:input[id$=-qty]", "suppliers"], before=_check_first("input[name$='-on']")),
        Case("rfq-nothing-chosen", "committee", lambda w: "/rfqs/new", "#rfq-form", {}, ["items", "suppliers"]),
        Case("quote", "", lambda w: f"/q/{w['quote_token']}", "#quote-form",
             {"input[id$=-pack]": "0", "input[id$=-t0-price]": "abc"}, ["sel:input[id$=-pack]", "sel:input[id$=-t0-price]"],
             before=_check_first("input[name$='-on']")),
        Case("receipt", "committee", lambda w: f"/purchase-orders/{w['po']}/receipt", "#receipt-form",
             {"#received_at": "29/02/2570 10:00", "input[id^=r_]": "สิบ"}, ["received_at", "sel:input[id^=r_]"]),
        Case("payment", "committee", lambda w: f"/invoices/{w['invoice']}", "#payment-form",
             {"#amount": "หนึ่งพัน"}, ["amount"]),
        Case("payment-cancel", "committee", lambda w: f"/payments/{w['payment']}/receipt", "#cancel-form",
             {"#reason": ""}, ["reason"]),
        Case("summary", "committee", lambda w: f"/summaries/{w['month']}", "#review-form",
             {"#meeting_date": "29/02/2570", "#attendance": "สิบสอง"}, ["meeting_date", "attendance"]),
        Case("users", "admin", lambda w: "/users", "form.card:has(#email)",
             {"#name": "", "#email": w["users"]["leader"].email, "#password": "สั้น"}, ["name", "email", "password"]),
        Case("group-new", "admin", lambda w: "/groups", "form.card:has(#members)",
             {"#name": "", "#members": "หนึ่งร้อย", "#registered_poor_members": "-1"},
             ["name", "members", "registered_poor_members"]),
        Case("group-edit", "admin", lambda w: f"/groups/{coop}/edit", "form.card:has(#members)",
             {"#members": "10", "#registered_poor_members": "61", "#promptpay_id": "123"},
             ["registered_poor_members", "promptpay_id"]),
        Case("settings", "admin", lambda w: "/network/settings", "#network-settings", {"#promptpay_id": "12345"},
             ["promptpay_id"]),
        Case("password", "leader", lambda w: "/account/password", "form.card",
             {"#current_password": "", "#new_password": "สั้น", "#confirm_password": "อื่น"},
             ["current_password", "new_password", "confirm_password"]),
        Case("notifications", "leader", lambda w: "/notifications/settings", "form.card:has(#quiet_from)",
             {"#quiet_from": "๒๕.๐๐ น.", "#quiet_until": ""}, ["quiet_from", "quiet_until"]),
        Case("imports", "admin", lambda w: "/imports", "form.card[enctype]", {}, ["file"]),
        Case("listing-new", "seller", lambda w: "/market/mine", "#listing-form",
             {"#name": "", "#price": "สี่สิบ", "#stock": "-5"}, ["name", "price", "stock"]),
        Case("listing-edit", "seller", lambda w: f"/market/listings/{w['listing']}/edit", "#listing-form",
             {"#unit": "", "#price": "สี่สิบ"}, ["unit", "price"]),
        Case("purchase", "leader", lambda w: f"/market/listings/{w['listing']}", "#buy-form",
             {"#quantity": "มาก"}, ["quantity"]),
        Case("households", "leader", lambda w: f"/groups/{coop}/households", "#household-form",
             {"#name": "", "#phone": "12"}, ["name", "phone"]),
        Case("sheet", "", lambda w: w["open_sheet"], "#sheet-form", {"input[id^=q-]": "สามสิบ"}, ["sel:input[id^=q-]"]),
        Case("award", "committee", lambda w: f"/rfqs/{w['rfq']}", "#award-form", {}, ["confirm"], submit="#award"),
    ]


def _quote_once(browser: Any, server: str, token: str) -> None:
    """The supplier sends a quote, so the committee has something to award."""
    supplier = Journey(browser, server, "every-form-quote-sent")
    page = supplier.page
    supplier.go(f"/q/{token}")
    page.locator("input[name$='-on']").first.check()
    page.locator("input[id$=-t0-price]").first.fill("800")
    page.locator("#quote-form button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    supplier.close()


def _open_sheet(api: Any, w: dict[str, Any]) -> str:
    """The households' order sheet of the open round, at the first household."""
    h, coop = w["h"]["leader"], w["groups"]["coop"].id
    token = api.post(f"/api/v1/rounds/{w['rounds']['open']}/groups/{coop}/sheet", headers=h).get_json()["token"]
    house = api.get(f"/api/v1/groups/{coop}/households", headers=h).get_json()
    first = (house["items"] if isinstance(house, dict) else house)[0]["id"]
    return f"/h/{token}?h={first}"


def test_every_form_submitted_wrong_says_so_in_sight(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    _quote_once(browser, server, world["quote_token"])
    world["open_sheet"] = _open_sheet(worker_app.test_client(), world)
    pw = harness().PASSWORD
    phones: dict[str, Journey] = {}
    failures: list[str] = []
    try:
        for case in _cases(world):
            if case.who not in phones:
                phones[case.who] = Journey(browser, server, f"every-form-{case.who or 'nobody'}")
                if case.who:
                    phones[case.who].login(world["users"][case.who].email, pw)
            journey = phones[case.who]
            page = journey.page
            journey.go(case.path(world))
            form = page.locator(case.form)
            assert form.count() == 1, f"{case.name}: {case.form} found {form.count()} times"
            if case.before:
                case.before(form)
            for selector, text in case.fill.items():
                box = form.locator(selector).first
                box.fill(text)
            expect = [form.locator(e[4:]).first.get_attribute("id") if e.startswith("sel:") else e for e in case.expect]
            if case.submit.startswith("#"):
                page.click(case.submit)
            else:
                form.locator(case.submit).first.click()
            try:
                page.wait_for_selector("#error-summary", timeout=10_000)
            except Exception:  # noqa: BLE001
                failures.append(f"{case.name}: no error summary ({page.url})")
                continue
            page.wait_for_load_state("load")
            seen = page.evaluate(MEASURE, expect)
            problems = []
            if not seen["focused"]:
                problems.append("the summary has not the focus")
            if not (-1 <= seen["top"] and seen["bottom"] <= PHONE["height"] + 1):
                problems.append(f"the summary is out of sight ({seen['top']:.0f}..{seen['bottom']:.0f})")
            unlisted = [i for i in set(seen["wrong"]) | set(expect) if i not in seen["links"]]
            if unlisted:
                problems.append(f"wrong boxes not linked from the summary: {unlisted}")
            if len(seen["links"]) != len(set(seen["links"])):
                problems.append(f"a box listed twice: {seen['links']}")
            if seen["missing"]:
                problems.append(f"links to nothing: {seen['missing']}")
            twice = {i: n for i, n in seen["perBox"].items() if n != 1}
            if twice:
                problems.append(f"boxes without exactly one message: {twice}")
            if seen["elsewhere"]:
                problems.append(f"messages outside the summary: {seen['elsewhere']}")
            if case.name in ("rounds", "receipt", "summary"):
                said = " ".join(seen["items"])
                if "กุมภาพันธ์ 2570 ไม่มีวันที่ 29" not in said:
                    problems.append(f"the Buddhist-era date was not read: {said}")
            journey.shot(case.name)
            if problems:
                failures.append(f"{case.name} ({page.url}): " + "; ".join(problems) + f" | {seen['items']}")
    finally:
        for journey in phones.values():
            journey.close()
    assert not failures, "\n".join(failures)


def test_dates_are_written_and_read_in_the_buddhist_era(browser, server, world):  # type: ignore[no-untyped-def]  # noqa: F811
    """A date box is a text box showing day/month/Buddhist year; what a Thai phone types is read."""
    committee = Journey(browser, server, "every-form-dates")
    committee.login(world["users"]["committee"].email, harness().PASSWORD)
    page = committee.page
    assert page.locator("input[type=date], input[type=datetime-local]").count() == 0
    for path in ("/rounds", "/rfqs/new", f"/summaries/{world['month']}", f"/purchase-orders/{world['po']}/receipt"):
        committee.go(path)
        assert page.locator("input[type=date], input[type=datetime-local]").count() == 0, path
    # A time is a text box on the 24-hour clock too (a phone's time picker may say 9:00 PM).
    committee.go("/notifications/settings")
    assert page.locator("input[type=time]").count() == 0 and page.input_value("#quiet_from") == "21:00"
    # The meeting is today in Bangkok by default, written the Thai way.
    committee.go(f"/summaries/{world['month']}")
    today = datetime.now(ZoneInfo("Asia/Bangkok")).date()
    assert page.input_value("#meeting_date") == f"{today.day:02d}/{today.month:02d}/{today.year + 543}"
    # A new round closing 29 February 2571 (2028, a leap year) at 17:00, typed in Thai digits.
    committee.go("/rounds")
    assert re.fullmatch(r"\d\d/\d\d/25\d\d \d\d:\d\d", page.input_value("#closes_at")), page.input_value("#closes_at")
    page.fill("#name", "รอบวันอธิกสุรทิน")
    page.fill("#closes_at", "๒๙/๐๒/๒๕๗๑ ๑๗.๐๐ น.")
    page.locator("#round-form button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    assert "29 ก.พ. 2571" in re.sub(r"\s+", " ", page.locator("main").inner_text())
    committee.shot("leap-day-round")
    committee.close()
