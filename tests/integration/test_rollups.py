"""The monthly summary from the roll-ups equals the scan of every line, to the satang (PostgreSQL).

Random worlds (hypothesis): a network in a random time zone (one with daylight saving too), groups
buying in several rounds with random offers, tiers, fees and minimums; each round combined, its purchase
orders received through ``record_receipt`` (short at random) at instants a few hours either side of a
month's edge, some not received at all; marketplace purchases placed, and delivered through
``deliver_purchase`` at instants around the same edges (others only confirmed or cancelled). Then every
month touched, and the months around them, is computed from the roll-ups and by the scan, and the whole
summary (every figure, group line, product line, the 12-month trend, month over month) must be equal.
A rebuild of the roll-ups (the migration's backfill, a changed time zone) must give the very rows the
writes kept. And a receipt or a delivery rolled back leaves the roll-ups as they were.
"""
from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core import periods
from core.db import db
from market.models import Listing, MarketMonthGroup
from market.services import cancel_purchase, confirm_purchase, deliver_purchase, place_purchase
from network.models import Group, Network, User
from orders.combine import combine_round
from orders.delivery import record_receipt
from orders.models import (
    AllocationMonthGroup,
    AllocationMonthOffer,
    BuyingRound,
    GroupOrder,
    Offer,
    OrderLine,
    PriceTier,
    Product,
    PurchaseOrder,
    Supplier,
)
from reports.figures import compute_summary
from reports.rollup_reads import rebuild

ZONES = ("Asia/Bangkok", "UTC", "America/New_York")
# Month edges the receipts and deliveries fall around (1 Jan, 1 Feb, 1 Mar 2026 local; New York's DST is in March).
EDGES = ((2026, 1), (2026, 2), (2026, 3), (2026, 4))
PLACED = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)


def _user(network: Network, role: str, group: Group | None = None) -> User:
    user = User(network_id=network.id, email=f"{role}-{uuid.uuid4().hex[:8]}@example.org", name=role,
                role=role, group_id=group.id if group is not None else None, password_hash="!",
                session_version=0, active=True)
    db.session.add(user)
    db.session.flush()
    return user


def _near_edge(rng: random.Random, tz: Any) -> datetime:
    """An instant within a few hours of a month's first instant in the zone (either side)."""
    year, month = rng.choice(EDGES)
    return periods.start_of(tz, year, month) + timedelta(minutes=rng.randint(-600, 600), seconds=rng.randint(0, 59))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def build_world(rng: random.Random) -> tuple[Network, set[str]]:
    """Write a random world through the services; returns the network and the months it touched."""
    s = db.session
    network = Network(name=f"Roll-up net {uuid.uuid4().hex[:8]}", timezone=rng.choice(ZONES),
                      fee_percent=rng.choice([Decimal("0"), Decimal("1.50"), Decimal("3")]))
    s.add(network)
    s.flush()
    tz = periods.zone(network.timezone)
    groups = [Group(network_id=network.id, name=f"G{i}", members=rng.randint(0, 60),
                    registered_poor_members=0) for i in range(rng.randint(2, 4))]
    s.add_all(groups)
    s.flush()
    for g in groups:
        g.registered_poor_members = rng.randint(0, g.members)
    suppliers = [Supplier(network_id=network.id, name=f"S{i}") for i in range(2)]
    products = [Product(network_id=network.id, name=f"P{i}", unit="kg") for i in range(3)]
    s.add_all([*suppliers, *products])
    s.flush()
    committee = _user(network, "committee")
    leaders = {g.id: _user(network, "leader", g) for g in groups}
    touched: set[str] = set()

    for _ in range(rng.randint(1, 3)):
        rnd = BuyingRound(network_id=network.id, name="R", state="closed", closes_at=PLACED)
        s.add(rnd)
        s.flush()
        offers = []
        for _ in range(rng.randint(1, 4)):
            price = _money(rng, 5, 300)
            offer = Offer(round_id=rnd.id, product_id=rng.choice(products).id, supplier_id=rng.choice(suppliers).id,
                          pack_size=rng.choice([1, 1, 2, 5]), min_quantity=rng.choice([0, 0, 0, 60]),
                          reference_price=price + _money(rng, 0, 40), delivery_fee=rng.choice([Decimal("0"), _money(rng, 1, 90)]))
            offer.tiers = [PriceTier(min_quantity=0, unit_price=price)]
            for q in sorted(rng.sample(range(5, 80), rng.randint(0, 2))):
                price = max(price - _money(rng, 1, 4), Decimal("0.50"))  # never dearer than the tier before
                offer.tiers.append(PriceTier(min_quantity=q, unit_price=price))
            s.add(offer)
            offers.append(offer)
        s.flush()
        for g in groups:
            chosen = [o for o in offers if rng.random() < 0.7]
            if not chosen:
                continue
            order = GroupOrder(round_id=rnd.id, group_id=g.id)
            s.add(order)
            s.flush()
            for o in chosen:
                s.add(OrderLine(group_order_id=order.id, offer_id=o.id, quantity=rng.randint(1, 40),
                                tolerance=rng.choice([0, 0, 3]), placed_at=PLACED + timedelta(minutes=rng.randint(0, 99))))
        s.commit()
        combine_round(rnd.id)
        for po in s.scalars(select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id).order_by(PurchaseOrder.id)):
            if rng.random() < 0.2:
                continue  # not received: counts in no month
            po.created_at = PLACED
            s.flush()
            lines = [{"offer_id": ln.offer_id, "received_quantity": rng.randint(0, ln.ordered_quantity)}
                     for ln in po.lines if ln.ordered_quantity and rng.random() < 0.4]
            when = _near_edge(rng, tz)
            record_receipt(committee, po.id, lines, received_at=when)
            touched.add(periods.month_of(tz, when))

    sellers = rng.sample(groups, 2)
    listings = []
    for g in sellers:
        price = _money(rng, 1, 200)
        listing = Listing(network_id=network.id, group_id=g.id, name="L", unit="kg", price=price, stock=10_000,
                          outside_price=rng.choice([None, price - _money(rng, 0, 1)]),
                          reference_price=rng.choice([None, price + _money(rng, 0, 9)]))
        s.add(listing)
        listings.append(listing)
    s.commit()
    for _ in range(rng.randint(0, 8)):
        listing = rng.choice(listings)
        buyer = rng.choice([g for g in groups if g.id != listing.group_id])
        with time_machine.travel(PLACED, tick=False):
            purchase = place_purchase(leaders[buyer.id], listing.id, buyer.id, rng.randint(1, 30))
        seller = leaders[listing.group_id]
        fate = rng.random()
        if fate < 0.7:
            when = _near_edge(rng, tz)
            deliver_purchase(seller, purchase.id, delivered_at=when)
            touched.add(periods.month_of(tz, when))
        elif fate < 0.85:
            confirm_purchase(seller, purchase.id)
        else:
            cancel_purchase(seller, purchase.id)
    return network, touched


def _months_around(touched: set[str]) -> list[str]:
    out = set()
    for month in touched:
        year, mon = (int(x) for x in month.split("-"))
        for k in (-1, 0, 1):
            out.add(periods.label(*periods.add_months(year, mon, k)))
    return sorted(out)


def _rows(network_id: int) -> dict[str, Any]:
    def dump(model: Any) -> list[tuple[Any, ...]]:
        cols = [c.name for c in model.__table__.columns]
        return sorted(tuple(getattr(r, c) for c in cols)
                      for r in db.session.scalars(select(model).where(model.network_id == network_id)))
    db.session.expire_all()
    return {m.__tablename__: dump(m) for m in (AllocationMonthOffer, AllocationMonthGroup, MarketMonthGroup)}


def check_world(seed: int) -> None:
    rng = random.Random(seed)
    network, touched = build_world(rng)
    for month in _months_around(touched):
        rolled = compute_summary(network.id, month)
        scanned = compute_summary(network.id, month, scan=True)
        assert rolled == scanned, (seed, network.timezone, month)
    kept = _rows(network.id)
    rebuild(network.id)
    assert _rows(network.id) == kept, seed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_rollups_give_the_scans_figures_to_the_satang(db_session, seed):
    check_world(seed)


def test_the_scan_is_not_what_is_read(db_session):
    """The summary really reads the roll-ups: a purchase written behind the delivery service is seen by the scan
    and not by the summary until the roll-ups are rebuilt (which is why tests writing behind it rebuild)."""
    network, touched = build_world(random.Random(7))
    month = sorted(touched)[0]
    tz = periods.zone(network.timezone)
    year, mon = (int(x) for x in month.split("-"))
    when = periods.start_of(tz, year, mon) + timedelta(days=3)
    listing = db.session.scalars(select(Listing).where(Listing.network_id == network.id)).first()
    assert listing is not None
    buyer = db.session.scalars(select(Group).where(Group.network_id == network.id, Group.id != listing.group_id)).first()
    assert buyer is not None
    from market.models import Purchase

    db.session.add(Purchase(network_id=network.id, listing_id=listing.id, buyer_group_id=buyer.id,
                            seller_group_id=listing.group_id, quantity=1, unit_price=listing.price,
                            amount=listing.price, state="delivered", placed_at=when, delivered_at=when))
    db.session.flush()
    assert compute_summary(network.id, month) != compute_summary(network.id, month, scan=True)
    rebuild(network.id)
    assert compute_summary(network.id, month) == compute_summary(network.id, month, scan=True)


def _purchase_order_to_receive(seed: int) -> tuple[Network, User, PurchaseOrder]:
    s = db.session
    network = Network(name=f"Rollback net {uuid.uuid4().hex[:8]}", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    s.add(network)
    s.flush()
    groups = [Group(network_id=network.id, name=f"G{i}", members=10, registered_poor_members=2) for i in range(2)]
    supplier, product = Supplier(network_id=network.id, name="S"), Product(network_id=network.id, name="P", unit="kg")
    s.add_all([*groups, supplier, product])
    s.flush()
    committee = _user(network, "committee")
    rnd = BuyingRound(network_id=network.id, name="R", state="closed", closes_at=PLACED)
    s.add(rnd)
    s.flush()
    offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=1, min_quantity=0,
                  reference_price=Decimal("30.00"), delivery_fee=Decimal("10.00"))
    offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("25.00"))]
    s.add(offer)
    s.flush()
    for i, g in enumerate(groups):
        order = GroupOrder(round_id=rnd.id, group_id=g.id)
        s.add(order)
        s.flush()
        s.add(OrderLine(group_order_id=order.id, offer_id=offer.id, quantity=10 + seed + i, tolerance=0,
                        placed_at=PLACED))
    s.commit()
    combine_round(rnd.id)
    po = s.scalars(select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id)).one()
    po.created_at = PLACED
    s.commit()
    return network, committee, po


def test_a_receipt_counts_in_its_own_transaction_and_a_rolled_back_one_leaves_nothing(db_session, monkeypatch):
    network, committee, po = _purchase_order_to_receive(0)
    before = _rows(network.id)
    assert before["allocation_month_groups"] == [] and before["allocation_month_offers"] == []

    # The receipt fails after its roll-up write (here: the announcement at its end): nothing of it stays.
    import orders.delivery

    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the receipt fails before its commit")

    monkeypatch.setattr(orders.delivery, "settle_if_paid", boom)
    with pytest.raises(RuntimeError):
        record_receipt(committee, po.id, [], received_at=datetime(2026, 3, 3, 3, tzinfo=UTC))
    db.session.rollback()
    assert _rows(network.id) == before
    assert db.session.get_one(PurchaseOrder, po.id).received_at is None

    monkeypatch.undo()
    record_receipt(committee, po.id, [], received_at=datetime(2026, 3, 3, 3, tzinfo=UTC))
    after = _rows(network.id)
    assert [r[1] for r in after["allocation_month_groups"]] == ["2026-03", "2026-03"]
    assert compute_summary(network.id, "2026-03") == compute_summary(network.id, "2026-03", scan=True)


def test_a_rolled_back_delivery_leaves_the_roll_ups_unchanged(db_session, monkeypatch):
    network, touched = build_world(random.Random(11))
    before = _rows(network.id)
    listing = db.session.scalars(select(Listing).where(Listing.network_id == network.id)).first()
    assert listing is not None
    buyer = db.session.scalars(select(Group).where(Group.network_id == network.id, Group.id != listing.group_id)).first()
    assert buyer is not None
    leader = _user(network, "leader", buyer)
    seller = _user(network, "seller", db.session.get_one(Group, listing.group_id))
    db.session.commit()
    with time_machine.travel(PLACED, tick=False):
        purchase = place_purchase(leader, listing.id, buyer.id, 3)

    import market.services

    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the delivery fails before its commit")

    monkeypatch.setattr(market.services.events, "purchase_delivered", boom)
    with pytest.raises(RuntimeError):
        deliver_purchase(seller, purchase.id, delivered_at=datetime(2026, 3, 3, 3, tzinfo=UTC))
    db.session.rollback()
    assert _rows(network.id) == before
    monkeypatch.undo()
    deliver_purchase(seller, purchase.id, delivered_at=datetime(2026, 3, 3, 3, tzinfo=UTC))
    assert _rows(network.id) != before
    assert compute_summary(network.id, "2026-03") == compute_summary(network.id, "2026-03", scan=True)


def test_changing_the_time_zone_moves_the_roll_ups_with_the_months(db_session):
    from network.services import update_network

    network, touched = build_world(random.Random(3))
    admin = _user(network, "admin")
    db.session.commit()
    update_network(admin, {"timezone": "America/New_York" if network.timezone != "America/New_York" else "UTC"})
    for month in _months_around(touched):
        assert compute_summary(network.id, month) == compute_summary(network.id, month, scan=True), month


_satang = st.integers(-10**12, 10**12)


@settings(max_examples=300, deadline=None)
@given(joint=_satang, baseline=_satang, market=_satang, saved=_satang, fees=_satang, gain=_satang, pooling=_satang,
       poor=_satang)
def test_a_groups_line_in_integer_satang_is_the_decimal_headline(joint, baseline, market, saved, fees, gain, pooling,
                                                                   poor):
    """The group lines are written from integer satang (thousands a month); the network's from ``Decimal``: the
    same strings for the same figures, ties of the percentage included."""
    from reports.figures import _headline, _Totals
    from reports.group_lines import GroupMonth, figures

    def baht(n: int) -> Decimal:
        return Decimal(n).scaleb(-2)

    t = _Totals(joint_spend=baht(joint), joint_baseline=baht(baseline), market_spend=baht(market),
                market_savings=baht(saved), fees=baht(fees), income_gain=baht(gain), pooling_gain=baht(pooling))
    expected = _headline(t, baht(poor), network=False)
    got = figures(GroupMonth(joint_spend=joint, joint_baseline=baseline, market_spend=market, market_savings=saved,
                             fees=fees, income_gain=gain, pooling_gain=pooling), poor)
    assert {k: got[k] for k in expected} == expected
    assert (got["joint_buying_spend"], got["marketplace_spend"]) == (str(baht(joint)), str(baht(market)))


@settings(max_examples=500, deadline=None)
@given(savings=_satang, members=st.integers(-5, 10_000), poor=st.integers(0, 10_000))
def test_the_registered_poor_share_in_satang_is_the_rule(savings, members, poor):
    """The group lines round each group's registered-poor share in integers: the rule's own figure, ties too."""
    import pricing

    rule = pricing.registered_poor_share(Decimal(savings).scaleb(-2), members, poor)
    assert Decimal(pricing.registered_poor_share_satang(savings, members, poor)).scaleb(-2) == rule
