"""The set-based split (households/split_sql.py) gives, row by row, what the pure rule (pricing/households.py)
gives: random rounds with shortages, surpluses, fees, ties and groups without households. And the month's
measured reach, set-based (PostgreSQL) and through the pure rule (the embedded demo), agree."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

import pricing
from pricing.households import GroupLine, split_bill

Expected = dict[tuple[int, int, int | None], tuple[int, int, Decimal, Decimal, Decimal]]


def _random_round(db_session: Any, make_network: Any, make_group: Any, make_round: Any, make_offer: Any,
                  seed: int) -> tuple[Any, Expected]:
    from households.models import Household, HouseholdLine
    from orders.models import Allocation, PurchaseOrder

    rng = random.Random(seed)
    network = make_network()
    groups = [make_group(network) for _ in range(4)]
    rnd = make_round(network)
    offers = [make_offer(rnd) for _ in range(3)]
    po = PurchaseOrder(round_id=rnd.id, supplier_id=offers[0].supplier_id, received_at=datetime.now(UTC))
    db_session.add(po)
    db_session.flush()
    expected: Expected = {}
    line_id = 0
    for group in groups:
        houses = []
        for i in range(rng.randint(0, 7)):
            house = Household(network_id=network.id, group_id=group.id, name=f"บ้าน {i}", registered_poor=i % 2 == 0)
            db_session.add(house)
            houses.append(house)
        db_session.flush()
        requested: dict[int, dict[int, int]] = {}
        lines = []
        for offer in offers:
            asked = {h.id: rng.choice([0, 0, 1, 2, 3, 3, 5, 8]) for h in houses}
            asked = {h: q for h, q in asked.items() if q}
            requested[offer.id] = asked
            db_session.add_all(HouseholdLine(round_id=rnd.id, group_id=group.id, household_id=h, offer_id=offer.id,
                                             quantity=q) for h, q in asked.items())
            total = sum(asked.values())
            allocated = max(0, total + rng.randint(-total - 2, 4))
            price = Decimal(rng.randint(0, 9000)) / 100
            reference = price + Decimal(rng.randint(-100, 900)) / 100
            fee = Decimal(rng.choice([0, 1, 2, 3, 97, 12345])) / 100
            unit_price = None if allocated == 0 and rng.random() < 0.5 else price
            line_id += 1
            db_session.execute(insert(Allocation).values(
                round_id=rnd.id, group_id=group.id, order_line_id=line_id, offer_id=offer.id, purchase_order_id=po.id,
                quantity=total or 1, ordered_allocation=allocated, allocated=allocated,
                unit_price_satang=None if unit_price is None else pricing.to_satang(unit_price),
                reference_price_satang=pricing.to_satang(max(reference, Decimal("0.00"))),
                alone_price_satang=pricing.to_satang(price), fee_share_satang=pricing.to_satang(fee)))
            lines.append(GroupLine(offer.id, allocated, unit_price, max(reference, Decimal("0.00")), fee))
        for offer_id, shares in split_bill(lines, requested).items():
            for s in shares:
                expected[(group.id, offer_id, s.household_id)] = (s.requested, s.allocated, s.fee_share, s.amount,
                                                                  s.savings)
    db_session.commit()
    return rnd, expected


@pytest.mark.parametrize("seed", [24, 1, 2, 3, 4, 5])
def test_sql_split_equals_the_pure_rule(db_session, make_network, make_group, make_round, make_offer, seed):  # type: ignore[no-untyped-def]
    from core.db import db
    from households.split_sql import split_rows

    rnd, expected = _random_round(db_session, make_network, make_group, make_round, make_offer, seed)
    got = {(r.group_id, r.offer_id, r.household_id): (int(r.requested), int(r.allocated), r.fee_share, r.amount,
                                                      r.savings)
           for r in db.session.execute(split_rows(), {"round_ids": [rnd.id]})}
    assert got == expected
    assert len(got) > 20


@pytest.mark.parametrize("seed", [7, 8])
def test_the_months_reach_set_based_equals_the_pure_rule(db_session, make_network, make_group, make_round,
                                                         make_offer, seed):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from core.db import db
    from households import bills
    from households.models import HouseholdLine
    from orders.models import BuyingRound

    rnd, _ = _random_round(db_session, make_network, make_group, make_round, make_offer, seed)
    db.session.get(BuyingRound, rnd.id).state = "combined"
    db_session.commit()
    start, end = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    pairs = db.session.execute(select(HouseholdLine.round_id, HouseholdLine.group_id).distinct()).all()
    set_based = bills.measured_reach(rnd.network_id, start, end)
    by_rule = bills._measured_reach_python(pairs, start, end)
    assert set_based == by_rule and set_based
    assert any(r["poor_savings"] != 0 for r in set_based.values())
