"""The authorization matrix: every endpoint and method of the API, and every page, × every role.

Roles: admin, committee, leader of "this" group (the group the object belongs to), leader of another
group of the same network, a seller (of a third group, the one selling in the marketplace), the admin
of ANOTHER network (the most powerful outsider) and anonymous. Each cell says exactly which status
the role gets: 2xx where it may, 401/403/404 where it may not. A refusal carries only the error shape
and leaks nothing (no name, e-mail or figure of the network), writes nothing (the audit trail does not
grow), and an outsider's 2xx answers hold none of the network's data.

The list of endpoints comes from the OpenAPI document: an endpoint missing from the table fails the
test, so a new endpoint cannot slip past without its row.
"""
from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.authz_world import (
    ADMIN,
    ANON,
    COMMITTEE,
    LEADER,
    OTHER_LEADER,
    OUTSIDER,
    ROLES,
    SELLER,
    Browser,
    assert_no_secrets,
    assert_refusal_leaks_nothing,
    audit_count,
)
from tests.conftest import PASSWORD

# --- the table -------------------------------------------------------------------------------------

def expect(default: int, **by_role: int) -> dict[str, int]:
    """Statuses per role: `default` for the in-network roles not named; anonymous 401 unless named."""
    table = {role: default for role in ROLES}
    table[ANON] = 401
    table.update(by_role)
    return table


def committee_only(ok: int, outsider: int) -> dict[str, int]:
    return expect(403, admin=ok, committee=ok, outsider=outsider)


def everyone_in_network(ok: int = 200, outsider: int = 404) -> dict[str, int]:
    return expect(ok, outsider=outsider)


# Path parameters: which object of the world an endpoint is exercised on.
PARAMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "job_id": lambda w: w["job"].id,
    "group_id": lambda w: w["g1"].id,
    "purchase_order_id": lambda w: w["po"].id,
    "invoice_id": lambda w: w["invoice"].id,
    "payment_id": lambda w: w["payment"].id,
    "listing_id": lambda w: w["listing"].id,
    "purchase_id": lambda w: w["purchase"].id,
    "month": lambda w: w["month"],
    "rfq_id": lambda w: w["rfq"].id,
    "token": lambda w: w["rfq_token"],
    "kind": lambda w: "groups",
    "notification_id": lambda w: w["notification"].id,
    "household_id": lambda w: w["household"]["id"],
    "sheet_token": lambda w: w["sheet_token"],
    "user_id": lambda w: w["users"][LEADER].id,
}
ROUND_FOR = {  # the round state each round endpoint needs to succeed
    "/api/v1/rounds/{round_id}": "open",
    "/api/v1/rounds/{round_id}/offers": "open",
    "/api/v1/rounds/{round_id}/open": "draft",
    "/api/v1/rounds/{round_id}/close": "open",
    "/api/v1/rounds/{round_id}/combine": "done",
    "/api/v1/rounds/{round_id}/orders/{group_id}": "open",
    "/api/v1/rounds/{round_id}/purchase-orders": "done",
    "/api/v1/rounds/{round_id}/invoices": "done",
    "/api/v1/rounds/{round_id}/groups/{group_id}/sheet": "open",
    "/api/v1/rounds/{round_id}/groups/{group_id}/households": "open",
    "/api/v1/rounds/{round_id}/orders/{group_id}/from-households": "open",
    "/api/v1/rounds/{round_id}/groups/{group_id}/household-bills": "done",
}


def _no_g1_invoice(role: str, body: Any, w: dict[str, Any]) -> None:
    ids = {row["id"] for row in body}
    if role in (ADMIN, COMMITTEE):
        assert ids == {w["invoice"].id, w["invoice_g2"].id}
    elif role == LEADER:
        assert ids == {w["invoice"].id}
    elif role == OTHER_LEADER:
        assert ids == {w["invoice_g2"].id}
    else:
        assert ids == set()


def _purchases_seen(role: str, body: Any, w: dict[str, Any]) -> None:
    ids = {row["id"] for row in body}
    sees = role in (ADMIN, COMMITTEE, LEADER, SELLER)
    assert (w["purchase"].id in ids) == sees, (role, ids)


def _own_group_chart(role: str, body: Any, w: dict[str, Any]) -> None:
    """The groups chart: a group's people see their own group only (the committee: every active group)."""
    assert isinstance(body, str) and body.startswith("<svg"), body
    shown = {key: w[key].name in body for key in ("g1", "g2")}
    if role in (ADMIN, COMMITTEE):
        return
    if role == LEADER:
        assert shown == {"g1": True, "g2": False}, (role, shown)
    else:
        assert not shown["g1"], (role, shown)


def _own_group_line_only(role: str, body: Any, w: dict[str, Any]) -> None:
    groups = {row["group_id"] for row in body["groups"]}
    own = {LEADER: w["g1"].id, OTHER_LEADER: w["g2"].id, SELLER: w["g3"].id}
    if role in own:
        assert groups <= {own[role]}, (role, groups)


def _users_of_own_network(role: str, body: Any, w: dict[str, Any]) -> None:
    emails = {row["email"] for row in body}
    if role == ADMIN:
        assert {u.email for r, u in w["users"].items() if r != OUTSIDER} <= emails


# (method, path) -> (statuses by role, JSON body or a function of (world, role) giving one, extra check)
Row = tuple[dict[str, int], Any, Callable[[str, Any, dict[str, Any]], None] | None]


def _rfq_body(w: dict[str, Any], role: str) -> dict[str, Any]:
    """A request in the caller's own network (the outsider asks its own suppliers)."""
    product, supplier = (w["b_product"], w["b_supplier"]) if role == OUTSIDER else (w["rfq_product"], w["rfq_supplier"])
    return {"name": "Another request", "closes_at": _closes_at(), "supplier_ids": [supplier.id],
            "items": [{"product_id": product.id, "quantity": 5, "reference_price": "40.00"}]}


class Form(dict[str, Any]):
    """A multipart body (an upload): values, and files as (bytes, filename)."""


def _import_body(w: dict[str, Any], role: str) -> Form:
    return Form(kind="groups", file=(f"ชื่อกลุ่ม\nกลุ่มใหม่ {role}\n".encode(), "groups.csv"))


def _closes_at() -> str:
    return (datetime.now(UTC) + timedelta(days=3)).isoformat()


MATRIX: dict[tuple[str, str], Row] = {
    ("POST", "/api/v1/tokens"): (
        expect(201, outsider=201, anonymous=401),
        lambda w, role: {"email": w["users"][role].email if role != ANON else "nobody@example.org",
                         "password": PASSWORD}, None),
    ("DELETE", "/api/v1/tokens/current"): (expect(204, outsider=204), None, None),
    ("GET", "/api/v1/network"): (everyone_in_network(outsider=200), None, None),
    ("PATCH", "/api/v1/network"): (expect(403, admin=200, outsider=200), {"fee_percent": "1.50"}, None),
    ("GET", "/api/v1/users"): (expect(403, admin=200, outsider=200), None, _users_of_own_network),
    ("POST", "/api/v1/users"): (
        expect(403, admin=201, outsider=201),
        lambda w, role: {"email": f"new-{uuid.uuid4().hex[:8]}@example.org", "password": "long-enough-1",
                         "name": "New", "role": "committee"}, None),
    ("GET", "/api/v1/groups"): (everyone_in_network(outsider=200), None, None),
    ("POST", "/api/v1/groups"): (expect(403, admin=201, outsider=201), {"name": "A new group"}, None),
    ("GET", "/api/v1/groups/{group_id}"): (everyone_in_network(), None, None),
    ("PATCH", "/api/v1/groups/{group_id}"): (expect(403, admin=200, leader=200, outsider=404),
                                             {"members": 30}, None),
    ("GET", "/api/v1/suppliers"): (everyone_in_network(outsider=200), None, None),
    ("POST", "/api/v1/suppliers"): (committee_only(201, outsider=201), {"name": "New supplier"}, None),
    ("GET", "/api/v1/products"): (everyone_in_network(outsider=200), None, None),
    ("POST", "/api/v1/products"): (committee_only(201, outsider=201), {"name": "New product", "unit": "kg"}, None),
    ("GET", "/api/v1/rounds"): (everyone_in_network(outsider=200), None, None),
    ("POST", "/api/v1/rounds"): (committee_only(201, outsider=201),
                                 lambda w, role: {"name": "New round", "closes_at": _closes_at()}, None),
    ("GET", "/api/v1/rounds/{round_id}"): (everyone_in_network(), None, None),
    ("POST", "/api/v1/rounds/{round_id}/offers"): (
        committee_only(201, outsider=404),
        lambda w, role: {"product_id": w["product"].id, "supplier_id": w["supplier"].id, "pack_size": 1,
                         "min_quantity": 0, "reference_price": "100.00",
                         "tiers": [{"min_quantity": 0, "unit_price": "95.00"}]}, None),
    ("POST", "/api/v1/rounds/{round_id}/open"): (committee_only(200, outsider=404), None, None),
    ("POST", "/api/v1/rounds/{round_id}/close"): (committee_only(202, outsider=404), None, None),
    ("POST", "/api/v1/rounds/{round_id}/combine"): (committee_only(202, outsider=404), None, None),
    ("GET", "/api/v1/rounds/{round_id}/orders/{group_id}"): (
        expect(403, admin=200, committee=200, leader=200, outsider=404), None, None),
    ("PUT", "/api/v1/rounds/{round_id}/orders/{group_id}"): (
        expect(403, leader=200, outsider=404),
        lambda w, role: {"lines": [{"offer_id": w["open_offer"].id, "quantity": 9, "tolerance": 1}]}, None),
    ("DELETE", "/api/v1/rounds/{round_id}/orders/{group_id}"): (expect(403, leader=200, outsider=404), None, None),
    ("GET", "/api/v1/rounds/{round_id}/purchase-orders"): (committee_only(200, outsider=404), None, None),
    ("POST", "/api/v1/purchase-orders/{purchase_order_id}/receipt"): (
        committee_only(200, outsider=404), {"lines": []}, None),
    ("GET", "/api/v1/rounds/{round_id}/invoices"): (everyone_in_network(), None, _no_g1_invoice),
    ("POST", "/api/v1/invoices/{invoice_id}/payments"): (
        expect(404, admin=201, committee=201, leader=403), {"amount": "1.00"}, None),
    ("GET", "/api/v1/invoices/{invoice_id}"): (expect(404, admin=200, committee=200, leader=200), None, None),
    ("POST", "/api/v1/payments/{payment_id}/cancel"): (
        expect(404, admin=201, committee=201, leader=403), {"reason": "recorded twice"}, None),
    ("GET", "/api/v1/invoices/{invoice_id}/promptpay.svg"): (
        expect(404, admin=200, committee=200, leader=200), None, None),
    ("GET", "/api/v1/listings"): (everyone_in_network(outsider=200), None, None),
    ("POST", "/api/v1/listings"): (
        expect(201, admin=403, committee=403, outsider=403),
        {"name": "Woven bag", "unit": "piece", "category": "craft", "price": "120.00", "stock": 5}, None),
    ("GET", "/api/v1/listings/{listing_id}"): (everyone_in_network(), None, None),
    ("PATCH", "/api/v1/listings/{listing_id}"): (expect(403, seller=200, outsider=404), {"price": "34.00"}, None),
    ("POST", "/api/v1/listings/{listing_id}/purchases"): (
        expect(403, leader=201, outsider=404), lambda w, role: {"group_id": w["g1"].id, "quantity": 2}, None),
    ("GET", "/api/v1/purchases"): (everyone_in_network(outsider=200), None, _purchases_seen),
    ("GET", "/api/v1/purchases/{purchase_id}"): (
        expect(200, other_leader=404, outsider=404), None, None),
    ("POST", "/api/v1/purchases/{purchase_id}/confirm"): (
        expect(403, seller=200, other_leader=404, outsider=404), None, None),
    ("POST", "/api/v1/purchases/{purchase_id}/deliver"): (
        expect(403, seller=200, other_leader=404, outsider=404), {}, None),
    ("POST", "/api/v1/purchases/{purchase_id}/cancel"): (
        expect(403, seller=200, leader=200, other_leader=404, outsider=404), None, None),
    # The first look at a month builds it: the outsider gets its own network's month, never this one.
    ("GET", "/api/v1/summaries/{month}"): (everyone_in_network(outsider=200), None, _own_group_line_only),
    ("POST", "/api/v1/summaries/{month}"): (committee_only(202, outsider=202), None, None),
    ("POST", "/api/v1/summaries/{month}/review"): (
        committee_only(200, outsider=404),
        lambda w, role: {"meeting_date": datetime.now(UTC).date().isoformat(), "attendance": 12}, None),
    ("GET", "/api/v1/summaries/{month}/charts/{kind}.svg"): (everyone_in_network(outsider=200), None, _own_group_chart),
    ("GET", "/api/v1/jobs/{job_id}"): (everyone_in_network(), None, None),
    ("GET", "/api/v1/audit"): (expect(403, admin=200, committee=200, outsider=200), None, None),
    ("GET", "/api/v1/rounds/{round_id}/offers"): (everyone_in_network(), None, None),
    ("GET", "/api/v1/rfqs"): (committee_only(200, outsider=200), None, None),
    ("POST", "/api/v1/rfqs"): (committee_only(201, outsider=201), _rfq_body, None),
    ("GET", "/api/v1/rfqs/suggestions"): (committee_only(200, outsider=200), None, None),
    ("GET", "/api/v1/rfqs/{rfq_id}"): (committee_only(200, outsider=404), None, None),
    ("GET", "/api/v1/rfqs/{rfq_id}/comparison"): (committee_only(200, outsider=404), None, None),
    ("POST", "/api/v1/rfqs/{rfq_id}/award"): (committee_only(201, outsider=404), {}, None),
    # The link's token is the credential: a bearer token (anyone's, or none) neither adds nor takes away.
    ("GET", "/api/v1/quotes/{token}"): (expect(200, outsider=200, anonymous=200), None, None),
    ("PUT", "/api/v1/quotes/{token}"): (expect(200, outsider=200, anonymous=200),
                                        {"delivery_fee": "7.00", "lines": []}, None),
    # Households: the group's own leader, the committee and the admin; others learn nothing (404).
    ("GET", "/api/v1/groups/{group_id}/households"): (
        expect(404, admin=200, committee=200, leader=200), None, None),
    ("POST", "/api/v1/groups/{group_id}/households"): (
        expect(404, admin=201, committee=201, leader=201), {"name": "บ้านเลขที่ 99", "registered_poor": False}, None),
    ("PATCH", "/api/v1/households/{household_id}"): (
        expect(404, admin=200, committee=200, leader=200), {"registered_poor": False}, None),
    ("DELETE", "/api/v1/households/{household_id}"): (
        expect(404, admin=204, committee=204, leader=204), None, None),
    # The round's sheet link: the group's own leader shares it.
    ("POST", "/api/v1/rounds/{round_id}/groups/{group_id}/sheet"): (expect(403, leader=201, outsider=404), None, None),
    ("DELETE", "/api/v1/rounds/{round_id}/groups/{group_id}/sheet"): (
        expect(403, leader=204, outsider=404), None, None),
    ("GET", "/api/v1/rounds/{round_id}/groups/{group_id}/households"): (
        expect(403, admin=200, committee=200, leader=200, outsider=404), None, None),
    ("POST", "/api/v1/rounds/{round_id}/orders/{group_id}/from-households"): (
        expect(403, leader=200, outsider=404), {}, None),
    ("GET", "/api/v1/rounds/{round_id}/groups/{group_id}/household-bills"): (
        expect(403, admin=200, committee=200, leader=200, outsider=404), None, None),
    # The sheet's link is the credential, like a supplier's: a bearer token neither adds nor takes away.
    ("GET", "/api/v1/sheets/{sheet_token}"): (expect(200, outsider=200, anonymous=200), None, None),
    ("GET", "/api/v1/sheets/{sheet_token}/households/{household_id}"): (
        expect(200, outsider=200, anonymous=200), None, None),
    ("PUT", "/api/v1/sheets/{sheet_token}/households/{household_id}"): (
        expect(200, outsider=200, anonymous=200),
        lambda w, role: {"lines": [{"offer_id": w["sheet_offer"].id, "quantity": 2}]}, None),
    # Everyone has their own notifications and settings; a notification is its recipient's alone.
    ("GET", "/api/v1/notifications"): (everyone_in_network(outsider=200), None, None),
    ("POST", "/api/v1/notifications/{notification_id}/read"): (expect(404, leader=200), None, None),
    ("GET", "/api/v1/me/notification-settings"): (everyone_in_network(outsider=200), None, None),
    ("PUT", "/api/v1/me/notification-settings"): (everyone_in_network(outsider=200), {"email": True, "line": False},
                                                  None),
    # Everyone may connect their own LINE.
    ("POST", "/api/v1/me/line-link"): (everyone_in_network(201, outsider=201), None, None),
    # Imports (a dry run: the admin of any network checks a file against its own network) and invitations.
    ("POST", "/api/v1/imports"): (expect(403, admin=200, outsider=200), _import_body, None),
    ("POST", "/api/v1/users/{user_id}/invitation"): (expect(403, admin=201, outsider=404), None, None),
    # Anyone changes their own password; reset links: the admin for anyone, the committee for leaders.
    ("POST", "/api/v1/me/password"): (everyone_in_network(204, outsider=204),
                                      {"current_password": PASSWORD, "new_password": "matrix-kept-2026"}, None),
    ("POST", "/api/v1/users/{user_id}/password-reset"): (expect(403, admin=201, committee=201, outsider=404), None,
                                                          None),
}
METHODS = {"get", "post", "put", "patch", "delete"}


def documented_operations(client: Any) -> set[tuple[str, str]]:
    doc = client.get("/api/v1/openapi.json").get_json()
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops if method in METHODS}


def test_the_table_covers_every_documented_endpoint(client):  # type: ignore[no-untyped-def]
    documented = documented_operations(client)
    missing = documented - set(MATRIX)
    assert not missing, f"endpoints without a row in the authorization matrix: {sorted(missing)}"
    stale = set(MATRIX) - documented
    assert not stale, f"rows for endpoints the OpenAPI document does not list: {sorted(stale)}"
    for key, (statuses, _, _) in MATRIX.items():
        assert set(statuses) == set(ROLES), key
        assert all(code in (200, 201, 202, 204, 401, 403, 404) for code in statuses.values()), key


def _url(path: str, w: dict[str, Any]) -> str:
    values = {name: fn(w) for name, fn in PARAMS.items()}
    if "{round_id}" in path:
        values["round_id"] = w[ROUND_FOR[path]].id
    if path.startswith("/api/v1/sheets/"):
        values["household_id"] = w["sheet_household"]["id"]
    return path.format(**values)


def call(client: Any, method: str, path: str, w: dict[str, Any], role: str, body: Any) -> Any:
    if callable(body):
        body = body(w, role)
    kwargs: dict[str, Any] = {"headers": w["headers"][role]}
    if isinstance(body, Form):
        kwargs["data"] = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in body.items()}
        kwargs["content_type"] = "multipart/form-data"
    elif body is not None:
        kwargs["json"] = body
    return client.open(_url(path, w), method=method, **kwargs)


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_gets_exactly_what_it_may(app, db_session, world_factory, operation):  # type: ignore[no-untyped-def]
    client = Browser(app)
    method, path = operation
    statuses, body, check = MATRIX[operation]
    w = world_factory()
    refused = [role for role in ROLES if statuses[role] >= 400]
    allowed = [role for role in ROLES if statuses[role] < 400]
    # Refusals first, all on the same world: each changes nothing, so the next sees the same state.
    for role in refused:
        where = f"{method} {path} as {role}"
        before = audit_count(db_session)
        response = call(client, method, path, w, role, body)
        assert response.status_code == statuses[role], (where, response.status_code, response.get_json())
        assert_refusal_leaks_nothing(response, w, where)
        assert audit_count(db_session) == before, f"{where}: a refusal wrote to the audit trail"
    # Each allowed role on a world of its own (a write by one would change what the next one sees).
    for i, role in enumerate(allowed):
        if i > 0 and method != "GET":
            w = world_factory()
        where = f"{method} {path} as {role}"
        response = call(client, method, path, w, role, body)
        assert response.status_code == statuses[role], (where, response.status_code, response.get_json())
        if role == OUTSIDER:
            assert_no_secrets(response, w, where)
        if check is not None and response.status_code == 200:
            check(role, response.get_json() if response.is_json else response.get_data(as_text=True), w)


def test_revoked_token_is_refused_everywhere(app, world_factory):  # type: ignore[no-untyped-def]
    client = Browser(app)
    w = world_factory()
    h = w["headers"][COMMITTEE]
    assert client.get("/api/v1/rounds", headers=h).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=h).status_code == 204
    for method, path in sorted(MATRIX):
        if path == "/api/v1/tokens" or path.startswith(("/api/v1/quotes/", "/api/v1/sheets/")):
            continue  # no bearer token needed: the e-mail and password, or the link's own token
        response = client.open(_url(path, w), method=method, headers=h, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert_refusal_leaks_nothing(response, w, f"{method} {path} with a revoked token")
