"""Hostile input at every entry point: every API write and every form, each field in turn given values a
careless or malicious client sends (huge integers, exponent forms, NaN, Infinity, negatives, fractions,
NUL, 10,000 characters, mixed scripts). For each: no 5xx; a value that breaks the field's rule is refused
(4xx) with a message naming the field, and no row of the database changed.

Values that are odd but allowed (mixed scripts in a name, Thai digits in an amount) must simply not be a 5xx.
Schemathesis (test_fuzz.py) checks the responses against the document; this test checks the rules.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.api.authz_world import ADMIN, ANON, COMMITTEE, LEADER, SELLER, build_world
from tests.integration.pages_helpers import csrf, login

EXAMPLES = 12

# --- hostile values, by the kind of field ------------------------------------------------------------

HUGE_INTS = [2**31, 2**63, 10**20, 10**400]
INT_BAD: list[object] = [*HUGE_INTS, -1, 1.5, "1e3", "NaN", "Infinity", "1\x00", "", None, [], {}]
MONEY_BAD = ["1e3", "1E5", "NaN", "nan", "Infinity", "-Infinity", "-1", "1.001", "0.005", "99999999999",
             "1" * 40, "1\x00", "", "1,0,0", "0x10", "١٢", 1e400, [], {}, True]
TEXT_BAD = ["a\x00b", "x" * 10_000, "\x00"]
TEXT_ODD = ["ข้าวหอมมะลิ Rice 米 Рис عربى", "\u202egnp.exe", "  spaced  ", "😀" * 20]
MONEY_ODD = ["๑๒๕๐.๕๐", "0", "0.5"]


@dataclass
class Field:
    path: str            # "amount", "lines.0.quantity"
    kind: str            # int, money, text
    minimum: int = 0     # for int: below this is bad


@dataclass
class Op:
    name: str
    role: str
    method: str
    url: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], dict[str, Any]]
    fields: list[Field] = field(default_factory=list)


def _now_plus(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


API_OPS = [
    Op("supplier", COMMITTEE, "POST", lambda w: "/api/v1/suppliers", lambda w: {"name": "S new", "phone": "042-411-000"},
       [Field("name", "text"), Field("phone", "text")]),
    Op("product", COMMITTEE, "POST", lambda w: "/api/v1/products",
       lambda w: {"name": "P new", "unit": "kg", "category": "c"},
       [Field("name", "text"), Field("unit", "text"), Field("category", "text")]),
    Op("round", COMMITTEE, "POST", lambda w: "/api/v1/rounds",
       lambda w: {"name": "R new", "closes_at": _now_plus(3)}, [Field("name", "text")]),
    Op("offer", COMMITTEE, "POST", lambda w: f"/api/v1/rounds/{w['draft'].id}/offers",
       lambda w: {"product_id": w["product"].id, "supplier_id": w["supplier"].id, "pack_size": 5, "min_quantity": 0,
                  "reference_price": "100.00", "delivery_fee": "10.00",
                  "tiers": [{"min_quantity": 0, "unit_price": "90.00"}, {"min_quantity": 50, "unit_price": "85.00"}]},
       [Field("product_id", "int", 1), Field("supplier_id", "int", 1), Field("pack_size", "int", 1),
        Field("min_quantity", "int"), Field("reference_price", "money"), Field("delivery_fee", "money"),
        Field("tiers.0.min_quantity", "int"), Field("tiers.1.min_quantity", "int", 1),
        Field("tiers.0.unit_price", "money"), Field("tiers.1.unit_price", "money")]),
    Op("order", LEADER, "PUT", lambda w: f"/api/v1/rounds/{w['open'].id}/orders/{w['g1'].id}",
       lambda w: {"lines": [{"offer_id": w["open_offer"].id, "quantity": 3, "tolerance": 1}]},
       [Field("lines.0.offer_id", "int", 1), Field("lines.0.quantity", "int", 1), Field("lines.0.tolerance", "int")]),
    Op("receipt", COMMITTEE, "POST", lambda w: f"/api/v1/purchase-orders/{w['po'].id}/receipt",
       lambda w: {"lines": [{"offer_id": w["done_offer"].id, "received_quantity": 10}]},
       [Field("lines.0.offer_id", "int", 1), Field("lines.0.received_quantity", "int")]),
    Op("payment", COMMITTEE, "POST", lambda w: f"/api/v1/invoices/{w['invoice'].id}/payments",
       lambda w: {"amount": "10.00"}, [Field("amount", "money")]),
    Op("network", ADMIN, "PATCH", lambda w: "/api/v1/network", lambda w: {"fee_percent": "1.50"},
       [Field("fee_percent", "money")]),
    Op("group", ADMIN, "POST", lambda w: "/api/v1/groups",
       lambda w: {"name": "G new", "kind": "cooperative", "district": "d", "subdistrict": "s", "members": 20,
                  "registered_poor_members": 5},
       [Field("name", "text"), Field("district", "text"), Field("members", "int"),
        Field("registered_poor_members", "int")]),
    Op("group edit", ADMIN, "PATCH", lambda w: f"/api/v1/groups/{w['g1'].id}",
       lambda w: {"members": 30, "registered_poor_members": 6},
       [Field("members", "int"), Field("registered_poor_members", "int")]),
    Op("listing", SELLER, "POST", lambda w: "/api/v1/listings",
       lambda w: {"name": "Rice", "unit": "kg", "category": "rice", "price": "35.00", "stock": 10,
                  "outside_price": "28.00", "reference_price": "40.00", "district": "d", "description": "x"},
       [Field("name", "text"), Field("unit", "text"), Field("description", "text"), Field("price", "money"),
        Field("stock", "int"), Field("outside_price", "money"), Field("reference_price", "money")]),
    Op("listing edit", SELLER, "PATCH", lambda w: f"/api/v1/listings/{w['listing'].id}",
       lambda w: {"price": "36.00", "stock": 50},
       [Field("price", "money"), Field("stock", "int"), Field("name", "text")]),
    Op("purchase", LEADER, "POST", lambda w: f"/api/v1/listings/{w['listing'].id}/purchases",
       lambda w: {"group_id": w["g1"].id, "quantity": 2}, [Field("group_id", "int", 1), Field("quantity", "int", 1)]),
    Op("household", LEADER, "POST", lambda w: f"/api/v1/groups/{w['g1'].id}/households",
       lambda w: {"name": "บ้านเลขที่ 77", "registered_poor": True, "phone": "081-234-5678"},
       [Field("name", "text"), Field("phone", "text")]),
    Op("sheet", ANON, "PUT",
       lambda w: f"/api/v1/sheets/{w['sheet_token']}/households/{w['sheet_household']['id']}",
       lambda w: {"lines": [{"offer_id": w["sheet_offer"].id, "quantity": 2}]},
       [Field("lines.0.offer_id", "int", 1), Field("lines.0.quantity", "int")]),
    Op("review", COMMITTEE, "POST", lambda w: f"/api/v1/summaries/{w['month']}/review",
       lambda w: {"meeting_date": datetime.now(UTC).date().isoformat(), "attendance": 9, "notes": "ok"},
       [Field("attendance", "int"), Field("notes", "text")]),
]


# --- helpers ------------------------------------------------------------------------------------------

SKIP_TABLES = {"audit_events", "jobs", "idempotency_records", "api_tokens", "alembic_version"}


def fingerprint(session: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a write could touch."""
    from core.db import db

    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        out[table.name] = sorted(map(tuple, session.execute(text(f'SELECT * FROM "{table.name}"')).all()), key=repr)
    return out


def set_path(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = body
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    target[int(last) if last.isdigit() else last] = value
    return body


def names_field(fields: Any, path: str) -> bool:
    """The error's fields name the attacked field: its own key, at its own place when nested."""
    parts = path.split(".")
    node = fields
    for part in parts:
        if isinstance(node, dict) and (part in node or (part.isdigit() and int(part) in node)):
            node = node[part] if part in node else node[int(part)]
            continue
        # Marshmallow may stop at the list ("lines": {"0": {...}}) or report the whole list.
        return isinstance(node, dict) and parts[-1] in repr(node)
    return True


def bad_values(f: Field) -> list[Any]:
    if f.kind == "int":
        return [*INT_BAD, *([f.minimum - 1] if f.minimum > 0 else [])]
    if f.kind == "money":
        return MONEY_BAD
    return TEXT_BAD


def odd_values(f: Field) -> list[Any]:
    return {"money": MONEY_ODD, "text": TEXT_ODD}.get(f.kind, [])


@pytest.fixture
def world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
          place_order):  # type: ignore[no-untyped-def]
    return build_world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                       place_order)


# --- the API ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", API_OPS, ids=lambda op: op.name)
def test_api_writes_refuse_hostile_values_naming_the_field(client, world, db_session, op):  # type: ignore[no-untyped-def]
    import json

    headers = {**world["headers"][op.role], "Content-Type": "application/json"}
    # The untouched body is accepted (or this test would prove nothing about the field it attacks).
    baseline = client.open(op.url(world), method=op.method, headers=headers, data=json.dumps(op.body(world)))
    db_session.rollback()
    assert baseline.status_code < 300, (op.name, baseline.status_code, baseline.get_data(as_text=True)[:500])
    before = fingerprint(db_session)
    tried: list[str] = []

    @given(data=st.data())
    @settings(max_examples=EXAMPLES * len(op.fields), deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def attack(data: st.DataObject) -> None:
        f = data.draw(st.sampled_from(op.fields), label="field")
        value = data.draw(st.sampled_from(bad_values(f)), label="value")
        body = set_path(op.body(world), f.path, value)
        try:
            payload = json.dumps(body)
        except (ValueError, OverflowError):
            return
        payload = payload.replace("Infinity", '"Infinity"') if isinstance(value, float) else payload
        response = client.open(op.url(world), method=op.method, headers=headers, data=payload)
        db_session.rollback()
        tried.append(f.path)
        status = response.status_code
        shown = response.get_data(as_text=True)[:600]
        assert status < 500, (op.name, f.path, repr(value)[:60], shown)
        assert 400 <= status < 500, (op.name, f.path, repr(value)[:60], status, shown)
        error = (response.json or {}).get("error", {})
        assert names_field(error.get("fields") or {}, f.path), (op.name, f.path, repr(value)[:60], error)
        assert fingerprint(db_session) == before, (op.name, f.path, repr(value)[:60], "a row changed")

    attack()
    assert set(tried) == {f.path for f in op.fields}, "some field was never attacked"

    # Odd but allowed values: never a 5xx (what they write is rolled back with the test).
    for f in op.fields:
        for value in odd_values(f):
            response = client.open(op.url(world), method=op.method, headers=headers,
                                   data=json.dumps(set_path(op.body(world), f.path, value)))
            db_session.rollback()
            assert response.status_code < 500, (op.name, f.path, value, response.get_data(as_text=True)[:500])


# --- the pages ----------------------------------------------------------------------------------------

@dataclass
class FormOp:
    name: str
    role: str
    page: Callable[[dict[str, Any]], str]
    url: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    fields: dict[str, str]  # form field -> kind


FORM_OPS = [
    FormOp("group", ADMIN, lambda w: "/groups", lambda w: "/groups",
           lambda w: {"name": "กลุ่มใหม่", "kind": "cooperative", "district": "", "subdistrict": "", "members": "20",
                      "registered_poor_members": "5"},
           {"name": "text", "members": "int", "registered_poor_members": "int"}),
    FormOp("group edit", ADMIN, lambda w: f"/groups/{w['g1'].id}/edit", lambda w: f"/groups/{w['g1'].id}/edit",
           lambda w: {"name": w["g1"].name, "kind": "cooperative", "district": "", "subdistrict": "", "members": "21",
                      "registered_poor_members": "6"},
           {"members": "int", "registered_poor_members": "int", "district": "text"}),
    FormOp("order", LEADER, lambda w: f"/rounds/{w['open'].id}/order", lambda w: f"/rounds/{w['open'].id}/order",
           lambda w: {f"q_{w['open_offer'].id}": "3", f"t_{w['open_offer'].id}": "0"},
           {"q_{offer}": "int", "t_{offer}": "int"}),
    FormOp("payment", COMMITTEE, lambda w: f"/invoices/{w['invoice'].id}", lambda w: f"/invoices/{w['invoice'].id}",
           lambda w: {"amount": "10.00", "note": ""}, {"amount": "money", "note": "text"}),
    FormOp("buy", LEADER, lambda w: f"/market/listings/{w['listing'].id}",
           lambda w: f"/market/listings/{w['listing'].id}", lambda w: {"quantity": "2"}, {"quantity": "int"}),
    FormOp("listing", SELLER, lambda w: "/market/mine", lambda w: "/market/mine",
           lambda w: {"name": "ข้าว", "unit": "kg", "category": "", "price": "35.00", "stock": "10",
                      "outside_price": "", "reference_price": "", "district": "", "description": ""},
           {"name": "text", "price": "money", "stock": "int", "outside_price": "money", "description": "text"}),
    FormOp("listing edit", SELLER, lambda w: f"/market/listings/{w['listing'].id}/edit",
           lambda w: f"/market/listings/{w['listing'].id}/edit",
           lambda w: {"name": "ข้าว", "unit": "kg", "category": "", "price": "35.00", "stock": "10",
                      "outside_price": "", "reference_price": "", "district": "", "description": ""},
           {"price": "money", "stock": "int", "reference_price": "money"}),
    FormOp("offer", COMMITTEE, lambda w: f"/rounds/{w['draft'].id}", lambda w: f"/rounds/{w['draft'].id}/offers",
           lambda w: {"offer-product_id": str(w["product"].id), "offer-supplier_id": str(w["supplier"].id),
                      "offer-pack_size": "5", "offer-min_quantity": "0", "offer-reference_price": "100.00",
                      "offer-delivery_fee": "0", "offer-tiers": "0:90.00\n50:85.00"},
           {"offer-pack_size": "int", "offer-min_quantity": "int", "offer-reference_price": "money",
            "offer-delivery_fee": "money"}),
    FormOp("supplier", COMMITTEE, lambda w: "/suppliers", lambda w: "/suppliers",
           lambda w: {"supplier-name": "ผู้ขายใหม่", "supplier-phone": ""},
           {"supplier-name": "text", "supplier-phone": "text"}),
    FormOp("household", LEADER, lambda w: f"/groups/{w['g1'].id}/households", lambda w: f"/groups/{w['g1'].id}/households",
           lambda w: {"name": "บ้านเลขที่ 88", "phone": "", "registered_poor": "1"}, {"name": "text", "phone": "text"}),
    FormOp("review", COMMITTEE, lambda w: f"/summaries/{w['month']}", lambda w: f"/summaries/{w['month']}",
           lambda w: {"meeting_date": datetime.now(UTC).date().isoformat(), "attendance": "9", "notes": ""},
           {"attendance": "int", "notes": "text"}),
]

FORM_INT_BAD = ["1" * 20, "9" * 400, "-1", "1.5", "1e3", "NaN", "Infinity", "1\x00", "๑" * 20, "99999999999",
                "1" * 30]
# A quantity of base units (pack size, minimum, tier): also above core.fields.MAX_QUANTITY.
FORM_QTY_BAD = [*FORM_INT_BAD, "100000001", "๑๐๐๐๐๐๐๐๑"]
FORM_MONEY_BAD = ["1e3", "1E5", "NaN", "Infinity", "-1", "1.001", "99999999999", "1" * 40, "1\x00", "0x10"]
# 140,000 characters: beyond the csv module's field limit (131,072), which raised _csv.Error.
FORM_TEXT_BAD = ["a\x00b", "x" * 10_000, "y" * 140_000]
FORM_BAD = {"int": FORM_INT_BAD, "qty": FORM_QTY_BAD, "money": FORM_MONEY_BAD, "text": FORM_TEXT_BAD}


def field_flagged(html: str, name: str) -> bool:
    """The field is shown with its own error: in a has-error block, or aria-invalid, or a #name-error."""
    if f'id="{name}-error"' in html or f'data-field="{name}"' in html:
        return True
    for block in re.findall(r'<div class="field[^"]*has-error[^"]*">(.*?)</div>', html, flags=re.S):
        if f'name="{name}"' in block:
            return True
    return bool(re.search(rf'<[^>]*name="{re.escape(name)}"[^>]*aria-invalid="true"', html)
                or re.search(rf'<[^>]*aria-invalid="true"[^>]*name="{re.escape(name)}"', html))


@pytest.mark.parametrize("op", FORM_OPS, ids=lambda op: op.name)
def test_forms_refuse_hostile_values_naming_the_field(app, world, db_session, op):  # type: ignore[no-untyped-def]
    client = app.test_client()
    login(client, world["users"][op.role])
    page = client.get(op.page(world))
    assert page.status_code == 200, (op.name, page.status_code)
    token = csrf(page.get_data(as_text=True))
    fields = {name.format(offer=world["open_offer"].id): kind for name, kind in op.fields.items()}
    base = op.data(world)
    before = fingerprint(db_session)
    tried: list[str] = []

    @given(data=st.data())
    @settings(max_examples=EXAMPLES * len(fields), deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def attack(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(fields)), label="field")
        kind = fields[name]
        value = data.draw(st.sampled_from(FORM_BAD[kind]), label="value")
        response = client.post(op.url(world), data={**base, name: value, "csrf_token": token})
        db_session.rollback()
        tried.append(name)
        html = response.get_data(as_text=True)
        assert response.status_code < 500, (op.name, name, repr(value)[:60], html[:600])
        assert response.status_code in (400, 422), (op.name, name, repr(value)[:60], response.status_code, html[:600])
        assert field_flagged(html, name), (op.name, name, repr(value)[:60], "no message at the field")
        assert fingerprint(db_session) == before, (op.name, name, repr(value)[:60], "a row changed")

    attack()
    assert set(tried) == set(fields), "some field was never attacked"
    # The same form untouched is accepted (after the attacks: a review, once accepted, closes its form), so
    # the refusals above came from the values, not from a form that refuses everything.
    accepted = client.post(op.url(world), data={**base, "csrf_token": token})
    db_session.rollback()
    assert accepted.status_code in (200, 302), (op.name, accepted.status_code, accepted.get_data(as_text=True)[:800])
    assert fingerprint(db_session) != before, (op.name, "the untouched form wrote nothing")


# --- the supplier's link (no login) -------------------------------------------------------------------

def test_supplier_quote_page_refuses_hostile_values_naming_the_field(app, world, db_session):  # type: ignore[no-untyped-def]
    """The quote page /q/<token> goes through the service's rules, so it refuses what PUT /api/v1/quotes
    refuses (a 30-digit pack size was a 500; 99,999,999,999 was saved)."""
    client = app.test_client()
    url = f"/q/{world['rfq_token']}"
    pid = world["rfq_product"].id
    page = client.get(url)
    assert page.status_code == 200
    token = csrf(page.get_data(as_text=True))
    base = {"csrf_token": token, "delivery_fee": "5.00", f"p{pid}-on": "1", f"p{pid}-pack": "1", f"p{pid}-min": "0",
            f"p{pid}-t0-min": "0", f"p{pid}-t0-price": "35.00"}
    fields = {f"p{pid}-pack": "qty", f"p{pid}-min": "qty", f"p{pid}-t0-min": "qty", f"p{pid}-t1-min": "qty",
              f"p{pid}-t0-price": "money", "delivery_fee": "money"}
    before = fingerprint(db_session)
    tried: list[str] = []

    @given(data=st.data())
    @settings(max_examples=EXAMPLES * len(fields), deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def attack(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(fields)), label="field")
        value = data.draw(st.sampled_from(FORM_BAD[fields[name]]), label="value")
        extra = {f"p{pid}-t1-price": "30.00"} if name == f"p{pid}-t1-min" else {}
        response = client.post(url, data={**base, **extra, name: value})
        db_session.rollback()
        tried.append(name)
        html = response.get_data(as_text=True)
        assert response.status_code in (400, 422), (name, repr(value)[:60], response.status_code, html[:600])
        assert field_flagged(html, name), (name, repr(value)[:60], "no message at the field")
        assert fingerprint(db_session) == before, (name, repr(value)[:60], "a row changed")

    attack()
    assert set(tried) == set(fields), "some field was never attacked"
    accepted = client.post(url, data={**base, f"p{pid}-pack": "๑๒", f"p{pid}-t0-price": "1,234.50"})
    db_session.rollback()
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:800]
    assert fingerprint(db_session) != before, "the untouched form wrote nothing"


def test_quote_service_refuses_what_the_api_refuses(world, db_session):  # type: ignore[no-untyped-def]
    """The bounds live in the service: any entry point (page, API, a script) is held to them."""
    from decimal import Decimal

    from core.errors import InvalidInput
    from quotes import services as quote_services

    pid = world["rfq_product"].id
    for pack, minimum, tier_min in ((10**30, 0, 0), (99_999_999_999, 0, 0), (1, 10**30, 0), (1, 0, 10**30),
                                    (1, 100_000_001, 0), (True, 0, 0)):
        with pytest.raises(InvalidInput):
            quote_services.submit_quote(world["rfq_token"], {"delivery_fee": Decimal("1.00"), "lines": [
                {"product_id": pid, "pack_size": pack, "min_quantity": minimum,
                 "tiers": [{"min_quantity": tier_min, "unit_price": Decimal("35.00")}]}]})
        db_session.rollback()
    with pytest.raises(InvalidInput):
        quote_services.submit_quote(world["rfq_token"], {"delivery_fee": Decimal("1.001"), "lines": [
            {"product_id": pid, "pack_size": 1, "min_quantity": 0,
             "tiers": [{"min_quantity": 0, "unit_price": Decimal("35.00")}]}]})


def test_award_page_refuses_a_hostile_supplier_choice(app, world, db_session):  # type: ignore[no-untyped-def]
    """The committee's award page reads the chosen supplier as a bounded id: never a 5xx."""
    client = app.test_client()
    login(client, world["users"][COMMITTEE])
    url = f"/rfqs/{world['rfq'].id}"
    token = csrf(client.get(url).get_data(as_text=True))
    pid = world["rfq_product"].id
    for value in ["1" * 30, "9" * 400, "-1", "1e3", "๑" * 20, "1\x00"]:
        response = client.post(url, data={"csrf_token": token, "do": "preview", f"c{pid}": value})
        db_session.rollback()
        assert response.status_code < 500, (value, response.status_code)
