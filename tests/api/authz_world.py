"""The world of the authorization matrix (tests/api/test_authz_matrix.py for the API, test_authz_pages.py
for the pages): one network with every kind of object, a second network whose admin is the outsider, and
a user with a token for each role."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

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


def audit_count(db_session: Any) -> int:
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


# --- pages: the address of each page in the world ----------------------------------------------------

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


def login_client(app: Any, user: Any) -> Browser:
    from tests.integration.pages_helpers import login

    browser = Browser(app)
    login(browser, user)
    return browser
