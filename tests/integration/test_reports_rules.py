"""The SQL forms of the reports against the rules in pricing/, on the hand-computed month of test_reports.

* Marketplace: a delivered purchase's saving and gain in the summary's SQL (used when a row has none
  stored) equal ``pricing.buyer_saving`` and ``pricing.income_gain``.
* Tier attainment: each product line's figure (list and best price taken as the max and min tier price
  by SQL) equals ``pricing.tier_attainment`` on the offer's tiers, and the month's figure is
  ``pricing.weighted`` over the offers by ordered value.
* Pooling gain: each product line's, each group's and the network's figure (a SUM over allocations of
  ``allocated × (alone_price − unit_price)``, the alone price chosen by the combine's SQL) equals
  ``pricing.pooling_gain`` with ``pricing.alone_price`` of the line's own quantity on the offer's tiers.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select, update

import pricing
from market.models import Purchase
from orders.models import Allocation, PriceTier, PurchaseOrderLine
from reports import figure_sql, periods, services
from tests.integration.test_reports import month_data  # noqa: F401  (the fixture)


def _march(network_timezone: str) -> list[tuple[str, datetime, datetime]]:
    return periods.window(periods.zone(network_timezone), 2026, 3, 1)


def _sql_rows(net) -> dict[int, object]:  # type: ignore[no-untyped-def]
    from core.db import db

    bought = figure_sql.delivered_purchases(net.id, _march(net.timezone))
    return {row.purchase_id: row for row in db.session.execute(select(bought))}


def test_marketplace_sql_forms_are_the_pricing_formulas(month_data, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    net = month_data["net"]
    purchases = {p.id: p for p in db_session.scalars(select(Purchase).where(Purchase.network_id == net.id))}
    stored = _sql_rows(net)
    # Without the stored figures, the SQL computes them: the same as pricing, row by row.
    db_session.execute(update(Purchase).where(Purchase.network_id == net.id)
                       .values(buyer_saving=None, income_gain=None))
    db_session.expire_all()
    computed = _sql_rows(net)
    assert sorted(computed) == sorted(stored) and len(computed) == 4  # M1, M2, M4, M5 are March in Bangkok
    for pid, row in computed.items():
        p = purchases[pid]
        saving = pricing.buyer_saving(p.quantity, p.unit_price, p.reference_price)
        gain = pricing.income_gain(p.quantity, p.unit_price, p.outside_price)
        assert (pricing.money(Decimal(str(row.saving))), pricing.money(Decimal(str(row.gain)))) == (saving, gain)
        assert (pricing.money(Decimal(str(stored[pid].saving))), pricing.money(Decimal(str(stored[pid].gain)))) \
            == (saving, gain)
    # And the month's figures do not depend on whether the rows carry them.
    assert services.compute_summary(net.id, "2026-03")["network"]["income_gain"] == "940.00"


def test_tier_attainment_in_the_summary_is_the_pricing_rule(month_data, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    net = month_data["net"]
    summary = services.compute_summary(net.id, "2026-03")
    parts: list[tuple[Fraction, Decimal]] = []
    for line in summary["products"]:
        tiers = [pricing.Tier(q, p) for q, p in db_session.execute(
            select(PriceTier.min_quantity, PriceTier.unit_price).where(PriceTier.offer_id == line["offer_id"])
            .order_by(PriceTier.min_quantity))]
        achieved = Decimal(line["unit_price"])
        assert Decimal(line["tier_attainment"]) == pricing.tier_attainment(tiers, achieved).value
        ordered = db_session.scalar(select(PurchaseOrderLine.ordered_quantity).where(
            PurchaseOrderLine.offer_id == line["offer_id"]))
        fraction = pricing.attainment_fraction(pricing.list_price(tiers), pricing.best_price(tiers), achieved,
                                               len(tiers))
        parts.append((fraction, ordered * achieved))
    assert len(parts) == 3  # offers A, B, C; D was not ordered
    assert Decimal(summary["network"]["tier_attainment"]) == pricing.weighted(parts) == Decimal("0.8952")


def test_pooling_gain_in_the_summary_is_the_pricing_rule(month_data, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    net = month_data["net"]
    summary = services.compute_summary(net.id, "2026-03")
    offer_ids = [line["offer_id"] for line in summary["products"]]
    tiers: dict[int, list[pricing.Tier]] = {}
    for offer_id, q, p in db_session.execute(select(PriceTier.offer_id, PriceTier.min_quantity, PriceTier.unit_price)
                                             .where(PriceTier.offer_id.in_(offer_ids))):
        tiers.setdefault(offer_id, []).append(pricing.Tier(q, p))
    by_offer: dict[int, Decimal] = {}
    by_group: dict[int, Decimal] = {}
    for a in db_session.scalars(select(Allocation).where(Allocation.offer_id.in_(offer_ids))):
        # The rule from the line's own quantity and the offer's tiers, not from the stored alone price.
        gain = pricing.pooling_gain(a.allocated, pricing.alone_price(tiers[a.offer_id], a.quantity), a.unit_price)
        by_offer[a.offer_id] = by_offer.get(a.offer_id, pricing.ZERO) + gain
        by_group[a.group_id] = by_group.get(a.group_id, pricing.ZERO) + gain
    assert {line["offer_id"]: Decimal(line["pooling_gain"]) for line in summary["products"]} == by_offer
    in_groups = {line["group_id"]: Decimal(line["pooling_gain"]) for line in summary["groups"]
                 if line["group_id"] in by_group}
    assert in_groups == by_group and len(by_group) > 1
    assert Decimal(summary["network"]["pooling_gain"]) == sum(by_offer.values()) == Decimal("410.00")
