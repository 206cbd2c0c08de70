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
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD

ROLES = ("admin", "committee", "leader", "other_leader", "seller", "outsider", "anonymous")
ADMIN, COMMITTEE, LEADER, OTHER_LEADER, SELLER, OUTSIDER, ANON = ROLES
MARK = "Zq7Secret"  # in every name of the network under test: must never reach an outsider or a refusal


def last_month() -> str:
    from zoneinfo import ZoneInfo

    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok"))
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def build_world(db_session: Any, make_network: Callable[..., Any], make_group: Callable[..., Any],
                make_user: Callable[..., Any], token_for: Callable[..., Any], make_round: Callable[..., Any],
                make_offer: Callable[..., Any], place_order: Callable[..., Any]) -> dict[str, Any]:
    """One network with every kind of object in every state an endpoint needs, and an outsider."""
    from core import jobs
    from core.audit import record
    from market.models import Listing, Purchase
    from orders import combine
    from orders.models import Invoice, Product, PurchaseOrder, Supplier
    from reports import services as report_services

    tag = uuid.uuid4().hex[:6]
    net = make_network(name=f"Network {MARK} {tag}")
    g1 = make_group(net, name=f"This group {MARK} {tag}")
    g2 = make_group(net, name=f"Other group {MARK} {tag}")
    g3 = make_group(net, name=f"Rice mill {MARK} {tag}")
    users = {ADMIN: make_user(net, "admin"), COMMITTEE: make_user(net, "committee"),
             LEADER: make_user(net, "leader", g1), OTHER_LEADER: make_user(net, "leader", g2),
             SELLER: make_user(net, "seller", g3)}
    net_b = make_network(name=f"Elsewhere {tag}")
    make_group(net_b, name=f"Far group {tag}")
    users[OUTSIDER] = make_user(net_b, "admin")

    supplier = Supplier(network_id=net.id, name=f"Supplier {MARK} {tag}")
    product = Product(network_id=net.id, name=f"Fertiliser {MARK} {tag}", unit="sack")
    db_session.add_all([supplier, product])
    db_session.commit()

    draft = make_round(net, state="draft", name=f"Draft {MARK}")
    make_offer(draft, supplier=supplier, product=product)
    open_round = make_round(net, state="open", name=f"Open {MARK}")
    open_offer = make_offer(open_round, supplier=supplier, product=product,
                            tiers=[(0, "90.00"), (10, "80.00")])
    place_order(open_round, g1, [(open_offer, 4, 0)])
    place_order(open_round, g2, [(open_offer, 5, 0)])
    done = make_round(net, state="closed", name=f"Combined {MARK}", closes_in=timedelta(hours=-1))
    done_offer = make_offer(done, supplier=supplier, product=product, tiers=[(0, "90.00"), (10, "80.00")])
    place_order(done, g1, [(done_offer, 6, 0)])
    place_order(done, g2, [(done_offer, 7, 0)])
    combine.combine_round(done.id)
    po = db_session.scalar(select(PurchaseOrder).where(PurchaseOrder.round_id == done.id))
    invoices = {inv.group_id: inv for inv in db_session.scalars(select(Invoice).where(Invoice.round_id == done.id))}
    # Paying (issue 25): the network takes PromptPay, and g1 paid part of its invoice (its receipt).
    from orders.models import Payment, ReceiptCounter

    net.promptpay_id = "0812345678"
    invoices[g1.id].paid = Decimal("10.00")
    payment = Payment(invoice_id=invoices[g1.id].id, network_id=net.id, amount=Decimal("10.00"), method="cash",
                      receipt_number="2569/000001", recorded_by_id=users[COMMITTEE].id, note="")
    db_session.add_all([payment, ReceiptCounter(network_id=net.id, year=2569, last_number=1)])
    db_session.commit()

    listing = Listing(network_id=net.id, group_id=g3.id, created_by_id=users[SELLER].id,
                      name=f"Jasmine rice {MARK}", unit="kg", category="rice", price=Decimal("35.00"),
                      outside_price=Decimal("28.00"), reference_price=Decimal("40.00"), stock=100)
    db_session.add(listing)
    db_session.flush()
    purchase = Purchase(network_id=net.id, listing_id=listing.id, buyer_group_id=g1.id, seller_group_id=g3.id,
                        placed_by_id=users[LEADER].id, quantity=3, unit_price=Decimal("35.00"),
                        outside_price=Decimal("28.00"), reference_price=Decimal("40.00"), amount=Decimal("105.00"),
                        state="placed", placed_at=datetime.now(UTC))
    db_session.add(purchase)
    db_session.commit()

    month = last_month()
    report_services.build_summary(net.id, month)
    job = jobs.enqueue("combine_round", {"round_id": done.id}, network_id=net.id, dedupe_key=f"combine:{done.id}")
    record(users[COMMITTEE], "listing.update", "listing", listing.id, {"price": "36.00"}, {"price": "35.00"})
    from notifications.models import Delivery, Notification

    notification = Notification(network_id=net.id, user_id=users[LEADER].id, event_key=f"payment_recorded:{tag}",
                                kind="payment_recorded", title=f"Paid {MARK}", body=f"Group {MARK}", link="/invoices")
    db_session.add(notification)
    db_session.flush()
    delivery = Delivery(notification_id=notification.id, network_id=net.id, user_id=users[LEADER].id,
                        event_key=notification.event_key, channel="email", state="failed", attempts=5,
                        last_error="SMTP: refused")
    db_session.add(delivery)
    db_session.commit()

    # A request for quotation with one quote. Its product and supplier carry no secret mark: its link's
    # token is a credential of its own, and what it shows (the request, the supplier's own quote) is
    # exactly what any holder of the link may see, whatever bearer token comes with it.
    from quotes import services as quote_services

    rfq_supplier = Supplier(network_id=net.id, name=f"Quoting supplier {tag}")
    rfq_product = Product(network_id=net.id, name=f"Rice {tag}", unit="kg")
    b_supplier = Supplier(network_id=net_b.id, name=f"Far supplier {tag}")
    b_product = Product(network_id=net_b.id, name=f"Far product {tag}", unit="kg")
    db_session.add_all([rfq_supplier, rfq_product, b_supplier, b_product])
    db_session.commit()
    rfq = quote_services.create_rfq(users[COMMITTEE], {
        "name": f"Request {tag}", "closes_at": datetime.now(UTC) + timedelta(days=2),
        "items": [{"product_id": rfq_product.id, "quantity": 10, "reference_price": Decimal("40.00")}],
        "supplier_ids": [rfq_supplier.id]})
    rfq_token = rfq.invitations[0].token
    assert rfq_token is not None
    quote_services.submit_quote(rfq_token, {"delivery_fee": Decimal("5.00"), "lines": [
        {"product_id": rfq_product.id, "pack_size": 1, "min_quantity": 0,
         "tiers": [{"min_quantity": 0, "unit_price": Decimal("35.00")}]}]})

    # A household of this group. And a sheet link: like a supplier's, its token is a credential of its own and
    # what it shows is what any holder of the link may see, so it is another group's, in a round of unmarked
    # names, with one household's lines on it.
    from households import services as household_services
    from households import sheets as household_sheets

    household = household_services.create_household(users[LEADER], g1.id, {"name": f"House {tag}",
                                                                           "registered_poor": True})
    # A live link of this group (to revoke), with this household's lines on it (to adopt as the order).
    g1_token = household_sheets.open_sheet(users[LEADER], open_round.id, g1.id)
    household_sheets.replace_household_lines(g1_token, household["id"], [{"offer_id": open_offer.id, "quantity": 4}])
    g4 = make_group(net, name=f"Neighbours {tag}")
    g4_leader = make_user(net, "leader", g4)
    sheet_round = make_round(net, state="open", name=f"Sheet round {tag}")
    sheet_offer = make_offer(sheet_round, supplier=rfq_supplier, product=rfq_product)
    sheet_household = household_services.create_household(g4_leader, g4.id, {"name": f"Neighbour house {tag}"})
    sheet_token = household_sheets.open_sheet(g4_leader, sheet_round.id, g4.id)
    household_sheets.replace_household_lines(sheet_token, sheet_household["id"],
                                             [{"offer_id": sheet_offer.id, "quantity": 3}])

    headers = {role: token_for(user) for role, user in users.items()}
    headers[ANON] = {}
    secrets = [MARK] + [u.email for role, u in users.items() if role != OUTSIDER]
    return {
        "network": net, "g1": g1, "g2": g2, "g3": g3, "users": users, "headers": headers, "secrets": secrets,
        "supplier": supplier, "product": product, "draft": draft, "open": open_round, "open_offer": open_offer,
        "done": done, "done_offer": done_offer, "po": po, "invoice": invoices[g1.id], "payment": payment,
        "invoice_g2": invoices[g2.id], "listing": listing, "purchase": purchase, "month": month, "job": job,
        "rfq": rfq, "rfq_token": rfq_token, "rfq_supplier": rfq_supplier, "rfq_product": rfq_product,
        "b_supplier": b_supplier, "b_product": b_product,
        "notification": notification, "delivery": delivery, "household": household, "sheet_token": sheet_token,
        "sheet_household": sheet_household, "sheet_offer": sheet_offer,
    }


@pytest.fixture
def world_factory(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                  place_order):  # type: ignore[no-untyped-def]
    return lambda: build_world(db_session, make_network, make_group, make_user, token_for, make_round,
                               make_offer, place_order)


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


def _audit_count(db_session: Any) -> int:
    from core.models import AuditEvent

    return int(db_session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def assert_refusal_leaks_nothing(response: Any, w: dict[str, Any], where: str) -> None:
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, (where, body)
    extra = set(body["error"]) - {"code", "message", "fields"}
    assert {"code", "message", "fields"} <= set(body["error"]), (where, body)
    # Nothing beyond the error shape, but an echo of what the caller itself sent (e.g. the month asked for).
    assert all(str(body["error"][k]) in response.request.url for k in extra), (where, body)
    assert body["error"]["code"] in ("not_authenticated", "forbidden", "not_found"), (where, body)
    assert_no_secrets(response, w, where)


def assert_no_secrets(response: Any, w: dict[str, Any], where: str) -> None:
    text = response.get_data(as_text=True)
    for secret in w["secrets"]:
        assert secret not in text, f"{where}: leaks {secret!r}"


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
        before = _audit_count(db_session)
        response = call(client, method, path, w, role, body)
        assert response.status_code == statuses[role], (where, response.status_code, response.get_json())
        assert_refusal_leaks_nothing(response, w, where)
        assert _audit_count(db_session) == before, f"{where}: a refusal wrote to the audit trail"
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


# --- pages -----------------------------------------------------------------------------------------

def P(default: int, **by_role: int) -> dict[str, int]:  # noqa: N802 - reads as a table
    table = {role: default for role in ROLES}
    table[ANON] = 302
    table.update(by_role)
    return table


PAGE_COMMITTEE = P(403, admin=200, committee=200)
PAGE_GROUP_ROLES = P(200, admin=403, committee=403, outsider=403)
PAGE_PARAMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "job_id": lambda w: w["job"].id, "group_id": lambda w: w["g1"].id, "po_id": lambda w: w["po"].id,
    "invoice_id": lambda w: w["invoice"].id, "listing_id": lambda w: w["listing"].id,
    "month": lambda w: w["month"], "kind": lambda w: "savings", "round_id": lambda w: w["done"].id,
    "purchase_id": lambda w: w["purchase"].id, "action": lambda w: "confirm", "code": lambda w: "en",
    "rfq_id": lambda w: w["rfq"].id, "token": lambda w: w["rfq_token"], "supplier_id": lambda w: w["rfq_supplier"].id,
    "notification_id": lambda w: w["notification"].id, "delivery_id": lambda w: w["delivery"].id,
    "sheet_token": lambda w: w["sheet_token"],
    "payment_id": lambda w: w["payment"].id,
    "user_id": lambda w: w["users"][LEADER].id,
}
PAGES: dict[str, dict[str, int]] = {
    "/": P(200),
    "/jobs/<job_id>.json": P(200, outsider=404),
    "/groups": P(403, admin=200, committee=200, outsider=200),
    "/groups/<int:group_id>/edit": P(403, admin=200, leader=200, outsider=404),
    "/users": P(403, admin=200, outsider=200),
    "/rounds": P(200),
    "/rounds/<int:round_id>": P(200, outsider=404),
    "/rounds/<int:round_id>/order": P(403, leader=200, other_leader=200),
    "/rounds/<int:round_id>/order/withdraw": P(403, leader=200, other_leader=200),
    "/rounds/<int:round_id>/purchase-orders": P(403, admin=200, committee=200, outsider=404),
    "/purchase-orders/<int:po_id>": P(403, admin=200, committee=200, outsider=404),
    "/purchase-orders/<int:po_id>.csv": P(403, admin=200, committee=200, outsider=404),
    "/purchase-orders/<int:po_id>/receipt": P(403, admin=200, committee=200, outsider=404),
    "/rounds/<int:round_id>/distribution": P(403, admin=200, committee=200, outsider=404),
    "/rounds/<int:round_id>/invoices": P(200, outsider=404),
    "/invoices": PAGE_GROUP_ROLES,
    "/invoices/<int:invoice_id>": P(404, admin=200, committee=200, leader=200),
    "/payments/<int:payment_id>/receipt": P(404, admin=200, committee=200, leader=200),
    "/payments/<int:payment_id>/cancellation": P(404),
    "/network/settings": P(403, admin=200, outsider=200),
    "/suppliers": P(403, admin=200, committee=200, outsider=200),
    "/market": P(200),
    "/market/listings/<int:listing_id>": P(200, outsider=404),
    "/market/purchases": PAGE_GROUP_ROLES,
    "/market/mine": PAGE_GROUP_ROLES,
    "/market/listings/<int:listing_id>/edit": P(403, seller=200),
    "/market/sales": PAGE_GROUP_ROLES,
    "/summaries": P(403, admin=200, committee=200, outsider=200),
    # A group's people are sent to their own savings page; the outsider sees its own (empty) month.
    "/summaries/<month>": P(302, admin=200, committee=200, outsider=200),
    "/summaries/<month>.csv": P(403, admin=200, committee=200, outsider=200),
    "/summaries/<month>/charts/<kind>.svg": P(200),
    "/savings": PAGE_GROUP_ROLES,
    "/audit": P(403, admin=200, committee=200, outsider=200),
    "/rfqs": P(403, admin=200, committee=200, outsider=200),
    "/rfqs/new": P(403, admin=200, committee=200, outsider=200),
    "/rfqs/<int:rfq_id>": P(403, admin=200, committee=200, outsider=404),
    # A supplier's private link: the token is the credential, whoever is logged in (or nobody).
    "/q/<string:token>": P(200, anonymous=200),
    # A group's households: the sheet by its link (anyone holding it), the leader's pages.
    "/h/<string:sheet_token>": P(200, anonymous=200),
    "/groups/<int:group_id>/households": P(404, admin=200, committee=200, leader=200),
    "/rounds/<int:round_id>/groups/<int:group_id>/households": P(403, admin=200, committee=200, leader=200,
                                                                   outsider=404),
    "/rounds/<int:round_id>/groups/<int:group_id>/household-bills": P(403, admin=200, committee=200, leader=200,
                                                                        outsider=404),
    "/notifications": P(200),
    "/notifications/settings": P(200),
    "/admin/notifications/failed": P(403, admin=200, outsider=200),
    # Liveness and the hello-world of the load test: public, and they say nothing about any network.
    "/healthz": P(200, anonymous=200),
    "/readyz": P(200, anonymous=200),
    # No METRICS_TOKEN in the tests: the endpoint does not exist (token checks: test_operations_http).
    "/metrics": P(404, anonymous=404),
    "/ping": P(200, anonymous=200),
    # Installing the app and its service worker (issue 17): public, the same for everyone.
    "/manifest.webmanifest": P(200, anonymous=200),
    "/sw.js": P(200, anonymous=200),
    # A fresh CSRF token for a phone sending what it kept offline: only with a session.
    "/offline/token": P(200, anonymous=401),
    "/imports": P(403, admin=200, outsider=200),
    "/imports/<kind>.csv": P(403, admin=404, outsider=404),  # the world's kind ("savings") is no import
    # An invitation's link is the credential, whoever is logged in (or nobody); the world's is not one.
    "/welcome/<token>": P(404, anonymous=404),
    "/account/password": P(200),
    # A reset link: its token is the credential (the world's rfq token is no reset token: 404 for all).
    "/reset/<string:token>": P(404, anonymous=404),
}
# Not pages of their own: the login form and LINE Login's start and return, the language switch (a redirect back), static files.
NOT_PAGES = {"/login", "/lang/<code>", "/static/<path:filename>", "/login/line", "/login/line/callback"}
PAGE_ROUNDS = {"/rounds/<int:round_id>/order": "open", "/rounds/<int:round_id>/order/withdraw": "open"}


def page_rules(app: Any, method: str) -> dict[str, Any]:
    return {rule.rule: rule for rule in app.url_map.iter_rules()
            if method in rule.methods and not rule.rule.startswith("/api/") and rule.rule not in NOT_PAGES}


def page_url(app: Any, rule: str, w: dict[str, Any]) -> str:
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        if name == "round_id" and rule in PAGE_ROUNDS:
            return str(w[PAGE_ROUNDS[rule]].id)
        return str(PAGE_PARAMS[name](w))

    return re.sub(r"<([^>]+)>", value, rule)


def test_the_page_table_covers_every_page(app):  # type: ignore[no-untyped-def]
    rules = set(page_rules(app, "GET"))
    assert not rules - set(PAGES), f"pages without a row: {sorted(rules - set(PAGES))}"
    assert not set(PAGES) - rules, f"rows for pages that do not exist: {sorted(set(PAGES) - rules)}"


class Browser:
    """A test client whose every request starts with an empty ``g``, as in production.

    Every request of a test reuses the test's app context (db_session pushes it), and with it ``g``,
    where Flask-Login keeps the current user and Flask-WTF the CSRF token: one client's login would
    leak into the next client's requests. (A fresh app context would end the test's session.)
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import g

        for name in list(g):
            g.pop(name, None)
        return self.client.open(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        return self.open(*args, method="POST", **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self.open(*args, method="DELETE", **kwargs)


def login_client(app: Any, user: Any) -> Browser:
    from tests.integration.pages_helpers import login

    browser = Browser(app)
    login(browser, user)
    return browser


def test_each_role_sees_exactly_the_pages_it_may(app, client, world_factory):  # type: ignore[no-untyped-def]
    w = world_factory()
    clients = {role: login_client(app, user) for role, user in w["users"].items()}
    clients[ANON] = Browser(app)
    failures = []
    cells = 0
    for rule, statuses in sorted(PAGES.items()):
        url = page_url(app, rule, w)
        for role in ROLES:
            cells += 1
            response = clients[role].get(url)
            expected = statuses[role]
            if response.status_code != expected:
                failures.append(f"GET {url} ({rule}) as {role}: {response.status_code}, expected {expected}")
                continue
            if role == ANON and expected == 302:
                assert "/login" in response.headers["Location"], (rule, response.headers["Location"])
            if (role in (ANON, OUTSIDER) or expected in (403, 404)) and response.mimetype != "image/png":
                text = response.get_data(as_text=True)
                if role != OUTSIDER:  # the footer names the user's own network: theirs to see
                    text = text.replace(w["network"].name, "")
                leaked = [s for s in w["secrets"] if s in text]
                if leaked:
                    failures.append(f"GET {url} as {role}: leaks {leaked}")
    assert not failures, "\n".join(failures)
    assert cells == len(PAGES) * len(ROLES)


def test_page_posts_need_the_right_role(app, world_factory, db_session):  # type: ignore[no-untyped-def]
    """Every page form, posted with a valid CSRF token by a role that may not use it: 403/404, nothing written."""
    from tests.integration.pages_helpers import csrf

    w = world_factory()
    # Who may post each form (everyone else must be refused before anything happens).
    may_post = {
        "/logout": set(ROLES) - {ANON},
        "/groups": {ADMIN, OUTSIDER},
        "/groups/<int:group_id>/edit": {ADMIN, LEADER},
        "/network/settings": {ADMIN, OUTSIDER},
        "/payments/<int:payment_id>/receipt": {ADMIN, COMMITTEE},
        "/users": {ADMIN, OUTSIDER},
        "/rounds": {ADMIN, COMMITTEE, OUTSIDER},
        "/rounds/<int:round_id>/offers": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/open": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/close": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/combine": {ADMIN, COMMITTEE},
        "/rounds/<int:round_id>/order": {LEADER, OTHER_LEADER},
        "/rounds/<int:round_id>/order/withdraw": {LEADER, OTHER_LEADER},
        "/purchase-orders/<int:po_id>/receipt": {ADMIN, COMMITTEE},
        "/invoices/<int:invoice_id>": {ADMIN, COMMITTEE},
        "/suppliers": {ADMIN, COMMITTEE, OUTSIDER},
        "/products": {ADMIN, COMMITTEE, OUTSIDER},
        "/price-lists": {ADMIN, COMMITTEE, OUTSIDER},
        "/market/listings/<int:listing_id>": {LEADER, OTHER_LEADER},
        "/market/mine": {LEADER, OTHER_LEADER, SELLER},
        "/market/listings/<int:listing_id>/edit": {SELLER},
        "/market/listings/<int:listing_id>/state": {SELLER},
        "/market/purchases/<int:purchase_id>/<action>": {SELLER},
        "/summaries/<month>": {ADMIN, COMMITTEE, LEADER, OTHER_LEADER, SELLER, OUTSIDER},
        "/summaries/<month>/rebuild": {ADMIN, COMMITTEE, OUTSIDER},
        "/rfqs/new": {ADMIN, COMMITTEE, OUTSIDER},
        "/rfqs/<int:rfq_id>": {ADMIN, COMMITTEE},
        "/rfqs/<int:rfq_id>/links/<int:supplier_id>": {ADMIN, COMMITTEE},
        "/q/<string:token>": set(ROLES),
        "/h/<string:sheet_token>": set(ROLES),
        "/groups/<int:group_id>/households": {ADMIN, COMMITTEE, LEADER},
        "/rounds/<int:round_id>/groups/<int:group_id>/households": {ADMIN, COMMITTEE, LEADER},
        "/notifications/<int:notification_id>/read": {LEADER},
        "/notifications/read-all": set(ROLES) - {ANON},
        "/notifications/settings": set(ROLES) - {ANON},
        "/notifications/line-link": set(ROLES) - {ANON},
        "/notifications/line/connect": set(ROLES) - {ANON},
        # LINE's signature is its only credential (and without LINE_CHANNEL_SECRET it does not exist).
        "/line/webhook": set(),
        "/admin/notifications/deliveries/<int:delivery_id>/retry": {ADMIN},
        "/imports": {ADMIN, OUTSIDER},
        "/imports/confirm": {ADMIN, OUTSIDER},
        "/users/<int:user_id>/invitation": {ADMIN},
        "/users/invitations": {ADMIN, OUTSIDER},
        "/welcome/<token>": set(ROLES),
        # LINE Login in place of a password: the link is the credential (and LINE Login is off in the tests: 404).
        "/welcome/<token>/line": set(ROLES),
        "/account/password": set(ROLES) - {ANON},
        "/reset/<string:token>": set(ROLES),
        "/users/<int:user_id>/password-reset": {ADMIN, COMMITTEE},
    }
    rules = set(page_rules(app, "POST")) | {"/login"}
    rules.discard("/login")
    assert rules == set(may_post), f"POST pages without a row: {sorted(rules ^ set(may_post))}"
    clients = {role: login_client(app, user) for role, user in w["users"].items() if role != OUTSIDER}
    token = {role: csrf(c.get("/").get_data(as_text=True)) for role, c in clients.items()}
    failures = []
    for rule, allowed in sorted(may_post.items()):
        url = page_url(app, rule, w)
        for role, c in clients.items():
            if role in allowed:
                continue
            before = _audit_count(db_session)
            response = c.post(url, data={"csrf_token": token[role], "state": "paused"})
            if response.status_code not in (403, 404):
                failures.append(f"POST {url} as {role}: {response.status_code}")
            if _audit_count(db_session) != before:
                failures.append(f"POST {url} as {role}: wrote to the audit trail")
    assert not failures, "\n".join(failures)
