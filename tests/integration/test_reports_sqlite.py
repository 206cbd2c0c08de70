"""The embedded default: the same summary queries run on SQLite and agree to the satang."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.conftest import _make_app


def test_summary_on_sqlite(tmp_path):
    import flask_migrate

    from core.db import db
    from market.models import Listing, Purchase
    from network.models import Group, Network, User
    from orders.combine import combine_round
    from orders.delivery import record_receipt
    from orders.models import BuyingRound, GroupOrder, Offer, OrderLine, PriceTier, Product, PurchaseOrder, Supplier
    from reports import services

    app = _make_app(f"sqlite:///{tmp_path / 'ruamsue.sqlite3'}")
    with app.app_context():
        # The schema the embedded default really has: built by the migrations, as every other test's is.
        flask_migrate.upgrade()
        s = db.session
        net = Network(name="เครือข่าย", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
        s.add(net)
        s.flush()
        g1 = Group(network_id=net.id, name="สหกรณ์บ้านนา", members=40, registered_poor_members=10)
        g2 = Group(network_id=net.id, name="กลุ่มทอผ้า", members=30, registered_poor_members=7)
        sup = Supplier(network_id=net.id, name="S")
        prod = Product(network_id=net.id, name="ข้าว", unit="kg")
        s.add_all([g1, g2, sup, prod])
        s.flush()
        committee = User(network_id=net.id, email="c@example.org", name="C", password_hash="x", role="committee")
        now = datetime.now(UTC)
        rnd = BuyingRound(network_id=net.id, name="R", state="closed", closes_at=now - timedelta(days=1))
        s.add_all([committee, rnd])
        s.flush()
        offer = Offer(round_id=rnd.id, product_id=prod.id, supplier_id=sup.id, pack_size=1, min_quantity=0,
                      reference_price=Decimal("30.00"), delivery_fee=Decimal("10.00"))
        offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("28.00")),
                       PriceTier(min_quantity=100, unit_price=Decimal("26.00"))]
        s.add(offer)
        s.flush()
        for i, (group, qty) in enumerate(((g1, 70), (g2, 30))):
            order = GroupOrder(round_id=rnd.id, group_id=group.id)
            s.add(order)
            s.flush()
            s.add(OrderLine(group_order_id=order.id, offer_id=offer.id, quantity=qty, tolerance=0,
                            placed_at=now - timedelta(days=3, minutes=10 - i)))
        s.commit()
        combine_round(rnd.id)
        po = s.query(PurchaseOrder).filter_by(round_id=rnd.id).one()
        po.created_at = datetime(2026, 3, 1, tzinfo=UTC)  # the order dates from March; its receipt too
        s.flush()
        record_receipt(committee, po.id, [], received_at=datetime(2026, 3, 31, 16, 59, tzinfo=UTC))
        listing = Listing(network_id=net.id, group_id=g2.id, name="ผ้า", unit="piece", price=Decimal("250.00"),
                          outside_price=Decimal("200.00"), reference_price=Decimal("300.00"), stock=5)
        s.add(listing)
        s.flush()
        for when in (datetime(2026, 2, 28, 23, 30, tzinfo=UTC), datetime(2026, 3, 31, 23, 30, tzinfo=UTC)):
            s.add(Purchase(network_id=net.id, listing_id=listing.id, buyer_group_id=g1.id, seller_group_id=g2.id,
                           quantity=1, unit_price=Decimal("250.00"), outside_price=Decimal("200.00"),
                           reference_price=Decimal("300.00"), amount=Decimal("250.00"),
                           income_gain=Decimal("50.00"), buyer_saving=Decimal("50.00"), state="delivered",
                           delivered_at=when))
        s.flush()
        from reports.rollup_reads import rebuild

        rebuild(net.id)  # written behind the delivery service: its roll-ups recomputed
        s.commit()

        summary, changed = services.build_summary(net.id, "2026-03")
        n = summary.data["network"]
        # 100 kg at 26 (tier 100) + 10.00 delivery fee: fee shares 7.00 / 3.00; one cloth at 250 (ref 300).
        assert (n["spend"], n["baseline"], n["savings"], n["fees"]) == ("2860.00", "3300.00", "440.00", "10.00")
        assert (n["income_gain"], n["pooling_gain"], n["price_reduction"]) == ("50.00", "200.00", "0.1333")
        assert n["tier_attainment"] == "1.0000"
        # g1: 70*30 + 300 - (70*26 + 7.00 + 250) = 2400 - 2077 = 323.00 -> 80.75; g2: 30*30 - (30*26 + 3.00) = 117.00 -> 27.30
        assert n["registered_poor_savings"] == "108.05"
        again, changed = services.build_summary(net.id, "2026-03")
        assert not changed and again.id == summary.id
        db.session.remove()
        db.engine.dispose()
