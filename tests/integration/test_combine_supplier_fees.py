"""A supplier's delivery fee for the whole round: charged once on its purchase order when at least one of
its offers is ordered, added to the offers' own fees and shared over the order's lines by value."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from orders import combine
from orders.models import Allocation, PurchaseOrder, RoundSupplierFee, Supplier


def test_supplier_fee_is_charged_once_and_shared_by_value(db_session, make_network, make_group, make_round,
                                                          make_offer, place_order):  # type: ignore[no-untyped-def]
    network = make_network(fee_percent="0")
    supplier = Supplier(network_id=network.id, name="ผู้ขายส่งทั้งรอบ")
    other = Supplier(network_id=network.id, name="ผู้ขายส่งที่ไม่ถึงขั้นต่ำ")
    db_session.add_all([supplier, other])
    db_session.commit()
    rnd = make_round(network)
    rice = make_offer(rnd, supplier=supplier, tiers=[(0, "30.00")], delivery_fee="10.00")
    oil = make_offer(rnd, supplier=supplier, tiers=[(0, "10.00")])
    unmet = make_offer(rnd, supplier=other, tiers=[(0, "5.00")], min_quantity=1000)
    db_session.add_all([RoundSupplierFee(round_id=rnd.id, supplier_id=supplier.id, delivery_fee=Decimal("90.00")),
                        RoundSupplierFee(round_id=rnd.id, supplier_id=other.id, delivery_fee=Decimal("70.00"))])
    db_session.commit()
    g1, g2 = make_group(network), make_group(network)
    place_order(rnd, g1, [(rice, 10, 0), (oil, 10, 0), (unmet, 3, 0)])
    place_order(rnd, g2, [(rice, 30, 0)])
    rnd.state = "closed"
    db_session.commit()

    combine.combine_round(rnd.id)
    pos = {po.supplier_id: po for po in db_session.scalars(select(PurchaseOrder))}
    # Once, not per offer: 10.00 of the rice offer + 90.00 for the supplier.
    assert (pos[supplier.id].value, pos[supplier.id].delivery_fee, pos[supplier.id].total) == (
        Decimal("1300.00"), Decimal("100.00"), Decimal("1400.00"))
    # Nothing of the other supplier was ordered (its minimum was not met): its round fee is not charged.
    assert pos[other.id].delivery_fee == Decimal("0.00") and pos[other.id].total == Decimal("0.00")
    shares = {(a.group_id, a.offer_id): a.fee_share for a in db_session.scalars(select(Allocation))}
    # 100.00 over line values 300 (g1 rice), 100 (g1 oil), 900 (g2 rice): 23.08, 7.69, 69.23.
    assert shares[(g1.id, rice.id)] == Decimal("23.08")
    assert shares[(g1.id, oil.id)] == Decimal("7.69")
    assert shares[(g2.id, rice.id)] == Decimal("69.23")
    assert shares[(g1.id, unmet.id)] == Decimal("0.00")
