"""The offers' service enforces the tier rules (pricing.tier_problems) itself, whoever calls it."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput
from orders import services
from orders.models import Offer, Product, Supplier


@pytest.mark.parametrize(("tiers", "where"), [
    ([(5, "10.00")], {0: {"min_quantity": ["The first tier starts at 0 (the list price)."]}}),
    ([(0, "10.00"), (0, "9.00")], {1: {"min_quantity": ["Must be larger than the tier before."]}}),
    ([(0, "10.00"), (10, "10.01")], {1: {"unit_price": ["Must not be higher than the tier before."]}}),
    ([], ["At least one tier."]),
])
def test_add_offer_refuses_broken_tiers_and_writes_nothing(db_session, make_network, make_user, make_round,
                                                           tiers, where):  # type: ignore[no-untyped-def]
    net = make_network()
    committee = make_user(net, role="committee")
    rnd = make_round(net, state="draft")
    supplier, product = Supplier(network_id=net.id, name="S"), Product(network_id=net.id, name="P", unit="kg")
    db_session.add_all([supplier, product])
    db_session.flush()
    data = {"product_id": product.id, "supplier_id": supplier.id, "pack_size": 1, "min_quantity": 0,
            "reference_price": Decimal("12.00"), "delivery_fee": Decimal("0"),
            "tiers": [{"min_quantity": q, "unit_price": Decimal(p)} for q, p in tiers]}
    with pytest.raises(InvalidInput) as refused:
        services.add_offer(committee, rnd.id, data)
    assert refused.value.fields == {"tiers": where}
    assert db_session.scalar(select(func.count()).select_from(Offer).where(Offer.round_id == rnd.id)) == 0
    # The same data with valid tiers is accepted: the refusal was the tiers.
    data["tiers"] = [{"min_quantity": 0, "unit_price": Decimal("10.00")}]
    assert services.add_offer(committee, rnd.id, data).id is not None
