"""The monthly summary's line per group, and the registered-poor reach added up from them.

A network has thousands of groups and the summary reads two months of them (this month's lines; last month's
reach, for the change month over month), each time the month in progress is looked at. So a group's month is
kept in whole satang (plain integers) from the roll-ups to the strings of its line: the same figures as the
network's ``Decimal`` headline (tests/integration/test_rollups.py proves the strings equal), without building
tens of thousands of ``Decimal`` values per look.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select

import pricing
from core.db import db
from core.summary_parts import group_figures
from network.models import Group
from orders.models import Allocation
from reports import rollup_reads
from reports.figure_sql import (
    allocation_sums,
    as_money,
    delivered_purchases,
    purchase_sums,
    received_purchase_orders,
    satang_sum,
)

Month = tuple[str, datetime, datetime]


@dataclass(slots=True)
class GroupMonth:
    """One group's month, money in whole satang."""

    joint_spend: int = 0
    joint_baseline: int = 0
    fees: int = 0
    pooling_gain: int = 0
    market_spend: int = 0
    market_savings: int = 0
    income_gain: int = 0
    sales_amount: int = 0
    rounds: int = 0
    purchases: int = 0
    sales: int = 0

    @property
    def spend(self) -> int:
        return self.joint_spend + self.market_spend

    @property
    def baseline(self) -> int:
        return self.joint_baseline + self.market_spend + self.market_savings

    @property
    def savings(self) -> int:
        return self.baseline - self.spend


def satang(value: Any) -> int:
    """A sum read from the database (exact money) as whole satang."""
    return int(as_money(value).scaleb(2))


def baht_of(amount: int) -> str:
    """Whole satang as the summary's JSON writes money ("-12.05")."""
    # Tens of thousands a month: the digits cut, rather than divided (a quarter quicker).
    if amount < 0:
        digits = f"{-amount:03d}"
        return "-" + digits[:-2] + "." + digits[-2:]
    digits = f"{amount:03d}"
    return digits[:-2] + "." + digits[-2:]


def group_totals(network_id: int, months: list[Month], scan: bool) -> dict[str, dict[int, GroupMonth]]:
    """Per month and group: joint buying, purchases as a buyer and sales as a seller."""
    if scan:
        return {month[0]: _scanned(network_id, month) for month in months}
    # From the roll-ups: two statements for all the months, rows of plain integers.
    out: dict[str, dict[int, GroupMonth]] = {name: {} for name, _, _ in months}
    connection = db.session.connection()
    names = list(out)
    for month, group_id, spend, baseline, fees, pooling, rounds in connection.execute(
            rollup_reads.group_joint_buying(network_id, names)):
        out[month][group_id] = GroupMonth(spend, baseline, fees, pooling, 0, 0, 0, 0, rounds)  # in field order
    for month, group_id, spent, saved, purchases, gain, sold, sales in connection.execute(
            rollup_reads.group_marketplace(network_id, names)):
        t = out[month].get(group_id)
        if t is None:
            t = out[month][group_id] = GroupMonth()
        t.market_spend, t.market_savings, t.purchases = spent, saved, purchases
        t.income_gain, t.sales_amount, t.sales = gain, sold, sales
    return out


def _scanned(network_id: int, month: Month) -> dict[int, GroupMonth]:
    """The same from every allocation and purchase: the reference the roll-ups are proved equal to. Grouped on
    plain columns (group, round), not on a computed month, so the planner's estimates stay right and it
    hash-aggregates in one pass."""
    totals: dict[int, GroupMonth] = {}
    received = received_purchase_orders(network_id, [month])
    a = Allocation
    per_round = (
        select(a.group_id, a.round_id, *allocation_sums())
        .join(received, and_(received.c.round_id == a.round_id, received.c.po_id == a.purchase_order_id))
        .group_by(a.group_id, a.round_id)
        .subquery("group_rounds")
    )
    for row in db.session.execute(
        select(per_round.c.group_id,
               *[satang_sum(per_round.c[name]).label(name) for name in ("spend", "baseline", "fees", "pooling")],
               func.count().label("rounds"))
        .group_by(per_round.c.group_id)
    ):
        t = totals.setdefault(row.group_id, GroupMonth())
        t.joint_spend, t.joint_baseline, t.fees, t.pooling_gain = row.spend, row.baseline, row.fees, row.pooling
        t.rounds = int(row.rounds)
    bought = delivered_purchases(network_id, [month])
    for row in db.session.execute(
            select(bought.c.buyer_group_id, *purchase_sums(bought)).group_by(bought.c.buyer_group_id)):
        t = totals.setdefault(row.buyer_group_id, GroupMonth())
        t.market_spend, t.market_savings, t.purchases = satang(row.spend), satang(row.savings), int(row.n)
    for row in db.session.execute(
            select(bought.c.seller_group_id, *purchase_sums(bought)).group_by(bought.c.seller_group_id)):
        t = totals.setdefault(row.seller_group_id, GroupMonth())
        t.income_gain, t.sales, t.sales_amount = satang(row.gain), int(row.n), satang(row.spend)
    return totals


def poor_reach(t: GroupMonth, members: int, poor_members: int, measured: Mapping[str, Any] | None) -> tuple[int, str, int]:
    """Savings reaching registered-poor households, in satang: measured where the group's households have bills
    (the registered-poor households' own savings), the proportional estimate for the rest of its savings."""
    if measured is None:
        return pricing.registered_poor_share_satang(t.savings, members, poor_members), "proportion", 0
    rest = Decimal(t.savings).scaleb(-2) - measured["savings"]
    reached = measured["poor_savings"] + pricing.registered_poor_share(rest, members, poor_members)
    whole = measured["rounds"] >= t.rounds and not t.purchases
    return int(pricing.money(reached).scaleb(2)), "households" if whole else "mixed", int(measured["households"])


def figures(t: GroupMonth, poor: int) -> dict[str, Any]:
    """A group's headline, as ``reports.figures._headline(..., network=False)`` writes the same figures. The
    savings percentage is rounded by ``pricing.half_up_quotient``, the rule ``pricing.ratio`` applies."""
    spend, baseline = t.spend, t.baseline
    savings = baseline - spend
    percent = None
    if baseline:
        q = pricing.half_up_quotient(-savings * 10_000 if baseline < 0 else savings * 10_000, abs(baseline))
        percent = f"{'-' if q < 0 else ''}{abs(q) // 10_000}.{abs(q) % 10_000:04d}"
    return {
        "spend": baht_of(spend), "baseline": baht_of(baseline), "savings": baht_of(savings),
        "savings_percent": percent, "fees": baht_of(t.fees), "income_gain": baht_of(t.income_gain),
        "registered_poor_savings": baht_of(poor), "pooling_gain": baht_of(t.pooling_gain),
        "joint_buying_spend": baht_of(t.joint_spend), "marketplace_spend": baht_of(t.market_spend),
    }


@dataclass
class GroupLines:
    """This month's line per group, and each month's registered-poor reach (satang) and how it was counted."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    poor: dict[str, int] = field(default_factory=dict)
    bases: set[str] = field(default_factory=set)


def group_lines(network_id: int, months: list[Month], scan: bool) -> GroupLines:
    """``months``: the month before, then the month. Registered-poor reach is rounded per group, then added up."""
    totals = group_totals(network_id, months, scan)
    # households/ registers its measured reach (core.summary_parts.group_figure): reports/ never imports it.
    reach = {name: group_figures("measured_reach", network_id, start, end) for name, start, end in months}
    groups = db.session.connection().execute(
        select(Group.id, Group.name, Group.district, Group.members, Group.registered_poor_members)
        .where(Group.network_id == network_id).order_by(Group.name, Group.id)).all()
    out = GroupLines(poor={name: 0 for name, _, _ in months})
    for name, _, _ in months[:-1]:  # the months before: only their reach is needed
        done, measured = totals[name], reach[name]
        for group_id, _name, _district, members, poor_members in groups:
            t, m = done.get(group_id), measured.get(group_id)
            if t is not None or m is not None:  # a group that did nothing saved nothing
                out.poor[name] += poor_reach(t or GroupMonth(), members, poor_members, m)[0]
    label = months[-1][0]
    done, measured = totals[label], reach[label]
    idle = figures(GroupMonth(), 0)
    for group_id, group_name, district, members, poor_members in groups:
        t, m = done.get(group_id), measured.get(group_id)
        if t is None and m is None:
            out.lines.append({"group_id": group_id, "name": group_name, "district": district, "members": members,
                              "registered_poor_members": poor_members, "registered_poor_basis": "proportion",
                              "households_reached": 0, **idle, "rounds_joined": 0, "purchases": 0, "sales": 0,
                              "sales_amount": "0.00"})
            continue
        t = t or GroupMonth()
        share, basis, reached = poor_reach(t, members, poor_members, m)
        out.poor[label] += share
        if t.rounds or t.purchases:
            out.bases.add(basis)
        out.lines.append({"group_id": group_id, "name": group_name, "district": district, "members": members,
                          "registered_poor_members": poor_members, "registered_poor_basis": basis,
                          "households_reached": reached, **figures(t, share), "rounds_joined": t.rounds,
                          "purchases": t.purchases, "sales": t.sales, "sales_amount": baht_of(t.sales_amount)})
    return out
