"""The demo's households: one group (the demo leader's) with its household list and what each household asked
for in last month's round (so its household bills and the measured reach show at once) and in this month's."""
from __future__ import annotations

from core.clock import utcnow
from core.db import db
from households.models import Household, HouseholdLine
from network.models import Group
from orders.models import BuyingRound, Offer

HOUSES = [("บ้านเลขที่ 3 นายสมบัติ", True), ("บ้านเลขที่ 7 นางบุญมี", False), ("บ้านเลขที่ 12 นายทองดี", True),
          ("บ้านเลขที่ 15 นางคำปุน", False), ("บ้านเลขที่ 21 นายบุญเรือง", False), ("บ้านเลขที่ 24 นางสายทอง", True),
          ("บ้านเลขที่ 30 นายประสิทธิ์", False), ("บ้านเลขที่ 33 นางจันทร์เพ็ญ", False),
          ("บ้านเลขที่ 41 นายสุวรรณ", True), ("บ้านเลขที่ 45 นางละเอียด", False)]


def seed_households(group: Group, past: BuyingRound, past_offers: list[tuple[Offer, list[int]]],
                    current: BuyingRound, current_offers: list[tuple[Offer, list[int]]]) -> None:
    """``*_offers``: each offer with the quantities the households asked for, in the order of HOUSES (0: none)."""
    houses = [Household(network_id=group.network_id, group_id=group.id, name=name, registered_poor=poor,
                        phone=f"08{i % 10}{200 + i:03d}{1000 + 7 * i:04d}" if i % 3 == 0 else None)
              for i, (name, poor) in enumerate(HOUSES)]
    db.session.add_all(houses)
    db.session.flush()
    now = utcnow()
    for rnd, offers in ((past, past_offers), (current, current_offers)):
        db.session.add_all(HouseholdLine(round_id=rnd.id, group_id=group.id, household_id=house.id, offer_id=offer.id,
                                         quantity=q, updated_at=now)
                           for offer, quantities in offers for house, q in zip(houses, quantities) if q > 0)
    db.session.flush()
