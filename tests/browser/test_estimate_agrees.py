"""Issue 22 §2: the estimate on the order page agrees with itself and with the server. The page's script
(``RuamsueEstimate.line`` in core/static/app.js) and ``pricing.estimate`` run on the same inputs; the order
page's line, footer and box agree for a line below the network minimum; after the close, the real bill."""
from __future__ import annotations

import random
import re
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.live import Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def _cases(n: int) -> list[dict[str, Any]]:
    rng = random.Random(22)
    cases = []
    for _ in range(n):
        pack = rng.choice([1, 1, 5, 12, 50])
        tiers = [(0, Decimal(rng.randint(5000, 90000)) / 100)]
        for _step in range(rng.randint(0, 2)):
            tiers.append((tiers[-1][0] + rng.randint(1, 300), tiers[-1][1] - Decimal(rng.randint(0, 500)) / 100))
        others_q = rng.choice([0, 0, rng.randint(1, 400)])
        cases.append({"pack": pack, "min": rng.choice([0, 0, rng.randint(1, 600)]), "tiers": tiers,
                      "othersQ": others_q, "othersT": rng.randint(0, 30) if others_q else 0,
                      "q": rng.choice([0, rng.randint(1, 400)]), "t": rng.choice([0, rng.randint(0, 40)])})
    return cases


def _server(case: dict[str, Any]) -> dict[str, Any]:
    from pricing import OfferTerms, Tier
    from pricing.estimate import EstimateOffer, estimate_order

    terms = OfferTerms(pack_size=case["pack"], min_quantity=case["min"], reference_price=Decimal("100.00"),
                       delivery_fee=Decimal("0.00"), tiers=tuple(Tier(m, p) for m, p in case["tiers"]))
    got = estimate_order([EstimateOffer(1, 1, terms, case["othersQ"], case["othersT"])],
                         {1: (case["q"], case["t"])} if case["q"] else {}, Decimal("0"))
    if not got.lines:
        return {"ordered": False, "allocated": 0, "value": 0}
    line = got.lines[0]
    return {"ordered": line.ordered, "allocated": line.allocated, "value": int(line.value * 100)}


def test_the_pages_script_and_pricing_agree(browser):  # type: ignore[no-untyped-def]  # noqa: F811
    from tests.browser.live import ROOT

    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path=str(ROOT / "core" / "static" / "app.js"))
    cases = _cases(400)
    script = page.evaluate("""cases => cases.map(c => {
        const r = window.RuamsueEstimate.line({pack: c.pack, min: c.min, tiers: c.tiers, othersQ: c.othersQ,
                                               othersT: c.othersT}, c.q, c.t);
        return {ordered: r.ordered, allocated: r.allocated, value: r.value};
    })""", [{**c, "tiers": ",".join(f"{m}:{p:.2f}" for m, p in c["tiers"])} for c in cases])
    page.close()
    wrong = [(c, s, _server(c)) for c, s in zip(cases, script) if s != _server(c) and c["q"]]
    assert not wrong, wrong[:3]
    assert sum(1 for c in cases if c["q"] and not _server(c)["ordered"]) > 10  # the minimum was exercised


def test_the_order_page_agrees_with_itself_below_the_minimum(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    api, h = worker_app.test_client(), world["h"]
    products = {p["name"]: p["id"] for p in api.get("/api/v1/products", headers=h["committee"]).get_json()}
    rid = api.post("/api/v1/rounds", headers=h["committee"], json={
        "name": "รอบน้ำมันพืชปลายปี", "closes_at": "2099-01-01T10:00:00+07:00"}).get_json()["id"]
    oid = api.post(f"/api/v1/rounds/{rid}/offers", headers=h["committee"], json={
        "product_id": products["น้ำมันถั่วเหลือง"], "supplier_id": world["supplier"], "pack_size": 1,
        "min_quantity": 1000, "reference_price": "55.00",
        "tiers": [{"min_quantity": 0, "unit_price": "46.35"}]}).get_json()["id"]
    assert api.post(f"/api/v1/rounds/{rid}/open", headers=h["committee"]).status_code == 200
    assert api.put(f"/api/v1/rounds/{rid}/orders/{world['groups']['coop'].id}", headers=h["leader"], json={
        "lines": [{"offer_id": oid, "quantity": 100}]}).status_code == 200
    leader = Journey(browser, server, "estimate-agrees")
    leader.login(world["users"]["leader"].email, harness().PASSWORD)
    page = leader.page
    leader.go(f"/rounds/{rid}/order")
    assert "ไม่ต้องจ่าย" in _text(page, "#estimate") and _text(page, "#estimate-total") == "0.00"
    # 100 litres × 46.35 = 4,635.00 if the minimum were ignored: the line and the footer say 0.00 too.
    assert _text(page, "[data-line-amount]") == "0.00" and _text(page, "#order-total") == "0.00"
    assert page.locator("[data-below-minimum]").is_visible()
    leader.shot("below-minimum")
    # After the close: the real bill, not the estimate.
    job = api.post(f"/api/v1/rounds/{rid}/close", headers=h["committee"]).get_json()["job_id"]
    from tests.conftest import wait_for_job

    assert wait_for_job(worker_app, job) == "succeeded"
    leader.go(f"/rounds/{rid}/order")
    assert page.locator("#estimate").count() == 0 and page.locator("[data-line-amount]").count() == 0
    assert "ไม่ได้สั่งซื้อรายการนี้ กลุ่มไม่ต้องจ่าย" in _text(page, f"[data-billed='{oid}']")
    assert _text(page, "#order-billed") == "ยอดที่ต้องจ่ายจริง (รวมค่าธรรมเนียม) 0.00 บาท"
    leader.shot("closed-bill")
    leader.close()
