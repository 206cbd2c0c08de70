"""Paying (issue 25) through the API: PromptPay ids refused and accepted, the invoice's payment request and
QR after a part payment, numbered receipts with the amount in words, and a transfer slip used twice."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from pricing.promptpay import parse_tlv, promptpay_payload
from tests.paying_support import combined_invoices, decode_svg_qr, slip_payload, slip_png


@pytest.fixture
def world(db_session, make_network, make_group, make_user, make_round, make_offer, place_order,
          token_for) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return combined_invoices(db_session, make_network, make_group, make_user, make_round, make_offer, place_order,
                             token_for)


@pytest.mark.parametrize("raw, stored", [
    ("081-234-5678", "0812345678"),
    ("๐๘๑๒๓๔๕๖๗๘", "0812345678"),
    ("3-1017-00012-34-1", "3101700012341"),
    ("140000801111111", "140000801111111"),
    ("", None),
])
def test_network_promptpay_id_accepted(client, make_network, make_user, token_for, raw, stored):  # type: ignore[no-untyped-def]
    admin = make_user(make_network(), "admin")
    response = client.patch("/api/v1/network", headers=token_for(admin), json={"promptpay_id": raw})
    assert response.status_code == 200, response.json
    assert response.json["promptpay_id"] == stored
    assert client.get("/api/v1/network", headers=token_for(admin)).json["promptpay_id"] == stored


@pytest.mark.parametrize("raw, code", [
    ("8123456789", "promptpay_mobile"),
    ("3101700012343", "promptpay_check_digit"),
    ("12345", "promptpay_length"),
    ("08l2345678", "promptpay_digits"),
])
def test_network_promptpay_id_refused(client, db_session, make_network, make_user, token_for, raw, code):  # type: ignore[no-untyped-def]
    network = make_network()
    network.promptpay_id = "0812345678"
    db_session.commit()
    admin = make_user(network, "admin")
    response = client.patch("/api/v1/network", headers=token_for(admin), json={"promptpay_id": raw})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid" and "promptpay_id" in response.json["error"]["fields"]
    db_session.expire_all()
    assert network.promptpay_id == "0812345678"  # nothing written


def test_group_promptpay_id_by_its_leader_only(client, db_session, world, make_user, token_for):  # type: ignore[no-untyped-def]
    g1, g2 = world["groups"]
    ok = client.patch(f"/api/v1/groups/{g1.id}", headers=world["lh"], json={"promptpay_id": "0891112222"})
    assert ok.status_code == 200 and ok.json["promptpay_id"] == "0891112222"
    bad = client.patch(f"/api/v1/groups/{g1.id}", headers=world["lh"], json={"promptpay_id": "1111111111111"})
    assert bad.status_code == 422 and "promptpay_id" in bad.json["error"]["fields"]
    other = client.patch(f"/api/v1/groups/{g2.id}", headers=world["lh"], json={"promptpay_id": "0891112222"})
    assert other.status_code == 403
    db_session.expire_all()
    assert g1.promptpay_id == "0891112222" and g2.promptpay_id is None


def test_invoice_carries_the_payment_for_what_is_due_after_a_part_payment(client, world):  # type: ignore[no-untyped-def]
    inv = world["invoices"][0]
    before = client.get(f"/api/v1/invoices/{inv.id}", headers=world["lh"]).json
    assert before["total"] == "1203.00" and before["due"] == "1203.00"
    assert before["due_words"] == "หนึ่งพันสองร้อยสามบาทถ้วน"
    assert before["payment"] == {"promptpay_id": "0812345678", "amount": "1203.00",
                                 "payload": promptpay_payload("0812345678", Decimal("1203.00"))}
    paid = client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "200.75"})
    assert paid.status_code == 201, paid.json
    after = client.get(f"/api/v1/invoices/{inv.id}", headers=world["lh"]).json
    assert after["due"] == "1002.25" and after["due_words"] == "หนึ่งพันสองบาทยี่สิบห้าสตางค์"
    fields = parse_tlv(after["payment"]["payload"])
    assert fields is not None and fields["54"] == "1002.25" and fields["01"] == "12"
    assert [p["receipt_number"] for p in after["payments"]] == [paid.json["receipt_number"]]
    svg = client.get(f"/api/v1/invoices/{inv.id}/promptpay.svg", headers=world["lh"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert decode_svg_qr(svg.get_data(as_text=True)) == [after["payment"]["payload"]]


def test_no_payment_without_an_id_or_when_paid(client, db_session, world):  # type: ignore[no-untyped-def]
    inv = world["invoices"][0]
    client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "1203.00"})
    body = client.get(f"/api/v1/invoices/{inv.id}", headers=world["h"]).json
    assert body["due"] == "0.00" and body["payment"] is None and body["due_words"] == "ศูนย์บาทถ้วน"
    assert client.get(f"/api/v1/invoices/{inv.id}/promptpay.svg", headers=world["h"]).status_code == 404
    world["network"].promptpay_id = None
    db_session.commit()
    other = world["invoices"][1]
    assert client.get(f"/api/v1/invoices/{other.id}", headers=world["h"]).json["payment"] is None


def test_another_groups_or_networks_invoice_is_not_found(client, world, make_network, make_user, token_for):  # type: ignore[no-untyped-def]
    other_group = world["invoices"][1]
    assert client.get(f"/api/v1/invoices/{other_group.id}", headers=world["lh"]).status_code == 404
    assert client.get(f"/api/v1/invoices/{other_group.id}/promptpay.svg", headers=world["lh"]).status_code == 404
    outsider = token_for(make_user(make_network(), "committee"))
    assert client.get(f"/api/v1/invoices/{other_group.id}", headers=outsider).status_code == 404


def test_receipts_are_numbered_per_network_and_buddhist_year(client, world):  # type: ignore[no-untyped-def]
    inv1, inv2 = world["invoices"]
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False):  # 23:30 in Bangkok
        a = client.post(f"/api/v1/invoices/{inv1.id}/payments", headers=world["h"], json={"amount": "100"}).json
        b = client.post(f"/api/v1/invoices/{inv2.id}/payments", headers=world["h"],
                        json={"amount": "0.25", "method": "promptpay"}).json
    with time_machine.travel(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), tick=False):  # 00:30 on 1 Jan 2027
        c = client.post(f"/api/v1/invoices/{inv1.id}/payments", headers=world["h"], json={"amount": "1"}).json
    assert (a["receipt_number"], b["receipt_number"], c["receipt_number"]) == ("2569/000001", "2569/000002",
                                                                              "2570/000001")
    assert a["method"] == "cash" and b["method"] == "promptpay"
    assert b["amount_words"] == "ยี่สิบห้าสตางค์" and c["amount_words"] == "หนึ่งบาทถ้วน"


def test_a_refused_payment_takes_no_number(client, world):  # type: ignore[no-untyped-def]
    inv = world["invoices"][0]
    first = client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "3"}).json
    assert client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"],
                       json={"amount": "5000"}).status_code == 422
    assert client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"],
                       json={"amount": "1", "method": "cheque"}).status_code == 422
    second = client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "4"}).json
    year = first["receipt_number"].split("/")[0]
    assert (first["receipt_number"], second["receipt_number"]) == (f"{year}/000001", f"{year}/000002")


def test_a_slip_used_twice_is_refused(client, db_session, world):  # type: ignore[no-untyped-def]
    from orders.models import Payment, PaymentSlip

    inv1, inv2 = world["invoices"]
    slip = slip_png(slip_payload("202612041234ABCD5678"))
    first = client.post(f"/api/v1/invoices/{inv1.id}/payments", headers=world["h"],
                        json={"amount": "500", "slip": slip})
    assert first.status_code == 201, first.json
    assert first.json["method"] == "transfer" and first.json["bank_ref"] == "014-202612041234ABCD5678"
    assert first.json["slip_state"] == "read"
    again = client.post(f"/api/v1/invoices/{inv2.id}/payments", headers=world["h"],
                        json={"amount": "500", "method": "promptpay", "slip": slip})
    assert again.status_code == 409
    assert again.json["error"]["receipt_number"] == first.json["receipt_number"]
    db_session.expire_all()
    assert inv2.paid == Decimal("0.00")
    assert db_session.query(Payment).filter_by(invoice_id=inv2.id).count() == 0
    kept = db_session.query(PaymentSlip).filter_by(payment_id=first.json["id"]).one()
    assert kept.content_type == "image/png" and len(kept.data) > 1000


def test_a_slip_without_a_readable_qr_is_kept_for_the_treasurer(client, db_session, world):  # type: ignore[no-untyped-def]
    inv = world["invoices"][0]
    for _ in range(2):  # two unreadable slips are not "the same reference"
        res = client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"],
                          json={"amount": "10", "method": "transfer", "slip": slip_png(None)})
        assert res.status_code == 201, res.json
        assert res.json["bank_ref"] is None and res.json["slip_state"] == "check_by_eye"


@pytest.mark.parametrize("slip", ["not base64!", "aGVsbG8="])
def test_a_slip_that_is_not_a_photo_is_refused(client, world, slip):  # type: ignore[no-untyped-def]
    inv = world["invoices"][0]
    res = client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "10", "slip": slip})
    assert res.status_code == 422 and "slip" in res.json["error"]["fields"]


def test_slip_with_cash_is_refused(client, world):  # type: ignore[no-untyped-def]
    inv = world["invoices"][0]
    res = client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"],
                      json={"amount": "10", "method": "cash", "slip": slip_png(None)})
    assert res.status_code == 422 and "slip" in res.json["error"]["fields"]


def test_a_receipt_is_cancelled_by_a_new_numbered_document(client, db_session, world):  # type: ignore[no-untyped-def]
    from orders.models import BuyingRound

    inv1, inv2 = world["invoices"]
    paid = [client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "1203.00"}).json
            for inv in (inv1, inv2)]
    db_session.get(BuyingRound, world["round"].id).state = "delivered"
    db_session.commit()
    # Nobody but the committee, and a reason is required.
    assert client.post(f"/api/v1/payments/{paid[0]['id']}/cancel", headers=world["lh"],
                       json={"reason": "x"}).status_code == 403
    assert client.post(f"/api/v1/payments/{paid[0]['id']}/cancel", headers=world["h"],
                       json={"reason": ""}).status_code == 422
    res = client.post(f"/api/v1/payments/{paid[0]['id']}/cancel", headers=world["h"],
                      json={"reason": "บันทึกผิดกลุ่ม"})
    assert res.status_code == 201, res.json
    year = paid[0]["receipt_number"].split("/")[0]
    assert res.json["number"] == f"{year}/000001" and res.json["receipt_number"] == paid[0]["receipt_number"]
    assert res.json["amount"] == "1203.00" and res.json["amount_words"] == "หนึ่งพันสองร้อยสามบาทถ้วน"
    again = client.post(f"/api/v1/payments/{paid[0]['id']}/cancel", headers=world["h"], json={"reason": "อีกครั้ง"})
    assert again.status_code == 409 and again.json["error"]["cancellation_number"] == res.json["number"]
    body = client.get(f"/api/v1/invoices/{inv1.id}", headers=world["h"]).json
    assert body["due"] == "1203.00" and body["payment"]["amount"] == "1203.00"
    # The receipt itself is unchanged, and says which document cancelled it.
    [receipt] = body["payments"]
    assert receipt["receipt_number"] == paid[0]["receipt_number"] and receipt["amount"] == "1203.00"
    assert receipt["cancellation_number"] == res.json["number"]
    # Receipt numbers go on without a gap: the cancellation has its own series.
    more = client.post(f"/api/v1/invoices/{inv1.id}/payments", headers=world["h"], json={"amount": "1203.00"}).json
    assert more["receipt_number"] == f"{year}/000003"
    db_session.expire_all()
    assert db_session.get(BuyingRound, world["round"].id).state == "settled"


def test_a_cancelled_settled_round_is_open_for_payment_again(client, db_session, world):  # type: ignore[no-untyped-def]
    from orders.models import BuyingRound

    db_session.get(BuyingRound, world["round"].id).state = "delivered"
    db_session.commit()
    paid = [client.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "1203.00"}).json
            for inv in world["invoices"]]
    db_session.expire_all()
    assert db_session.get(BuyingRound, world["round"].id).state == "settled"
    assert client.post(f"/api/v1/payments/{paid[1]['id']}/cancel", headers=world["h"],
                       json={"reason": "เช็คเด้ง"}).status_code == 201
    db_session.expire_all()
    assert db_session.get(BuyingRound, world["round"].id).state == "delivered"
