"""Test data shared by the worker and fault tests: seeded rounds on committed data, and the allocations
that ``pricing/`` says they must get."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

import pricing


def seed_round(session: Any, *, groups: int, offers: int, suppliers: int = 2, with_orders: bool = True,
               closes_at: datetime | None = None, leaders: bool = False, network: Any = None) -> dict[str, Any]:
    """An open round with offers and (optionally) one committed order per group, a committee token and,
    when asked, a leader with a token for each group."""
    from core.auth import hash_token, new_token
    from network.models import ApiToken, Group, Network, User
    from orders.models import BuyingRound, GroupOrder, Offer, OrderLine, PriceTier, Product, Supplier

    tag = uuid.uuid4().hex[:8]
    if network is None:
        network = Network(name=f"Faults {tag}", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
        session.add(network)
        session.flush()
    hashed = generate_password_hash("correct-horse-9", method="pbkdf2:sha256:1000")
    committee = User(network_id=network.id, email=f"c-{tag}@example.org", name="C", role="committee",
                     password_hash=hashed, session_version=0, active=True)
    session.add(committee)
    sups = [Supplier(network_id=network.id, name=f"S{i} {tag}") for i in range(suppliers)]
    prod = Product(network_id=network.id, name=f"P {tag}", unit="kg")
    session.add_all([*sups, prod])
    rnd = BuyingRound(network_id=network.id, name=f"R {tag}", state="open",
                      closes_at=closes_at or datetime.now(UTC) + timedelta(days=1),
                      opened_at=datetime.now(UTC) - timedelta(days=1))
    session.add(rnd)
    session.flush()
    offer_rows = []
    for i in range(offers):
        offer = Offer(round_id=rnd.id, product_id=prod.id, supplier_id=sups[i % suppliers].id, pack_size=7,
                      min_quantity=0, reference_price=Decimal("50.00"), delivery_fee=Decimal("120.00"))
        offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("45.00")),
                       PriceTier(min_quantity=1000, unit_price=Decimal("41.50"))]
        session.add(offer)
        offer_rows.append(offer)
    session.flush()
    group_ids = [r[0] for r in session.execute(insert(Group).returning(Group.id), [
        {"network_id": network.id, "name": f"G{i} {tag}", "members": 10, "registered_poor_members": 3,
         "kind": "other", "district": "", "subdistrict": ""} for i in range(groups)])]
    if with_orders:
        now = datetime.now(UTC)
        order_ids = [r[0] for r in session.execute(insert(GroupOrder).returning(GroupOrder.id), [
            {"round_id": rnd.id, "group_id": gid, "created_at": now, "updated_at": now} for gid in group_ids])]
        session.execute(insert(OrderLine), [
            {"group_order_id": oid, "offer_id": offer.id, "quantity": 1 + (oid * 7 + offer.id * 3) % 13,
             "tolerance": (oid + offer.id) % 3, "placed_at": now + timedelta(microseconds=oid)}
            for oid in order_ids for offer in offer_rows])
    tokens: dict[int, dict[str, str]] = {}
    token = new_token()
    session.add(ApiToken(user_id=committee.id, token_hash=hash_token(token)))
    session.flush()
    if leaders:
        user_ids = [r[0] for r in session.execute(insert(User).returning(User.id), [
            {"network_id": network.id, "email": f"l{gid}-{tag}@example.org", "name": f"Leader {gid}",
             "role": "leader", "group_id": gid, "password_hash": hashed, "session_version": 0, "active": True,
             "locale": "th"} for gid in group_ids])]
        for gid, uid in zip(group_ids, user_ids):
            t = new_token()
            session.add(ApiToken(user_id=uid, token_hash=hash_token(t)))
            tokens[gid] = {"Authorization": f"Bearer {t}"}
    session.commit()
    return {"network_id": network.id, "round_id": rnd.id, "offer_ids": [o.id for o in offer_rows],
            "group_ids": group_ids, "supplier_ids": [s.id for s in sups], "committee_email": committee.email,
            "committee": {"Authorization": f"Bearer {token}"}, "leaders": tokens}


def expected_allocations(session: Any, round_id: int) -> dict[int, int]:
    """What ``pricing.allocate`` gives each line of the round (every offer has pack size 7, no minimum)."""
    from orders.models import GroupOrder, OrderLine

    rows = session.execute(
        select(OrderLine.id, OrderLine.offer_id, OrderLine.quantity, OrderLine.tolerance, OrderLine.placed_at)
        .join(GroupOrder, GroupOrder.id == OrderLine.group_order_id).where(GroupOrder.round_id == round_id)).all()
    by_offer: dict[int, list[pricing.Line]] = {}
    for r in rows:
        by_offer.setdefault(r.offer_id, []).append(pricing.Line(r.id, r.quantity, r.tolerance, r.placed_at))
    expected: dict[int, int] = {}
    for lines in by_offer.values():
        pack = pricing.round_to_packs(sum(x.quantity for x in lines), sum(x.tolerance for x in lines), 7, 0)
        expected.update(pricing.allocate(lines, pack.ordered_quantity))
    return expected
