"""The SQL forms of the reports against the rules in pricing/, on the hand-computed month of test_reports.

* Marketplace: a delivered purchase's saving and gain in the summary's SQL (used when a row has none
  stored) equal ``pricing.buyer_saving`` and ``pricing.income_gain``.
* Tier attainment: each product line's figure (list and best price taken as the max and min tier price
  by SQL) equals ``pricing.tier_attainment`` on the offer's tiers, and the month's figure is
  ``pricing.weighted`` over the offers by ordered value.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select, update

import pricing
from market.models import Purchase
from orders.models import PriceTier, PurchaseOrderLine
from reports import figures, periods, services
from tests.integration.test_reports import month_data  # noqa: F401  (the fixture)


def _march(network_timezone: str) -> list[tuple[str, datetime, datetime]]:
    return periods.window(periods.zone(network_timezone), 2026, 3, 1)


def _sql_rows(net) -> dict[int, object]:  # type: ignore[no-untyped-def]
    from core.db import db

    bought = figures._delivered_purchases(net.id, _march(net.timezone))
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
