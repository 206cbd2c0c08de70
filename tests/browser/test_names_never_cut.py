"""Issue 22 §4, names whole: in Chromium at 360 × 740, in Thai, on the demo network, every page each role
reaches from its home page (two clicks deep) shows every text whole:

* no element's text is clipped (wider than its box where the box hides the rest: ``overflow`` hidden or
  clip, or an ellipsis; nor behind a sideways scroll: no table needs one at 360 px), and no page scrolls
  sideways;
* a name is never shortened mid-word (the demo once named a leader "ประธานกลุ่มออมทรัพย์เพื่อก");
* the footer's name wraps between words (Chromium's Thai line breaking, ICU's dictionary).
"""
from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.live import Journey
from tests.browser.test_thai_journeys import LINE_ENDS_AT_WORDS

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# Elements whose text does not fit their box and whose box hides (or scrolls) the rest.
CLIPPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') { continue; }
    if (['SVG', 'svg', 'INPUT', 'SELECT', 'TEXTAREA', 'IMG', 'CANVAS', 'DIALOG'].includes(el.tagName)) { continue; }
    if (el.closest('svg')) { continue; }
    const style = getComputedStyle(el);
    const hides = ['hidden', 'clip', 'auto', 'scroll'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    const wide = el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
    const tall = ['hidden', 'clip'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1
                 && el.clientHeight > 0;
    if (hides && (wide || tall) && el.textContent.trim()) {
      out.push(el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + el.textContent.trim().slice(0, 60)
               + ' (' + el.scrollWidth + '>' + el.clientWidth + ')');
    }
  }
  return out;
}"""
# English a Thai page may show: names of things that are written in Latin letters in Thai too, and the
# language switch's own label.
LATIN_ALLOWED = {"LINE", "PromptPay", "QR", "CSV", "XLSX", "PDF", "API", "ID", "OK", "English", "Ruamsue", "SVG",
                 "Excel", "Google", "Sheets", "PIN", "SMS", "URL", "A4", "A5",
                 "xlsx", "UTF-8"}  # file formats, named as the phone names them
LATIN_WORDS = """() => {
  const text = document.body.innerText;
  const words = text.replace(/\\S+@\\S+/g, ' ').replace(/https?:\\/\\/\\S+/g, ' ').match(/[A-Za-z][A-Za-z0-9-]*/g) || [];
  return words;
}"""
SKIP = ("/logout", "/lang/", ".csv", ".svg", ".json", "/static/", "/print", "mailto:", "line.me", "/api/")


@pytest.fixture
def demo(worker_app, committed) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The demo network (``flask demo seed``), committed for the live server to see."""
    from sqlalchemy import select

    from demo.seed import DEMO_PASSWORD, DEMO_USERS, GROUPS, seed
    from network.models import User

    assert seed() is True
    committed.commit()
    from orders.models import Product, Supplier

    leaders = {u.email: u.name for u in committed.scalars(select(User).where(User.role == "leader"))}
    # Latin letters inside the demo's own names (a product "น้ำมันดีเซล B7") are names, not English.
    names = [*committed.scalars(select(Product.name)), *committed.scalars(select(Supplier.name))]
    latin = frozenset(w for n in names for w in re.findall(r"[A-Za-z][A-Za-z0-9-]*", n))
    return {"password": DEMO_PASSWORD, "users": DEMO_USERS, "groups": GROUPS, "leaders": leaders, "latin": latin}


def _crawl(journey: Journey, limit: int, names_in_latin: frozenset[str] = frozenset()) -> list[str]:
    """The pages reached from home by following links, breadth first, at most ``limit``."""
    page, base = journey.page, journey.base
    seen: list[str] = []
    queue: deque[tuple[str, int]] = deque([("/", 0)])
    problems: list[str] = []
    while queue and len(seen) < limit:
        path, depth = queue.popleft()
        if path in seen:
            continue
        seen.append(path)
        response = journey.go(path)
        if response is None or response.status >= 400 or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        page.wait_for_load_state("load")
        try:
            journey.assert_fits()
        except AssertionError as exc:
            problems.append(str(exc))
        clipped = page.evaluate(CLIPPED)
        if clipped:
            problems.append(f"{path}: text clipped: {clipped[:5]}")
        english = sorted({w for w in page.evaluate(LATIN_WORDS) if w not in LATIN_ALLOWED} - names_in_latin)
        if english:
            problems.append(f"{path}: English on a Thai page: {english[:12]}")
        foot = page.locator("footer.foot")
        if foot.count():
            cut = foot.evaluate(LINE_ENDS_AT_WORDS)["bad"]
            if cut:
                problems.append(f"{path}: the footer breaks mid-word: {cut}")
        if depth >= 2:
            continue
        for href in page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)"):
            parsed = urlparse(href)
            if parsed.netloc != urlparse(base).netloc or any(s in href for s in SKIP):
                continue
            target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if target not in seen:
                queue.append((target, depth + 1))
    assert not problems, "\n".join(problems)
    return seen


def test_no_text_is_cut_on_any_page(browser, server, demo):  # type: ignore[no-untyped-def]
    # A name is kept whole: each group's leader is "ประธาน" and the group's whole name.
    for key, (name, *_rest) in demo["groups"].items():
        email = f"leader.{key}@ruamsue.demo"
        if email in demo["leaders"]:
            assert demo["leaders"][email] == f"ประธาน{name}", demo["leaders"][email]
    visited = 0
    for role in ("leader", "committee", "seller", "admin"):
        journey = Journey(browser, server, f"names-whole-{role}")
        journey.login(demo["users"][role][0], demo["password"])
        visited += len(_crawl(journey, limit=30, names_in_latin=demo["latin"]))
        journey.go("/")
        journey.shot("home")
        journey.close()
    # The leader of the savings group, whose name was cut: whole in the footer, wrapped between words.
    savings = Journey(browser, server, "names-whole-savings")
    savings.login("leader.savings@ruamsue.demo", demo["password"])
    foot = savings.page.locator("footer.foot")
    assert "ประธานกลุ่มออมทรัพย์เพื่อการผลิตบ้านเดื่อ" in foot.inner_text()
    visited += len(_crawl(savings, limit=15, names_in_latin=demo["latin"]))
    savings.shot("footer")
    savings.close()
    assert visited >= 60, visited
