"""The order body's fast paths (``orders.schemas.plain_order``, ``plain_placed_order``) and the JSON body's
byte checks (``core.api``) agree with the slow paths they skip, on any input."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from core.api import _bad_text, _may_hold_bad_text, json_depth
from orders.schemas import GroupOrderInSchema, GroupOrderOutSchema, plain_order, plain_placed_order

MAX_ID = 2**31 - 1
MAX_QTY = 100_000_000

# Values near and beyond every bound, of every JSON type a client may send (and booleans, floats, text).
_edge_ints = st.sampled_from([-1, 0, 1, 2, 7, MAX_QTY - 1, MAX_QTY, MAX_QTY + 1, MAX_ID, MAX_ID + 1])
_values = st.one_of(_edge_ints, st.integers(-5, 10**10), st.booleans(), st.floats(allow_nan=False, width=32),
                    st.text(max_size=3), st.none(), st.lists(st.integers(0, 3), max_size=1))
_line = st.one_of(
    st.fixed_dictionaries({"offer_id": st.one_of(st.integers(1, 6), _values), "quantity": _values},
                          optional={"tolerance": _values, "note": _values}),
    st.dictionaries(st.sampled_from(["offer_id", "quantity", "tolerance", "x"]), _values, max_size=4),
    _values)
_body = st.one_of(
    st.fixed_dictionaries({"lines": st.lists(_line, max_size=8)}, optional={"extra": _values}),
    st.fixed_dictionaries({"lines": _values}),
    st.lists(_line, max_size=2), _values)
_plain_line = st.fixed_dictionaries(
    {"offer_id": st.one_of(st.integers(1, 8), _edge_ints.filter(lambda v: 1 <= v <= MAX_ID)),
     "quantity": st.one_of(st.integers(1, 400), st.sampled_from([1, MAX_QTY]))},
    optional={"tolerance": st.one_of(st.integers(0, 5), st.sampled_from([0, MAX_QTY]))})


def _marshmallow_load(data: Any) -> Any:
    """The schema's own load, without the fast path."""
    schema = GroupOrderInSchema()
    try:
        return ("ok", Schema.load(schema, data))
    except ValidationError as exc:
        return ("error", exc.messages)


def _load(data: Any) -> Any:
    try:
        return ("ok", GroupOrderInSchema().load(data))
    except ValidationError as exc:
        return ("error", exc.messages)


@settings(max_examples=400, deadline=None)
@given(_body)
def test_any_body_loads_as_marshmallow_loads_it(body: Any) -> None:
    assert _load(body) == _marshmallow_load(body)
    fast = plain_order(body)
    if fast is not None:
        assert ("ok", fast) == _marshmallow_load(body)


@settings(max_examples=200, deadline=None)
@given(st.lists(_plain_line, max_size=12))
def test_plain_orders_take_the_fast_path(lines: list[dict[str, Any]]) -> None:
    body = {"lines": lines}
    expected = _marshmallow_load(body)
    if expected[0] == "ok":
        assert plain_order(body) == expected[1]
    else:  # a duplicate offer: the schema names the line
        assert plain_order(body) is None


def test_the_bounds_and_types_the_fast_path_leaves_to_the_schema() -> None:
    ok = {"offer_id": 1, "quantity": 1}
    assert plain_order({"lines": [ok]}) == {"lines": [{"offer_id": 1, "quantity": 1, "tolerance": 0}]}
    for bad in ({"offer_id": True, "quantity": 1}, {"offer_id": 1, "quantity": 1.0}, {"offer_id": 1, "quantity": "1"},
                {"offer_id": 0, "quantity": 1}, {"offer_id": MAX_ID + 1, "quantity": 1},
                {"offer_id": 1, "quantity": MAX_QTY + 1}, {"offer_id": 1, "quantity": 0},
                {"offer_id": 1, "quantity": 1, "tolerance": -1}, {"offer_id": 1, "quantity": 1, "tolerance": None},
                {"offer_id": 1, "quantity": 1, "unknown": 1}, {"quantity": 1}):
        assert plain_order({"lines": [bad]}) is None, bad
        assert _load({"lines": [bad]})[0] == "error", bad
    assert plain_order({"lines": [ok, ok]}) is None
    assert plain_order({"lines": [ok] * 501}) is None
    assert plain_order({"lines": [ok], "more": 1}) is None


_when = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=7))]))
_out_line = st.fixed_dictionaries({
    "offer_id": st.integers(1, MAX_ID), "quantity": st.integers(1, MAX_QTY), "tolerance": st.integers(0, MAX_QTY),
    "allocated": st.one_of(st.none(), st.integers(0, 10)), "unit_price": st.none(), "fee_share": st.none(),
    "amount": st.none(), "savings": st.none()})


@settings(max_examples=200, deadline=None)
@given(st.integers(1, MAX_ID), st.integers(1, MAX_ID), _when, st.lists(_out_line, max_size=8))
def test_a_placed_order_dumps_as_marshmallow_dumps_it(group_id: int, round_id: int, when: datetime,
                                                       lines: list[dict[str, Any]]) -> None:
    placed = {"group_id": group_id, "round_id": round_id, "updated_at": when, "lines": lines}
    schema = GroupOrderOutSchema()
    slow = Schema.dump(schema, placed)
    assert schema.dump(placed) == slow
    assert json.dumps(schema.dump(placed), sort_keys=True) == json.dumps(slow, sort_keys=True)


def test_what_the_fast_dump_leaves_to_the_schema() -> None:
    when = datetime(2026, 12, 4, tzinfo=UTC)
    line = {"offer_id": 1, "quantity": 2, "tolerance": 0, "allocated": None, "unit_price": None,
            "fee_share": None, "amount": None, "savings": None}
    assert plain_placed_order({"group_id": 1, "round_id": 2, "updated_at": when, "lines": [line]}) is not None
    from decimal import Decimal

    for changed in ({"unit_price": Decimal("1.00")}, {"allocated": 3}, {"quantity": None}):
        assert plain_placed_order({"group_id": 1, "round_id": 2, "updated_at": when,
                                   "lines": [{**line, **changed}]}) is None
    assert plain_placed_order({"group_id": 1, "round_id": 2, "updated_at": when.replace(tzinfo=None),
                               "lines": []}) is None
    assert plain_placed_order({"group_id": 1, "round_id": 2, "updated_at": None, "lines": []}) is None


_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet=st.characters(codec=None), max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_json_values, st.booleans(), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_the_byte_checks_never_miss_what_the_walks_find(value: Any, ascii_only: bool, encoding: str) -> None:
    try:
        body = json.dumps(value, ensure_ascii=ascii_only).encode(encoding, "surrogatepass")
    except UnicodeEncodeError:
        return
    decoded = json.loads(body)
    bad: dict[str, Any] = {}
    _bad_text(decoded, "", bad)
    if bad:
        assert _may_hold_bad_text(body)
    assert json_depth(decoded) <= body.count(b"[") + body.count(b"{")


@pytest.mark.parametrize("body", [b'{"a": "\\u0000"}', b'{"a": "\\ud800"}', b'{"a": "\xed\xa0\x80"}',
                                  '{"a": 1}'.encode("utf-16")])
def test_bodies_that_may_hold_bad_text_are_walked(body: bytes) -> None:
    assert _may_hold_bad_text(body)


def test_thai_text_is_not_walked() -> None:
    assert not _may_hold_bad_text(json.dumps({"note": "ส่งของวันพุธ"}, ensure_ascii=False).encode())
