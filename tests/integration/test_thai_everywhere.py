"""Every page, as every role, in Thai: no visible English outside a short allow-list of proper nouns and
units. "Visible" is what a person reads: text, the labels the phone layout shows (data-label), button
values, placeholders, confirmations, the countdown's words, the charts' SVG text. Text a person must type
as it is (CSV column names, e-mail addresses) is marked translate="no" or lang="en" and skipped.

A new page is walked without anyone remembering to add it: the rules come from the app's URL map, and a
page whose URL has a parameter this test cannot fill fails until the table below names it."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.integration import thai_world
from tests.integration.pages_helpers import login

# Words a Thai page may carry: file formats and proper nouns that have no Thai spelling in use.
ALLOWED = {"CSV", "LINE"}
# Pages not walked yet (none: every page is in Thai).
PENDING: set[str] = set()
SKIP_RULES = PENDING | {"/login", "/logout", "/lang/<code>", "/static/<path:filename>", "/healthz", "/ping"}
NOT_HTML = (".csv", ".svg", ".json", ".png", ".webmanifest", ".js")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
SHOWN_ATTRS = {"placeholder", "aria-label", "alt", "title", "data-label", "data-confirm", "data-days", "data-closed"}
LATIN = re.compile(r"[A-Za-z][A-Za-z'’]+")
EMAIL = re.compile(r"\S+@\S+")
REFERENCE = re.compile(r"\b[0-9a-f]{32}\b")  # an error page's request reference: an opaque id, not English

# Path parameters: which object of the Thai world a page is shown for.
PARAMS: dict[str, Any] = {
    "round_id": lambda w: w["rounds"]["combined"], "po_id": lambda w: w["po"],
    "purchase_order_id": lambda w: w["po"], "invoice_id": lambda w: w["invoice"],
    "listing_id": lambda w: w["listing"], "purchase_id": lambda w: w["purchase"], "month": lambda w: w["month"],
    "group_id": lambda w: w["groups"]["coop"].id, "job_id": lambda w: "none", "kind": lambda w: "savings",
    "supplier_id": lambda w: w["supplier"], "rfq_id": lambda w: w["rfq"], "token": lambda w: w["quote_token"],
    "sheet_token": lambda w: w["sheet_token"],
    "payment_id": lambda w: w["payment"],
}
# Pages worth seeing in more than one state (the rule's own parameter is replaced by each of these).
VARIANTS: dict[str, list[Any]] = {
    "/rounds/<int:round_id>": [lambda w, state=state: w["rounds"][state] for state in ("draft", "open", "combined", "delivered")],
    "/rounds/<int:round_id>/order": [lambda w: w["rounds"]["open"], lambda w: w["rounds"]["combined"]],
    "/purchase-orders/<int:po_id>/receipt": [lambda w: w["po"]],
}


class VisibleText(HTMLParser):
    """The text of a page as a person sees it, skipping scripts, styles and text marked as not Thai."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it skipped?
        self.parts: list[str] = []

    def _skipped(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        # An element may say it is English (the language switch); a whole page may not.
        marked = tag != "html" and (a.get("lang", "").startswith("en") or a.get("translate") == "no")
        skip = tag in ("script", "style", "template") or marked or a.get("type") == "hidden"
        if not skip and not self._skipped():
            for name, value in a.items():
                if name in SHOWN_ATTRS or name.startswith("data-label"):
                    self.parts.append(value)
            if tag in ("input", "button") and a.get("type") in ("submit", "button", "reset"):
                self.parts.append(a.get("value", ""))
        if tag not in VOID:
            self.stack.append(skip)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped() and data.strip():
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        text = REFERENCE.sub(" ", EMAIL.sub(" ", part))
        for word in LATIN.findall(text):
            if word not in ALLOWED:
                found.append(f"{word!r} in {part.strip()[:80]!r}")
    return found


# ASCII digits only: Thai digits in a name (data) are the name's own.
ISO_DATE = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}(?![0-9])")
GREGORIAN_YEAR = re.compile(r"(?<![0-9,.\-])20[0-9]{2}(?![0-9,.%\-])")
BARE_NUMBER = re.compile(r"(?<![0-9,.\-/:])[0-9]{4,}(?![0-9,\-/:])")  # 1234 or 1234.50: no thousands separator
PHONE = re.compile(r"(?<![0-9])0[0-9]{1,2}-[0-9]{3}-[0-9]{3,4}(?![0-9])")
BUDDHIST_YEAR = re.compile(r"(?<![0-9,.])25[0-9]{2}(?![0-9,.])")


def unthai_numbers(html: str) -> list[str]:
    """Dates that are not Buddhist era and amounts or quantities without thousands separators."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        text = BUDDHIST_YEAR.sub(" ", PHONE.sub(" ", REFERENCE.sub(" ", EMAIL.sub(" ", part))))
        seen: set[int] = set()
        for pattern in (ISO_DATE, GREGORIAN_YEAR, BARE_NUMBER):
            for m in pattern.finditer(text):
                if m.start() not in seen:
                    seen.update(range(m.start(), m.end()))
                    found.append(f"{m.group(0)!r} in {part.strip()[:80]!r}")
    return found


def test_the_number_check_sees_what_a_person_sees():
    assert unthai_numbers("<p>2 ธ.ค. 2569 · 12,500 กระสอบ · 1,234.50 บาท · โทร 081-234-5678 · 12.5%</p>") == []
    assert len(unthai_numbers("<p>วันที่ประชุม 2026-12-02</p>")) == 1
    assert len(unthai_numbers("<p>ธ.ค. 2026</p><p>1234.50 บาท</p><p>12500 กระสอบ</p>")) == 3
    assert unthai_numbers('<input type="hidden" value="2026-12-02"><span translate="no">2026</span>') == []


def test_the_detector_sees_what_a_person_sees():
    html = ('<p>สวัสดี</p><script>var x = "hello"</script><a lang="en">English</a>'
            '<td data-label="Amount">1</td><input type="submit" value="Save"><p translate="no">product, unit</p>'
            '<p>ติดต่อ leader@example.org</p><svg><text>Savings</text></svg><input type="hidden" value="csrf">'
            '<br><img alt="Chart"><p>ไฟล์ CSV</p>')
    assert english_words('<html lang="en"><p>Forbidden</p></html>') == ["'Forbidden' in 'Forbidden'"]
    assert [w.split()[0] for w in english_words(html)] == ["'Amount'", "'Save'", "'Savings'", "'Chart'"]


def _rules(app: Any) -> list[str]:
    return sorted({r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/api/")
                   and r.rule not in SKIP_RULES and not r.rule.endswith(NOT_HTML)})


def _urls(rule: str, w: dict[str, Any]) -> list[str]:
    names = [m.split(":")[-1] for m in re.findall(r"<([^>]+)>", rule)]
    unknown = [n for n in names if n not in PARAMS]
    assert not unknown, f"{rule}: no value for {unknown}; add it to PARAMS of this test"
    fillers = VARIANTS.get(rule) or [None]
    urls = []
    for filler in fillers:
        def value(match: re.Match[str], filler: Any = filler) -> str:
            name = match.group(1).split(":")[-1]
            if filler is not None and name in ("round_id", "po_id"):
                return str(filler(w))
            return str(PARAMS[name](w))

        urls.append(re.sub(r"<([^>]+)>", value, rule))
    return urls


@pytest.fixture
def world(client, db_session, make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    return thai_world.build(client, make_network, make_group, make_user, token_for)


def test_every_page_as_every_role_is_thai(app, db_session, world):  # type: ignore[no-untyped-def]
    from tests.api.authz_world import Browser

    failures: list[str] = []
    walked = 0
    anonymous = Browser(app)
    for path in ("/login?lang=th", "/"):
        response = anonymous.get(path, follow_redirects=True)
        failures += [f"anonymous {path}: {w}" for w in english_words(response.get_data(as_text=True))]
    for role in ("admin", "committee", "leader", "seller"):
        browser = Browser(app)
        login(browser, world["users"][role], "th")
        for rule in _rules(app):
            for url in _urls(rule, world):
                response = browser.get(url)
                if response.status_code in (301, 302, 303):
                    response = browser.get(response.headers["Location"])
                if response.mimetype != "text/html":
                    continue
                walked += 1
                html = response.get_data(as_text=True)
                failures += [f"{role} GET {url} ({response.status_code}): {w}" for w in english_words(html)]
                failures += [f"{role} GET {url} ({response.status_code}): number {w}" for w in unthai_numbers(html)]
    assert walked > 60
    assert not failures, "English, Gregorian dates or bare numbers on Thai pages:\n" + "\n".join(sorted(set(failures)))
