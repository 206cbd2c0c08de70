"""Combining demand on the real PostgreSQL: the worked example, figure by figure, and the rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, Forbidden, InvalidInput
from orders import combine, delivery
from orders.invoices import record_payment
from orders.models import Allocation, BuyingRound, Invoice, PurchaseOrder, PurchaseOrderLine

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def _close(db_session, rnd):
    rnd.state = "closed"
    db_session.commit()


@pytest.fixture
def fertiliser_round(make_network, make_group, make_user, make_round, make_offer, place_order, db_session):
    """The README's worked example: three groups, urea in bundles of 5 sacks, 1% network fee."""
    network = make_network(fee_percent="1")
    a = make_group(network, name="กลุ่มเกษตรกรบ้านหม้อ", members=40, registered_poor_members=10)
    b = make_group(network, name="สหกรณ์การเกษตรโพนพิสัย", members=120, registered_poor_members=30)
    c = make_group(network, name="กลุ่มแม่บ้านสร้างนางขาว", members=25, registered_poor_members=25)
    rnd = make_round(network)
    offer = make_offer(rnd, pack_size=5, reference_price="850.00", delivery_fee="500.00",
                       tiers=[(0, "820.00"), (50, "780.00"), (100, "750.00")])
    orders = {
        "a": place_order(rnd, a, [(offer, 18, 2)], placed_at=T0),
        "b": place_order(rnd, b, [(offer, 42, 0)], placed_at=T0 + timedelta(minutes=5)),
        "c": place_order(rnd, c, [(offer, 37, 3)], placed_at=T0 + timedelta(minutes=9)),
    }
    _close(db_session, rnd)
    committee = make_user(network, "committee")
    return {"network": network, "round": rnd, "offer": offer, "groups": {"a": a, "b": b, "c": c},
            "orders": orders, "committee": committee}


def _alloc(db_session, group):
    return db_session.scalar(select(Allocation).where(Allocation.group_id == group.id))


def test_worked_example_figure_by_figure(db_session, fertiliser_round):
    result = combine.combine_round(fertiliser_round["round"].id)
    assert result["purchase_orders"] == 1 and result["lines"] == 3

    po = db_session.scalar(select(PurchaseOrder))
    line = db_session.scalar(select(PurchaseOrderLine))
    # 97 sacks ordered; 19 bundles hold 95, and the 5 sacks of tolerance cover the 3 missing: 20 bundles.
    assert (line.total_quantity, line.packs, line.ordered_quantity) == (97, 20, 100)
    assert (line.tier_min_quantity, line.unit_price) == (100, Decimal("750.00"))
    assert po.value == Decimal("75000.00")
    assert po.network_fee == Decimal("750.00")
    assert po.delivery_fee == Decimal("500.00")
    assert po.total == Decimal("76250.00")

    groups = fertiliser_round["groups"]
    expected = {  # allocated, fee share, amount, savings, alone price
        "a": (19, "237.50", "14487.50", "1662.50", "820.00"),
        "b": (42, "525.00", "32025.00", "3675.00", "820.00"),
        "c": (39, "487.50", "29737.50", "3412.50", "820.00"),
    }
    for key, (allocated, fee, amount, savings, alone) in expected.items():
        alloc = _alloc(db_session, groups[key])
        assert alloc.allocated == allocated
        assert alloc.unit_price == Decimal("750.00")
        assert alloc.fee_share == Decimal(fee)
        assert alloc.amount == Decimal(amount)
        assert alloc.savings == Decimal(savings)
        assert alloc.alone_price == Decimal(alone)
        invoice = db_session.scalar(select(Invoice).where(Invoice.group_id == groups[key].id))
        assert (invoice.total, invoice.savings, invoice.paid) == (Decimal(amount), Decimal(savings), Decimal("0"))
    assert db_session.get(BuyingRound, fertiliser_round["round"].id).state == "combined"


def test_combining_twice_changes_nothing(db_session, fertiliser_round):
    first = combine.combine_round(fertiliser_round["round"].id)
    snapshot = sorted(db_session.execute(select(Allocation.order_line_id, Allocation.allocated, Allocation.amount)))
    second = combine.combine_round(fertiliser_round["round"].id)
    assert first == second
    assert db_session.scalar(select(func.count()).select_from(PurchaseOrder)) == 1
    assert sorted(db_session.execute(
        select(Allocation.order_line_id, Allocation.allocated, Allocation.amount))) == snapshot


def test_minimum_not_met_orders_nothing_and_costs_nothing(db_session, make_network, make_group, make_round,
                                                          make_offer, place_order):
    network = make_network(fee_percent="2")
    g1, g2 = make_group(network), make_group(network)
    rnd = make_round(network)
    supplier_offer = make_offer(rnd, pack_size=10, min_quantity=50, delivery_fee="200.00",
                                tiers=[(0, "30.00")], reference_price="35.00")
    ordered = make_offer(rnd, pack_size=1, delivery_fee="100.00", tiers=[(0, "10.00")], reference_price="12.00",
                         supplier=supplier_offer.supplier)
    place_order(rnd, g1, [(supplier_offer, 20, 0), (ordered, 10, 0)], placed_at=T0)
    place_order(rnd, g2, [(supplier_offer, 15, 5)], placed_at=T0 + timedelta(minutes=1))
    _close(db_session, rnd)
    combine.combine_round(rnd.id)
    po = db_session.scalar(select(PurchaseOrder))
    not_ordered = db_session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.offer_id == supplier_offer.id))
    assert (not_ordered.packs, not_ordered.ordered_quantity, not_ordered.unit_price) == (0, 0, None)
    # Only the ordered offer's delivery fee is charged; 2% of 100.00 is 2.00.
    assert (po.value, po.delivery_fee, po.network_fee, po.total) == (
        Decimal("100.00"), Decimal("100.00"), Decimal("2.00"), Decimal("202.00"))
    lines = db_session.scalars(select(Allocation).where(Allocation.offer_id == supplier_offer.id)).all()
    assert [(a.allocated, a.amount, a.savings) for a in lines] == [(0, Decimal("0.00"), Decimal("0.00"))] * 2
    ordered_line = db_session.scalar(select(Allocation).where(Allocation.offer_id == ordered.id))
    assert (ordered_line.allocated, ordered_line.fee_share, ordered_line.amount) == (
        10, Decimal("102.00"), Decimal("202.00"))


def test_shortfall_ties_go_to_the_earlier_line(db_session, make_network, make_group, make_round, make_offer,
                                               place_order):
    network = make_network()
    groups = [make_group(network) for _ in range(3)]
    rnd = make_round(network)
    offer = make_offer(rnd, pack_size=10, tiers=[(0, "5.00")], reference_price="6.00")
    # 4 + 4 + 4 = 12 -> one pack of 10; each gets floor(10*4/12) = 3, remainders equal, 1 unit left.
    place_order(rnd, groups[2], [(offer, 4, 0)], placed_at=T0 + timedelta(minutes=2))
    place_order(rnd, groups[0], [(offer, 4, 0)], placed_at=T0)
    place_order(rnd, groups[1], [(offer, 4, 0)], placed_at=T0 + timedelta(minutes=1))
    _close(db_session, rnd)
    combine.combine_round(rnd.id)
    got = [_alloc(db_session, g).allocated for g in groups]
    assert got == [4, 3, 3]


def test_delivery_shortage_reallocates_and_keeps_prices(db_session, fertiliser_round):
    from orders.models import PurchaseOrder

    combine.combine_round(fertiliser_round["round"].id)
    po = db_session.scalar(select(PurchaseOrder))
    received_at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    po.created_at = received_at - timedelta(days=2)  # the order went out before the goods came
    db_session.flush()
    delivery.record_receipt(fertiliser_round["committee"], po.id,
                           [{"offer_id": fertiliser_round["offer"].id, "received_quantity": 90}], received_at)
    groups = fertiliser_round["groups"]
    # 90 of 100 re-shared over 19/42/39: 17.1, 37.8, 35.1 -> 17, 37, 35 and the last unit to b (.8).
    got = {k: _alloc(db_session, g) for k, g in groups.items()}
    assert {k: a.allocated for k, a in got.items()} == {"a": 17, "b": 38, "c": 35}
    assert all(a.unit_price == Decimal("750.00") for a in got.values())
    # Fees stay 1250.00, shared over the new values 12750 / 28500 / 26250 of 67500.
    assert sum(a.fee_share for a in got.values()) == Decimal("1250.00")
    assert got["a"].fee_share == Decimal("236.11")
    assert got["b"].fee_share == Decimal("527.78")
    assert got["c"].fee_share == Decimal("486.11")
    assert got["a"].amount == Decimal("12986.11")
    assert got["a"].savings == Decimal(17 * 100) - Decimal("236.11")
    rnd = db_session.get(BuyingRound, fertiliser_round["round"].id)
    assert rnd.state == "delivered"
    assert po.received_at == received_at
    with pytest.raises(Conflict):
        delivery.record_receipt(fertiliser_round["committee"], po.id, [], received_at)


def test_receipt_refuses_more_than_ordered(db_session, fertiliser_round):
    combine.combine_round(fertiliser_round["round"].id)
    po = db_session.scalar(select(PurchaseOrder))
    with pytest.raises(InvalidInput):
        delivery.record_receipt(fertiliser_round["committee"], po.id,
                               [{"offer_id": fertiliser_round["offer"].id, "received_quantity": 101}])
    assert db_session.get(PurchaseOrder, po.id).received_at is None


def test_payments_settle_the_round_and_overpayment_is_refused(db_session, fertiliser_round, make_user):
    combine.combine_round(fertiliser_round["round"].id)
    po = db_session.scalar(select(PurchaseOrder))
    committee = fertiliser_round["committee"]
    delivery.record_receipt(committee, po.id, [])
    invoices = db_session.scalars(select(Invoice).order_by(Invoice.id)).all()
    leader = make_user(fertiliser_round["network"], "leader", fertiliser_round["groups"]["a"])
    with pytest.raises(Forbidden):
        record_payment(leader, invoices[0].id, Decimal("1.00"))
    with pytest.raises(InvalidInput):
        record_payment(committee, invoices[0].id, invoices[0].total + Decimal("0.01"))
    record_payment(committee, invoices[0].id, Decimal("10000.00"))
    for invoice in invoices:
        db_session.refresh(invoice)
        remaining = invoice.total - invoice.paid
        record_payment(committee, invoice.id, remaining)
    assert db_session.get(BuyingRound, fertiliser_round["round"].id).state == "settled"


def test_group_view_after_combining(client, db_session, fertiliser_round, make_user, token_for):
    combine.combine_round(fertiliser_round["round"].id)
    group = fertiliser_round["groups"]["a"]
    headers = token_for(make_user(fertiliser_round["network"], "leader", group))
    body = client.get(f"/api/v1/rounds/{fertiliser_round['round'].id}/orders/{group.id}", headers=headers).json
    assert body["lines"] == [{"offer_id": fertiliser_round["offer"].id, "quantity": 18, "tolerance": 2,
                              "allocated": 19, "unit_price": "750.00", "fee_share": "237.50",
                              "amount": "14487.50", "savings": "1662.50"}]
    committee = token_for(fertiliser_round["committee"])
    pos = client.get(f"/api/v1/rounds/{fertiliser_round['round'].id}/purchase-orders", headers=committee).json
    assert pos[0]["lines"][0]["ordered_quantity"] == 100 and pos[0]["lines"][0]["packs"] == 20
    assert pos[0]["lines"][0]["tier_min_quantity"] == 100 and pos[0]["lines"][0]["amount"] == "75000.00"
    assert (pos[0]["delivery_fee"], pos[0]["network_fee"], pos[0]["total"]) == ("500.00", "750.00", "76250.00")
    assert client.get(f"/api/v1/rounds/{fertiliser_round['round'].id}/purchase-orders",
                      headers=headers).status_code == 403
    invoices = client.get(f"/api/v1/rounds/{fertiliser_round['round'].id}/invoices", headers=headers).json
    assert [(i["group_id"], i["total"], i["savings"]) for i in invoices] == [(group.id, "14487.50", "1662.50")]


def test_combining_counts_its_lines_for_the_metrics(db_session, fertiliser_round):
    from prometheus_client import REGISTRY

    def value(name):
        return REGISTRY.get_sample_value(name) or 0.0

    lines, seconds = value("ruamsue_combine_lines_total"), value("ruamsue_combine_seconds_total")
    result = combine.combine_round(fertiliser_round["round"].id)
    allocations = db_session.scalar(select(func.count()).select_from(Allocation)
                                    .where(Allocation.round_id == fertiliser_round["round"].id))
    assert result["lines"] == allocations == 3
    assert value("ruamsue_combine_lines_total") == lines + 3
    assert value("ruamsue_combine_seconds_total") > seconds
    assert value("ruamsue_combine_last_lines_per_second") > 0
    combine.combine_round(fertiliser_round["round"].id)  # already combined: nothing combined again
    assert value("ruamsue_combine_lines_total") == lines + 3
