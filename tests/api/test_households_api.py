"""Households over the API: the list, the round's sheet by link, the group's order from the households, household
bills after the combine and after a short receipt, the month's measured reach, and every refusal."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pricing.promptpay import promptpay_payload

D = Decimal


@pytest.fixture
def world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer):  # type: ignore[no-untyped-def]
    network = make_network(fee_percent="1")
    group = make_group(network, name="กลุ่มแม่บ้านโนนสูง", members=10, registered_poor_members=3)
    other = make_group(network, name="กลุ่มอื่น")
    leader, other_leader = make_user(network, "leader", group), make_user(network, "leader", other)
    committee = make_user(network, "committee")
    far = make_network()
    outsider = make_user(far, "admin")
    rnd = make_round(network, name="รอบข้าว ธ.ค.")
    rice = make_offer(rnd, pack_size=5, reference_price="50.00", delivery_fee="30.00", tiers=[(0, "45.00")])
    oil = make_offer(rnd, pack_size=1, reference_price="60.00", tiers=[(0, "52.00")])
    return {"network": network, "group": group, "other": other, "round": rnd, "rice": rice, "oil": oil,
            "leader": token_for(leader), "other_leader": token_for(other_leader), "committee": token_for(committee),
            "outsider": token_for(outsider), "leader_user": leader}


def _add(client: Any, w: dict[str, Any], name: str, poor: bool, **more: Any) -> Any:
    return client.post(f"/api/v1/groups/{w['group'].id}/households", headers=w["leader"],
                       json={"name": name, "registered_poor": poor, **more})


def _sheet(client: Any, w: dict[str, Any]) -> str:
    response = client.post(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/sheet", headers=w["leader"])
    assert response.status_code == 201, response.json
    assert response.json["url"].endswith("/h/" + response.json["token"])
    return str(response.json["token"])


def _close_and_combine(db_session: Any, rnd: Any) -> None:
    from orders import combine

    rnd.state = "closed"
    db_session.commit()
    combine.combine_round(rnd.id)


def test_household_list_keeps_the_minimum_and_refuses_what_is_wrong(client, world):  # type: ignore[no-untyped-def]
    w = world
    created = _add(client, w, "บ้านเลขที่ 12", True, phone="๐๘๑-๒๓๔-๕๖๗๘")
    assert created.status_code == 201, created.json
    assert created.json == {"id": created.json["id"], "name": "บ้านเลขที่ 12", "registered_poor": True,
                            "phone": "0812345678"}
    assert set(created.json) == {"id", "name", "registered_poor", "phone"}  # nothing more is kept
    same = _add(client, w, "บ้านเลขที่ 12", False)
    assert same.status_code == 422 and "name" in same.json["error"]["fields"]
    bad_phone = _add(client, w, "บ้านเลขที่ 13", False, phone="12345")
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json["error"]["fields"]
    empty = _add(client, w, "   ", False)
    assert empty.status_code == 422 and "name" in empty.json["error"]["fields"]
    hid = created.json["id"]
    patched = client.patch(f"/api/v1/households/{hid}", headers=w["committee"], json={"registered_poor": False,
                                                                                     "phone": None})
    assert patched.status_code == 200 and patched.json["registered_poor"] is False and patched.json["phone"] is None
    listed = client.get(f"/api/v1/groups/{w['group'].id}/households", headers=w["leader"])
    assert [h["name"] for h in listed.json] == ["บ้านเลขที่ 12"]
    # Another group's leader and another network learn nothing, not even that the group has households.
    for who in ("other_leader", "outsider"):
        assert client.get(f"/api/v1/groups/{w['group'].id}/households", headers=w[who]).status_code == 404
        assert client.patch(f"/api/v1/households/{hid}", headers=w[who], json={"name": "x"}).status_code == 404
        assert client.delete(f"/api/v1/households/{hid}", headers=w[who]).status_code == 404
        assert _add(client, {**w, "leader": w[who]}, "บ้านใหม่", False).status_code == 404
    assert client.delete(f"/api/v1/households/{hid}", headers=w["leader"]).status_code == 204
    assert client.get(f"/api/v1/groups/{w['group'].id}/households", headers=w["leader"]).json == []
    assert client.delete(f"/api/v1/households/{hid}", headers=w["leader"]).status_code == 404


def test_the_sheet_by_link_each_household_its_own_lines(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    a = _add(client, w, "บ้านนายมา", True).json["id"]
    b = _add(client, w, "บ้านนางมี", False).json["id"]
    other_household = client.post(f"/api/v1/groups/{w['other'].id}/households", headers=w["committee"],
                                  json={"name": "บ้านกลุ่มอื่น"}).json["id"]
    token = _sheet(client, w)
    seen = client.get(f"/api/v1/sheets/{token}")
    assert seen.status_code == 200
    assert seen.json["round"]["state"] == "open" and seen.json["round"]["name"] == "รอบข้าว ธ.ค."
    assert {h["name"] for h in seen.json["households"]} == {"บ้านนายมา", "บ้านนางมี"}
    assert [o["id"] for o in seen.json["offers"]] == [w["rice"].id, w["oil"].id]
    put = client.put(f"/api/v1/sheets/{token}/households/{a}",
                     json={"lines": [{"offer_id": w["rice"].id, "quantity": 4}, {"offer_id": w["oil"].id, "quantity": 0}]})
    assert put.status_code == 200 and put.json["lines"] == [{"offer_id": w["rice"].id, "quantity": 4}]
    client.put(f"/api/v1/sheets/{token}/households/{b}", json={"lines": [{"offer_id": w["rice"].id, "quantity": 3}]})
    mine = client.get(f"/api/v1/sheets/{token}/households/{b}").json
    assert mine["lines"] == [{"offer_id": w["rice"].id, "quantity": 3}] and mine["bill"] is None
    assert mine["household_id"] == b and set(mine) <= {"household_id", "name", "lines", "bill"}  # its own only
    # Refusals: an offer of no round, a negative quantity, another group's household, an unknown token.
    wrong = client.put(f"/api/v1/sheets/{token}/households/{a}", json={"lines": [{"offer_id": 999999, "quantity": 1}]})
    assert wrong.status_code == 422 and "lines" in wrong.json["error"]["fields"]
    negative = client.put(f"/api/v1/sheets/{token}/households/{a}",
                          json={"lines": [{"offer_id": w["rice"].id, "quantity": -1}]})
    assert negative.status_code == 422
    assert client.get(f"/api/v1/sheets/{token}/households/{other_household}").status_code == 404
    assert client.put(f"/api/v1/sheets/{token}/households/{other_household}", json={"lines": []}).status_code == 404
    assert client.get("/api/v1/sheets/" + "x" * 43).status_code == 404
    # The page behind the link: Thai, a phone keeps a copy to open offline, and it shows one household only.
    page = client.get(f"/h/{token}?h={b}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers.get("X-Offline-Page") == "1"
    assert "บ้านนางมี" in html and 'value="3"' in html and 'value="4"' not in html
    assert client.get("/h/" + "x" * 43).status_code == 404
    # The link is not a bearer token.
    assert client.get("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The leader sees every household's lines, the totals, and the difference from the group's order.
    view = client.get(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/households", headers=w["leader"]).json
    assert view["totals"] == [{"offer_id": w["rice"].id, "quantity": 7}]
    assert view["order"] == [{"offer_id": w["rice"].id, "households": 7, "ordered": 0, "difference": 7}]
    assert client.get(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/households",
                      headers=w["other_leader"]).status_code == 403
    assert client.get(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/households",
                      headers=w["outsider"]).status_code == 404
    # Only the group's own leader shares the link; another network does not even find the round.
    assert client.post(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/sheet",
                       headers=w["other_leader"]).status_code == 403
    assert client.post(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/sheet",
                       headers=w["outsider"]).status_code == 404
    # A new link replaces the old; a revoked link is a 404, whatever it names.
    newer = _sheet(client, w)
    assert client.get(f"/api/v1/sheets/{token}").status_code == 404
    assert client.delete(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/sheet",
                         headers=w["leader"]).status_code == 204
    assert client.get(f"/api/v1/sheets/{newer}").status_code == 404
    assert client.put(f"/api/v1/sheets/{newer}/households/{a}", json={"lines": []}).status_code == 404
    assert client.delete(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/sheet",
                         headers=w["leader"]).status_code == 404


def test_from_households_through_the_order_rules(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    a = _add(client, w, "บ้าน ก", False).json["id"]
    token = _sheet(client, w)
    path = f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}/from-households"
    # Nothing asked yet: adopting would withdraw the group's order; refused, the order unchanged.
    client.put(f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}", headers=w["leader"],
               json={"lines": [{"offer_id": w["oil"].id, "quantity": 2, "tolerance": 0}]})
    assert client.post(path, headers=w["leader"], json={}).status_code == 409
    kept = client.get(f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}", headers=w["leader"]).json
    assert [ln["offer_id"] for ln in kept["lines"]] == [w["oil"].id]
    client.put(f"/api/v1/sheets/{token}/households/{a}", json={"lines": [{"offer_id": w["rice"].id, "quantity": 8}]})
    # The committee may not place a group's order: the same rule as PUT.
    assert client.post(path, headers=w["committee"], json={}).status_code == 403
    assert client.post(path, headers=w["other_leader"], json={}).status_code == 403
    assert client.post(path, headers=w["outsider"], json={}).status_code == 404
    bad = client.post(path, headers=w["leader"], json={"tolerances": [{"offer_id": w["oil"].id, "tolerance": 2}]})
    assert bad.status_code == 422 and "tolerances" in bad.json["error"]["fields"]
    placed = client.post(path, headers=w["leader"], json={"tolerances": [{"offer_id": w["rice"].id, "tolerance": 2}]})
    assert placed.status_code == 200, placed.json
    assert [(ln["offer_id"], ln["quantity"], ln["tolerance"]) for ln in placed.json["lines"]] == [(w["rice"].id, 8, 2)]
    order = client.get(f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}", headers=w["leader"]).json
    assert [(ln["quantity"], ln["tolerance"]) for ln in order["lines"]] == [(8, 2)]
    # A later change by a household shows as a difference.
    client.put(f"/api/v1/sheets/{token}/households/{a}", json={"lines": [{"offer_id": w["rice"].id, "quantity": 9}]})
    view = client.get(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/households", headers=w["leader"]).json
    assert view["order"][0]["difference"] == 1
    # After the close: 409 for the households and for the order alike.
    w["round"].closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.commit()
    late = client.put(f"/api/v1/sheets/{token}/households/{a}", json={"lines": []})
    assert late.status_code == 409
    assert client.post(path, headers=w["leader"], json={}).status_code == 409
    assert client.get(f"/api/v1/sheets/{token}/households/{a}").json["lines"][0]["quantity"] == 9


def _bills(client: Any, w: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/household-bills", headers=w["leader"])
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def test_bills_after_combine_and_after_a_short_receipt_and_the_months_reach(client, world, db_session):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from orders.models import Invoice, PurchaseOrder

    w = world
    ids = {name: _add(client, w, name, poor).json["id"]
           for name, poor in (("บ้าน ก", True), ("บ้าน ข", False), ("บ้าน ค", True))}
    token = _sheet(client, w)
    for name, rice, oil in (("บ้าน ก", 4, 1), ("บ้าน ข", 3, 0), ("บ้าน ค", 3, 2)):
        lines = [{"offer_id": w["rice"].id, "quantity": rice}] + ([{"offer_id": w["oil"].id, "quantity": oil}] if oil else [])
        assert client.put(f"/api/v1/sheets/{token}/households/{ids[name]}", json={"lines": lines}).status_code == 200
    order = client.post(f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}/from-households", headers=w["leader"],
                        json={"tolerances": [{"offer_id": w["rice"].id, "tolerance": 4}]})
    assert order.status_code == 200
    # The leader adds 2 bottles of oil for the group's own use, beyond what households asked.
    client.put(f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}", headers=w["leader"], json={"lines": [
        {"offer_id": w["rice"].id, "quantity": 10, "tolerance": 4}, {"offer_id": w["oil"].id, "quantity": 5, "tolerance": 0}]})
    assert client.get(f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/household-bills",
                      headers=w["leader"]).status_code == 409  # not combined yet
    _close_and_combine(db_session, w["round"])

    bills = _bills(client, w)
    invoice = db_session.scalar(select(Invoice).where(Invoice.round_id == w["round"].id, Invoice.group_id == w["group"].id))
    assert bills["invoice_id"] == invoice.id and D(bills["total"]) == invoice.total
    assert sum(D(r["total"]) for r in bills["rows"]) == invoice.total  # exactly, to the satang
    rows = {r["name"]: r for r in bills["rows"]}
    rice_of = {n: next(ln for ln in rows[n]["lines"] if ln["offer_id"] == w["rice"].id) for n in ids}
    assert [rice_of[n]["allocated"] for n in ("บ้าน ก", "บ้าน ข", "บ้าน ค")] == [4, 3, 3]  # 10 ordered -> all asked
    group_row = bills["rows"][-1]
    assert group_row["household_id"] is None and group_row["name"] == "กลุ่มแม่บ้านโนนสูง"
    assert [(ln["offer_id"], ln["allocated"]) for ln in group_row["lines"]] == [(w["oil"].id, 2)]
    # Without the group's PromptPay id a bill has no QR; with it, each household's bill asks for its own total,
    # paid to the group (the group's own row is the group's, so it has none).
    assert all(r["payment"] is None for r in bills["rows"])
    assert rows["บ้าน ก"]["total_words"].endswith(("บาทถ้วน", "สตางค์"))
    w["group"].promptpay_id = "0812345678"
    db_session.commit()
    paid = {r["name"]: r for r in _bills(client, w)["rows"]}
    for name in ids:
        payment = paid[name]["payment"]
        assert payment["promptpay_id"] == "0812345678" and payment["amount"] == paid[name]["total"]
        assert payment["payload"] == promptpay_payload("0812345678", D(paid[name]["total"]))
        assert "29370016A000000677010111011300668123456785802TH" in payment["payload"]
    assert paid["กลุ่มแม่บ้านโนนสูง"]["payment"] is None
    page = client.get(f"/h/{token}?h={ids['บ้าน ก']}").get_data(as_text=True)
    assert 'id="household-promptpay"' in page and "<svg" in page and paid["บ้าน ก"]["total_words"] in page
    a_bill = client.get(f"/api/v1/sheets/{token}/households/{ids['บ้าน ก']}").json["bill"]
    assert a_bill["total"] == rows["บ้าน ก"]["total"] and D(a_bill["savings"]) == D(rows["บ้าน ก"]["savings"])
    # Who may read the bills.
    path = f"/api/v1/rounds/{w['round'].id}/groups/{w['group'].id}/household-bills"
    assert client.get(path, headers=w["committee"]).status_code == 200
    assert client.get(path, headers=w["other_leader"]).status_code == 403
    assert client.get(path, headers=w["outsider"]).status_code == 404

    # Short delivery: 5 sacks of rice arrive of 10; the households share them by what they asked.
    po = db_session.scalar(select(PurchaseOrder).where(PurchaseOrder.round_id == w["round"].id,
                                                       PurchaseOrder.supplier_id == w["rice"].supplier_id))
    receipt = client.post(f"/api/v1/purchase-orders/{po.id}/receipt", headers=w["committee"],
                          json={"lines": [{"offer_id": w["rice"].id, "received_quantity": 5}]})
    assert receipt.status_code == 200, receipt.json
    db_session.expire_all()
    invoice = db_session.get(Invoice, invoice.id)
    bills = _bills(client, w)
    assert sum(D(r["total"]) for r in bills["rows"]) == invoice.total
    rows = {r["name"]: r for r in bills["rows"]}
    got = [next(ln for ln in rows[n]["lines"] if ln["offer_id"] == w["rice"].id)["allocated"]
           for n in ("บ้าน ก", "บ้าน ข", "บ้าน ค")]
    # 5 over 4,3,3: floors 2,1,1 (remainders 0,5,5 of 10); the unit left goes to the smaller id (บ้าน ข).
    assert got == [2, 2, 1]

    # The month's summary: this group's reach is measured from its households.
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).strftime("%Y-%m")
    summary = client.get(f"/api/v1/summaries/{month}", headers=w["committee"])
    assert summary.status_code == 200, summary.json
    line = next(g for g in summary.json["groups"] if g["group_id"] == w["group"].id)
    assert line["registered_poor_basis"] == "households" and line["households_reached"] == 3
    # Only the rice counts this month (its purchase order was received; the oil's not yet).
    poor = sum(D(ln["savings"]) for n in ("บ้าน ก", "บ้าน ค") for ln in rows[n]["lines"] if ln["offer_id"] == w["rice"].id)
    assert D(line["registered_poor_savings"]) == poor
    assert D(line["registered_poor_savings"]) != (D(line["savings"]) * 3 / 10).quantize(D("0.01"))

    # Removing a household (PDPA) keeps its past bill as "a removed household"; the sum still holds.
    assert client.delete(f"/api/v1/households/{ids['บ้าน ข']}", headers=w["leader"]).status_code == 204
    bills = _bills(client, w)
    removed = [r for r in bills["rows"] if r["household_id"] == ids["บ้าน ข"]]
    assert removed and removed[0]["name"] is None and removed[0]["removed"] is True
    assert sum(D(r["total"]) for r in bills["rows"]) == invoice.total


def test_a_group_without_households_keeps_the_proportional_estimate(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    client.put(f"/api/v1/rounds/{w['round'].id}/orders/{w['group'].id}", headers=w["leader"],
               json={"lines": [{"offer_id": w["oil"].id, "quantity": 7, "tolerance": 0}]})
    _close_and_combine(db_session, w["round"])
    from sqlalchemy import select

    from orders.models import PurchaseOrder

    po = db_session.scalar(select(PurchaseOrder).where(PurchaseOrder.round_id == w["round"].id))
    client.post(f"/api/v1/purchase-orders/{po.id}/receipt", headers=w["committee"],
                json={"lines": [{"offer_id": w["oil"].id, "received_quantity": 7}]})
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).strftime("%Y-%m")
    line = next(g for g in client.get(f"/api/v1/summaries/{month}", headers=w["committee"]).json["groups"]
                if g["group_id"] == w["group"].id)
    assert line["registered_poor_basis"] == "proportion" and line["households_reached"] == 0
    assert D(line["registered_poor_savings"]) == (D(line["savings"]) * 3 / 10).quantize(D("0.01"))


def test_a_sheet_write_kept_offline_is_sent_once_by_its_idempotency_key(client, world, db_session):  # type: ignore[no-untyped-def]
    """A household's phone sends what it kept offline with an Idempotency-Key: a repeat (the first answer was lost)
    gets the first answer and writes nothing, even after the household changed its lines from another phone; the
    same key for another body is refused; a write refused because the round closed meanwhile keeps no key."""
    from sqlalchemy import func, select

    from households.models import SheetWrite

    w = world
    a = _add(client, w, "บ้าน ก", False).json["id"]
    b = _add(client, w, "บ้าน ข", False).json["id"]
    token = _sheet(client, w)
    url = f"/api/v1/sheets/{token}/households/{a}"
    body = {"lines": [{"offer_id": w["rice"].id, "quantity": 4}]}
    first = client.put(url, json=body, headers={"Idempotency-Key": "phone-key-1"})
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    # Changed since, from another phone, without a key.
    client.put(url, json={"lines": [{"offer_id": w["rice"].id, "quantity": 6}]})
    again = client.put(url, json=body, headers={"Idempotency-Key": "phone-key-1"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert client.get(url).json["lines"] == [{"offer_id": w["rice"].id, "quantity": 6}]  # the repeat wrote nothing
    other = client.put(url, json={"lines": []}, headers={"Idempotency-Key": "phone-key-1"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json["error"]["fields"]
    elsewhere = client.put(f"/api/v1/sheets/{token}/households/{b}", json=body, headers={"Idempotency-Key": "phone-key-1"})
    assert elsewhere.status_code == 422
    assert client.put(url, json=body, headers={"Idempotency-Key": "x" * 201}).status_code == 422
    # The round closed while the phone had no signal: refused clearly, nothing written, the key not used up.
    w["round"].closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.commit()
    late = client.put(url, json=body, headers={"Idempotency-Key": "phone-key-2"})
    assert late.status_code == 409 and late.json["error"]["code"] == "deadline_passed"
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(SheetWrite).where(SheetWrite.key == "phone-key-2")) == 0
    assert client.get(url).json["lines"] == [{"offer_id": w["rice"].id, "quantity": 6}]
