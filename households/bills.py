"""Household bills: the group's invoice split over its households by the rule of ``pricing.households``.

Bills are read from the allocations as they are now, so after a receipt (a short delivery re-allocates) the
bills follow at once; the households' rows plus the group's own row add up to the invoice to the satang.

``payment`` on a household's bill is a PromptPay request to the group's id for the bill's amount
(docs/paying.md), the same payload an invoice carries; ``total_words`` is the amount in Thai words.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, text

from core.db import UTCDateTime, db
from core.errors import Conflict, Forbidden, Msg, NotFound
from households import permissions
from households.models import Household, HouseholdLine
from households.split_sql import SPLIT_SQL
from network.models import Group, User
from orders import paying
from orders.models import Allocation, BuyingRound, Invoice, PurchaseOrder
from pricing.baht_words import baht_words
from pricing.households import GroupLine, HouseholdShare, split_bill

ZERO = Decimal("0.00")
COMBINED = ("combined", "delivered", "settled")


def payment_for(group: Group, amount: Decimal) -> dict[str, Any] | None:
    """The PromptPay ``payment`` of a household's bill: paid to the group (its treasurer), for the bill's
    amount; None when the group has no PromptPay id or nothing is due (docs/paying.md)."""
    return paying.payment_json(paying.payment_for(group.promptpay_id, amount))


def _requested(round_id: int, group_id: int) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for hid, offer_id, quantity in db.session.execute(
            select(HouseholdLine.household_id, HouseholdLine.offer_id, HouseholdLine.quantity)
            .where(HouseholdLine.round_id == round_id, HouseholdLine.group_id == group_id)):
        out[offer_id][hid] = quantity
    return out


def _group_lines(round_id: int, group_id: int) -> list[GroupLine]:
    rows = db.session.scalars(select(Allocation).where(Allocation.round_id == round_id,
                                                       Allocation.group_id == group_id).order_by(Allocation.offer_id))
    return [GroupLine(a.offer_id, a.allocated, a.unit_price, a.reference_price, a.fee_share) for a in rows]


def _rows(round_id: int, group_id: int) -> tuple[dict[int, list[HouseholdShare]], dict[int, GroupLine]]:
    lines = _group_lines(round_id, group_id)
    return split_bill(lines, _requested(round_id, group_id)), {ln.offer_id: ln for ln in lines}


def _line(offer_id: int, share: HouseholdShare, group_line: GroupLine) -> dict[str, Any]:
    return {"offer_id": offer_id, "requested": share.requested, "allocated": share.allocated,
            "unit_price": group_line.unit_price, "fee_share": share.fee_share, "amount": share.amount,
            "savings": share.savings}


def _bills(round_id: int, group: Group) -> list[dict[str, Any]]:
    split, group_lines = _rows(round_id, group.id)
    by_row: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for offer_id, shares in split.items():
        for share in shares:
            if share.household_id is not None or share.allocated or share.fee_share:
                by_row[share.household_id].append(_line(offer_id, share, group_lines[offer_id]))
    ids = [h for h in by_row if h is not None]
    households = {h.id: h for h in db.session.scalars(select(Household).where(Household.id.in_(ids)))} if ids else {}
    order = sorted(ids, key=lambda h: ((households[h].name or "\uffff"), h))
    rows = []
    for hid in [*order, None]:
        lines = by_row.get(hid, [])
        if hid is None and not lines:
            continue
        h = households.get(hid) if hid is not None else None
        total = sum((ln["amount"] for ln in lines), ZERO)
        rows.append({"household_id": hid, "name": group.name if hid is None else h.name if h else None,
                     "removed": bool(h and h.removed_at is not None), "registered_poor": bool(h and h.registered_poor),
                     "lines": lines, "total": total, "savings": sum((ln["savings"] for ln in lines), ZERO),
                     "total_words": baht_words(total),
                     "payment": payment_for(group, total) if hid is not None else None})
    return rows


def household_bills(actor: User, round_id: int, group_id: int) -> dict[str, Any]:
    """After the combine (and again after each receipt): each household's share of the group's invoice."""
    rnd = db.session.get(BuyingRound, round_id)
    if rnd is None or rnd.network_id != actor.network_id:
        raise NotFound("No such buying round.")
    group = db.session.get(Group, group_id)
    if group is None or group.network_id != actor.network_id:
        raise NotFound("No such group.")
    if not permissions.can_view_household_orders(actor, group):
        raise Forbidden("Only the group's leader and the committee see its households' bills.")
    if rnd.state not in COMBINED:
        raise Conflict(Msg("The round has not been combined yet.", "round_not_combined"), state=rnd.state)
    invoice = db.session.scalar(select(Invoice).where(Invoice.round_id == rnd.id, Invoice.group_id == group.id))
    if invoice is None:
        raise NotFound("The group has no invoice in this round.")
    return {"round_id": rnd.id, "group_id": group.id, "invoice_id": invoice.id, "total": invoice.total,
            "rows": _bills(rnd.id, group)}


def bill_of_household(round_id: int, group_id: int, household_id: int) -> dict[str, Any] | None:
    """One household's bill, for its own link (None before the combine or without an invoice)."""
    state = db.session.scalar(select(BuyingRound.state).where(BuyingRound.id == round_id))
    if state not in COMBINED:
        return None
    group = db.session.get_one(Group, group_id)
    row = next((r for r in _bills(round_id, group) if r["household_id"] == household_id), None)
    return row


# --- measured reach, for the monthly summary ---------------------------------------------------------

def measured_reach(network_id: int, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per group, over its allocations counted in [start, end) (their purchase order's receipt) on rounds where
    its households asked for something: ``poor_savings`` (registered-poor households' savings), ``savings``
    (all of those allocations' savings: the part of the group's savings that is measured, not estimated)
    ``households`` (households with an allocation) and ``rounds`` (rounds so measured)."""
    pairs = db.session.execute(
        select(HouseholdLine.round_id, HouseholdLine.group_id).distinct()
        .join(BuyingRound, BuyingRound.id == HouseholdLine.round_id)
        .join(PurchaseOrder, PurchaseOrder.round_id == BuyingRound.id)
        .where(BuyingRound.network_id == network_id, BuyingRound.state.in_(COMBINED),
               PurchaseOrder.received_at >= start, PurchaseOrder.received_at < end)).all()
    if db.session.get_bind().dialect.name == "postgresql":
        return _measured_reach_sql(sorted({r for r, _ in pairs}), start, end)
    return _measured_reach_python(pairs, start, end)


def _measured_reach_python(pairs: Iterable[Any], start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per (round, group) through the pure rule: the embedded SQLite demo (no div/mod on numeric there)."""
    out: dict[int, dict[str, Any]] = {}
    for round_id, group_id in pairs:
        counted = set(db.session.scalars(select(Allocation.offer_id).join(
            PurchaseOrder, PurchaseOrder.id == Allocation.purchase_order_id).where(
            Allocation.round_id == round_id, Allocation.group_id == group_id,
            PurchaseOrder.received_at >= start, PurchaseOrder.received_at < end)))
        split, group_lines = _rows(round_id, group_id)
        poor = _poor_ids(h for shares in split.values() for h in (s.household_id for s in shares) if h is not None)
        reach = out.setdefault(group_id, {"poor_savings": ZERO, "savings": ZERO, "households": set(), "rounds": set()})
        reach["rounds"].add(round_id)
        for offer_id, shares in split.items():
            if offer_id not in counted:
                continue
            for s in shares:
                reach["savings"] += s.savings
                if s.household_id is not None and s.allocated > 0:
                    reach["households"].add(s.household_id)
                if s.household_id in poor:
                    reach["poor_savings"] += s.savings
    for reach in out.values():
        reach["households"] = len(reach["households"])
        reach["rounds"] = len(reach["rounds"])
    return out


def _poor_ids(ids: Iterable[int]) -> set[int]:
    wanted = set(ids)
    if not wanted:
        return set()
    return set(db.session.scalars(select(Household.id).where(Household.id.in_(wanted), Household.registered_poor)))


_REACH_SQL = f"""
SELECT s.group_id, sum(s.savings) AS savings,
       coalesce(sum(CASE WHEN hh.registered_poor THEN s.savings END), 0) AS poor_savings,
       count(DISTINCT CASE WHEN s.household_id IS NOT NULL AND s.allocated > 0 THEN s.household_id END) AS households,
       count(DISTINCT s.round_id) AS rounds
FROM ({SPLIT_SQL}) s
JOIN purchase_orders po ON po.id = s.purchase_order_id
LEFT JOIN households hh ON hh.id = s.household_id
WHERE po.received_at >= :start AND po.received_at < :end
  AND EXISTS (SELECT 1 FROM household_lines h WHERE h.round_id = s.round_id AND h.group_id = s.group_id)
GROUP BY s.group_id
"""


def _measured_reach_sql(round_ids: list[int], start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """The same figures, set-based: one statement over every round of the month (households/split_sql.py)."""
    if not round_ids:
        return {}
    rows = db.session.execute(text(_REACH_SQL).bindparams(bindparam("start", type_=UTCDateTime()),
                                                          bindparam("end", type_=UTCDateTime())),
                              {"round_ids": round_ids, "start": start, "end": end})
    return {r.group_id: {"poor_savings": Decimal(r.poor_savings).quantize(ZERO),
                         "savings": Decimal(r.savings).quantize(ZERO), "households": int(r.households),
                         "rounds": int(r.rounds)} for r in rows}
