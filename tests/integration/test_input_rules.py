"""One rule, one place: the defects of issue 11 point 3, each at the entry point where it was found, plus the
same rules reached through a service directly (what the CSV import, the CLI and jobs call)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.pages_helpers import csrf, login


@pytest.fixture
def world(make_network, make_group, make_user, make_round, make_offer, place_order, token_for):  # type: ignore[no-untyped-def]
    from core.db import db
    from market.models import Listing

    network = make_network()
    group_a = make_group(network, name="กลุ่มแม่บ้านโพนพิสัย")
    group_b = make_group(network, name="สหกรณ์ท่าบ่อ")
    users = {"admin": make_user(network, "admin"), "committee": make_user(network, "committee"),
             "leader": make_user(network, "leader", group_a), "seller": make_user(network, "seller", group_b)}
    rnd = make_round(network, name="รอบปุ๋ย")
    offer = make_offer(rnd, tiers=[(0, "90.00"), (100, "85.00")], pack_size=10)
    place_order(rnd, group_a, [(offer, 40, 5)])
    listing = Listing(network_id=network.id, group_id=group_b.id, created_by_id=users["seller"].id, name="ข้าว",
                      unit="kg", category="rice", price=Decimal("35.00"), stock=100)
    db.session.add(listing)
    db.session.commit()
    return {"network": network, "a": group_a, "users": users, "round": rnd, "offer": offer, "listing": listing,
            "headers": {role: token_for(user) for role, user in users.items()}}


def _rows(model: Any) -> int:
    from core.db import db

    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_price_in_exponent_form_is_refused_over_the_api(client, world):  # type: ignore[no-untyped-def]
    from market.models import Listing

    before = _rows(Listing)
    response = client.post("/api/v1/listings", headers=world["headers"]["seller"],
                           json={"name": "ผ้า", "unit": "piece", "category": "cloth", "price": "1e3", "stock": 1})
    assert response.status_code == 422, response.json
    assert "price" in response.json["error"]["fields"]
    assert _rows(Listing) == before


# Amounts below what is owed, so only the money rule can refuse them ("1e1" was recorded as 10.00 before).
@pytest.mark.parametrize("amount", ["1e1", "1E1", "5e-1", "NaN", "Infinity", "1.001", "๑e๑"])
def test_a_payment_in_exponent_form_is_refused_on_the_page(app, world, amount):  # type: ignore[no-untyped-def]
    from orders import combine
    from orders.invoices import list_invoices
    from orders.models import BuyingRound, Payment

    rnd = world["round"]
    from core.db import db

    db.session.get(BuyingRound, rnd.id).state = "closed"
    db.session.commit()
    combine.combine_round(rnd.id)
    invoice = list_invoices(world["users"]["committee"], rnd.id)[0]
    client = app.test_client()
    login(client, world["users"]["committee"])
    page = client.get(f"/invoices/{invoice.id}")
    response = client.post(f"/invoices/{invoice.id}", data={"amount": amount, "note": "",
                                                            "csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 422
    assert 'id="amount-error"' in response.get_data(as_text=True)
    assert _rows(Payment) == 0


def test_a_20_digit_quantity_is_a_message_not_a_500(app, world):  # type: ignore[no-untyped-def]
    """On the market purchase page and the group order form (an OverflowError on SQLite before)."""
    client = app.test_client()
    login(client, world["users"]["leader"])
    listing_url = f"/market/listings/{world['listing'].id}"
    page = client.get(listing_url)
    response = client.post(listing_url, data={"quantity": "1" * 20, "csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "has-error" in html and "ต้องไม่เกิน" in html
    order_url = f"/rounds/{world['round'].id}/order"
    page = client.get(order_url)
    offer_id = world["offer"].id
    response = client.post(order_url, data={f"q_{offer_id}": "9" * 20, f"t_{offer_id}": "0",
                                            "csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 422
    assert "ต้องไม่เกิน" in response.get_data(as_text=True)


def test_a_20_digit_quantity_on_sqlite_is_refused_by_the_service(tmp_path):  # type: ignore[no-untyped-def]
    import flask_migrate

    from core.db import db
    from core.errors import InvalidInput
    from market import services
    from network.models import Group, Network, User
    from tests.conftest import _make_app

    app = _make_app(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade()
        net = Network(name="N", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
        db.session.add(net)
        db.session.flush()
        group = Group(network_id=net.id, name="G", members=1, registered_poor_members=0)
        db.session.add(group)
        db.session.flush()
        leader = User(network_id=net.id, email="l@example.org", name="L", password_hash="x", role="leader",
                      group_id=group.id)
        db.session.add(leader)
        db.session.commit()
        with pytest.raises(InvalidInput) as refused:
            services.place_purchase(leader, 1, group.id, 10**20)
        assert "quantity" in refused.value.fields
        db.session.remove()
        db.engine.dispose()


def test_more_registered_poor_than_members_names_that_field_on_the_page(app, world):  # type: ignore[no-untyped-def]
    from network.models import Group

    client = app.test_client()
    login(client, world["users"]["admin"])
    page = client.get("/groups")
    before = _rows(Group)
    response = client.post("/groups", data={"name": "กลุ่มใหม่", "kind": "cooperative", "district": "", "subdistrict": "",
                                            "members": "5", "registered_poor_members": "9",
                                            "csrf_token": csrf(page.get_data(as_text=True))})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="registered_poor_members-error"' in html
    assert "มีกลุ่มชื่อนี้อยู่แล้ว" not in html and "มีชื่อนี้อยู่แล้ว" not in html
    assert _rows(Group) == before


def test_a_blank_order_form_keeps_the_order_and_withdrawing_is_confirmed(app, world):  # type: ignore[no-untyped-def]
    from core.db import db
    from orders.models import OrderLine

    client = app.test_client()
    login(client, world["users"]["leader"])
    order_url = f"/rounds/{world['round'].id}/order"
    offer_id = world["offer"].id
    page = client.get(order_url)
    token = csrf(page.get_data(as_text=True))
    assert "withdraw-order" in page.get_data(as_text=True)
    blank = client.post(order_url, data={f"q_{offer_id}": "", f"t_{offer_id}": "", "csrf_token": token})
    assert blank.status_code == 422
    assert "ถอนคำสั่งซื้อของกลุ่มทั้งหมด" in blank.get_data(as_text=True)
    db.session.expire_all()
    assert _rows(OrderLine) == 1, "a blank form wiped the group's order"
    # Withdrawing: a page that says what will happen; only its own button removes the order.
    confirm = client.get(f"{order_url}/withdraw")
    assert confirm.status_code == 200 and "confirm-withdraw" in confirm.get_data(as_text=True)
    assert _rows(OrderLine) == 1
    done = client.post(f"{order_url}/withdraw", data={"csrf_token": csrf(confirm.get_data(as_text=True))})
    assert done.status_code == 302
    db.session.expire_all()
    assert _rows(OrderLine) == 0


@pytest.mark.parametrize("tiers, field", [
    ([(0, "90.00"), (0, "85.00")], "min_quantity"),      # not increasing
    ([(5, "90.00")], "min_quantity"),                    # not starting at 0
    ([(0, "80.00"), (10, "85.00")], "unit_price"),       # price going up
    ([(0, "1e3")], "unit_price"),                        # exponent
    ([(0, "90.005")], "unit_price"),                     # sub-satang
])
def test_add_offer_enforces_the_tier_rules_in_the_service(world, tiers, field):  # type: ignore[no-untyped-def]
    """What the CSV import, the CLI and jobs call: the service itself refuses, naming the tier's field."""
    from core.errors import InvalidInput
    from orders import services
    from orders.models import Offer

    rnd, offer = world["round"], world["offer"]
    before = _rows(Offer)
    with pytest.raises(InvalidInput) as refused:
        services.add_offer(world["users"]["committee"], rnd.id, {
            "product_id": offer.product_id, "supplier_id": offer.supplier_id, "pack_size": 1, "min_quantity": 0,
            "reference_price": Decimal("100.00"), "delivery_fee": Decimal("0"),
            "tiers": [{"min_quantity": q, "unit_price": p} for q, p in tiers]})
    tier_fields = refused.value.fields["tiers"]
    assert any(field in problem for problem in tier_fields.values()), tier_fields
    assert _rows(Offer) == before
