"""Buying-round use cases: one function, one transaction, permissions checked here."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import jobs
from core.audit import record
from core.clock import utcnow
from core.db import UTCDateTime, affected, db, is_postgres
from core.errors import Conflict, DeadlinePassed, Forbidden, InvalidInput, Msg, NotFound
from core.fields import MAX_ID, require_int, require_quantity, require_text
from core.models import Job
from network.models import User
from network.services import get_group
from orders import events, permissions
from orders.catalogue import _in_network as _in_network
from orders.catalogue import create_product as create_product
from orders.catalogue import create_supplier as create_supplier
from orders.catalogue import list_products as list_products
from orders.catalogue import list_suppliers as list_suppliers
from orders.catalogue import offer_values as offer_values
from orders.models import (
    Allocation,
    BuyingRound,
    GroupOrder,
    Offer,
    OrderLine,
    PriceTier,
    Product,
    Supplier,
)
from orders.order_types import GroupOrderView as GroupOrderView
from orders.order_types import OrderLineView as OrderLineView

COMBINE_JOB = "combine_round"




# --- rounds ----------------------------------------------------------------------------------------

def list_rounds(actor: User, state: str | None = None) -> list[BuyingRound]:
    query = select(BuyingRound).where(BuyingRound.network_id == actor.network_id)
    if state:
        query = query.where(BuyingRound.state == state)
    return list(db.session.scalars(query.order_by(BuyingRound.closes_at.desc(), BuyingRound.id.desc())))


def get_round(actor: User, round_id: int) -> BuyingRound:
    rnd = db.session.scalar(select(BuyingRound).where(BuyingRound.id == round_id))
    if rnd is None or rnd.network_id != actor.network_id:
        raise NotFound("No such buying round.")
    return rnd


def load_round(actor: User, round_id: int) -> BuyingRound:
    rnd = db.session.scalar(
        select(BuyingRound).where(BuyingRound.id == round_id)
        .options(selectinload(BuyingRound.offers).selectinload(Offer.tiers),
                 selectinload(BuyingRound.offers).selectinload(Offer.product),
                 selectinload(BuyingRound.offers).selectinload(Offer.supplier),
                 selectinload(BuyingRound.supplier_fees)))
    if rnd is None or rnd.network_id != actor.network_id:
        raise NotFound("No such buying round.")
    return rnd


def create_round(actor: User, name: str, closes_at: datetime) -> BuyingRound:
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee opens buying rounds.")
    name = require_text("name", name, max_length=200, required=True)
    if closes_at <= utcnow():
        raise InvalidInput(Msg("The deadline must be in the future.", "deadline_in_past"),
                           {"closes_at": [Msg("Must be in the future.", "must_be_future")]})
    rnd = BuyingRound(network_id=actor.network_id, name=name, closes_at=closes_at, state="draft",
                      created_at=utcnow())
    db.session.add(rnd)
    db.session.flush()
    record(actor, "round.create", "round", rnd.id, None, {"name": name, "closes_at": closes_at})
    db.session.commit()
    return rnd


def add_offer(actor: User, round_id: int, data: dict[str, Any]) -> Offer:
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee adds offers.")
    data = {**data, **offer_values(data)}
    rnd = get_round(actor, round_id)
    if rnd.state not in ("draft", "open"):
        raise Conflict("Offers can be added only before the round closes.", state=rnd.state)
    _in_network(actor, Product, data["product_id"], "product_id")
    _in_network(actor, Supplier, data["supplier_id"], "supplier_id")
    offer = Offer(round_id=rnd.id, product_id=data["product_id"], supplier_id=data["supplier_id"],
                  pack_size=data["pack_size"], min_quantity=data["min_quantity"],
                  reference_price=data["reference_price"], delivery_fee=data["delivery_fee"])
    offer.tiers = [PriceTier(min_quantity=t.min_quantity, unit_price=t.unit_price) for t in data["tiers"]]
    db.session.add(offer)
    db.session.flush()
    data["tiers"] = [{"min_quantity": t.min_quantity, "unit_price": t.unit_price} for t in data["tiers"]]
    record(actor, "offer.create", "offer", offer.id, None, data)
    db.session.commit()
    return offer


def open_round(actor: User, round_id: int) -> BuyingRound:
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee opens buying rounds.")
    rnd = get_round(actor, round_id)
    if rnd.state != "draft":
        raise Conflict(f"The round is {rnd.state}, not a draft.", state=rnd.state)
    if not rnd.offers:
        raise Conflict(Msg("Add at least one offer before opening the round.", "round_without_offers"))
    if rnd.closes_at <= utcnow():
        raise Conflict(Msg("The deadline has passed; set a new one first.", "round_deadline_passed"))
    rnd.state = "open"
    rnd.opened_at = utcnow()
    record(actor, "round.open", "round", rnd.id, {"state": "draft"}, {"state": "open"})
    events.round_opened(rnd)
    db.session.commit()
    return rnd


_ROUND_GATE = 7301  # advisory-lock class of buying rounds (two-key form; job leases use the one-key form)


def _round_gate(round_id: int, *, exclusive: bool) -> None:
    """Orders being written share the round's gate; a close takes it alone, until its commit.

    PostgreSQL queues these locks fairly: a close waits for the writes in progress, and writes that
    arrive after it wait for the close. (Row locks FOR SHARE would let a steady stream of writers
    starve the close.) SQLite has one writer at a time; ``_check_still_open`` covers it.
    """
    if not is_postgres():
        return
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    db.session.execute(text(f"SELECT {fn}(:c, :k)"), {"c": _ROUND_GATE, "k": round_id})


def _close(rnd_id: int, network_id: int) -> Job | None:
    """Close one open round and enqueue its combine job, in the caller's transaction.

    The conditional UPDATE is the close, behind the round's gate: orders in progress finish first,
    and only one closer can win it.
    """
    _round_gate(rnd_id, exclusive=True)
    now = utcnow()
    closed = affected(db.session.execute(
        update(BuyingRound).where(BuyingRound.id == rnd_id, BuyingRound.state == "open")
        .values(state="closed", closed_at=now)
    ))
    if not closed:
        return None
    return jobs.enqueue(COMBINE_JOB, {"round_id": rnd_id}, network_id=network_id, dedupe_key=f"combine:{rnd_id}")


def retry_combine(actor: User, round_id: int) -> Job:
    """Start the combine again (committee): after it failed for good and the cause was fixed, or while it
    waits. Idempotent: a combine waiting or running is returned, a finished one too; a failed job is never
    handed back, a new one is started."""
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee starts the combine.")
    get_round(actor, round_id)
    rnd = db.session.scalar(select(BuyingRound).where(BuyingRound.id == round_id).with_for_update())
    assert rnd is not None
    if rnd.state in ("draft", "open"):
        raise Conflict(Msg("The round is not closed yet; close it first.", "round_not_closed"), state=rnd.state)
    key = f"combine:{rnd.id}"
    if rnd.state in ("combined", "delivered", "settled"):
        done = db.session.scalar(select(Job).where(Job.dedupe_key == key))
        db.session.rollback()
        if done is None:
            raise Conflict(f"The round is {rnd.state} already.", state=rnd.state)
        return done
    if rnd.state == "combine_failed":
        record(actor, "round.combine_retry", "round", rnd.id, {"state": rnd.state, "failure": rnd.failure},
               {"state": "closed"})
        rnd.state, rnd.failure = "closed", None
    job = jobs.enqueue(COMBINE_JOB, {"round_id": rnd.id}, network_id=rnd.network_id, dedupe_key=key)
    db.session.commit()
    return job


def close_round(actor: User, round_id: int) -> Job:
    """Close now (before the deadline) and start combining. Repeating it returns the same job."""
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee closes buying rounds.")
    rnd = get_round(actor, round_id)
    if rnd.state == "draft":
        raise Conflict("The round was never opened.", state=rnd.state)
    if rnd.state == "combine_failed":
        return retry_combine(actor, round_id)  # a re-close never hands back the failed job
    job = _close(rnd.id, rnd.network_id)
    if job is None:
        job = db.session.scalar(select(Job).where(Job.dedupe_key == f"combine:{rnd.id}"))
        if job is None:
            raise Conflict(f"The round is {rnd.state} already.", state=rnd.state)
    else:
        record(actor, "round.close", "round", rnd.id, {"state": "open"}, {"state": "closed"})
    db.session.commit()
    return job


def close_due_rounds() -> int:
    """Beat: close every open round whose deadline has passed; each close commits on its own."""
    due = db.session.execute(
        select(BuyingRound.id, BuyingRound.network_id)
        .where(BuyingRound.state == "open", BuyingRound.closes_at <= utcnow())
    ).all()
    closed = 0
    for rnd_id, network_id in due:
        if _close(rnd_id, network_id) is not None:
            closed += 1
        db.session.commit()
    return closed


# --- group orders ----------------------------------------------------------------------------------

def _check_open_state(state: str, closes_at: datetime) -> None:
    # ``reason`` tells a phone why: the committee closed the round ("closed") or its deadline passed.
    if state != "open":
        raise DeadlinePassed(f"The round is {state}; orders can no longer change.", state=state,
                             reason="deadline" if utcnow() >= closes_at else "closed")
    if utcnow() >= closes_at:
        raise DeadlinePassed(Msg("The deadline has passed; orders can no longer change.", "orders_closed"),
                             state="closed", reason="deadline")


def _check_still_open(round_id: int) -> None:
    state, closes_at = db.session.execute(
        select(BuyingRound.state, BuyingRound.closes_at).where(BuyingRound.id == round_id)).one()
    _check_open_state(state, closes_at)


BLANK_ORDER = Msg("An order with no lines would withdraw the group's whole order; nothing was saved. "
                  "To withdraw it, DELETE the order (the pages: \"withdraw the whole order\").", "blank_order")


def replace_group_order(actor: User, round_id: int, group_id: int, lines: list[dict[str, Any]], *,
                        withdraw: bool = False) -> GroupOrderView:
    """PUT: the group's order becomes exactly these lines. Refused as a whole after the deadline.

    No lines never withdraws an order that has lines (a blank form, a script that read nothing): that
    is refused (422 ``blank_order``) whatever the entry point; only :func:`withdraw_group_order`, the
    pages' confirmed action and the API's ``DELETE``, passes ``withdraw=True``.

    On PostgreSQL this is two statements: one reads the round, the group and the offers named while
    taking the round's gate (shared) and the group's lock; one writes the order, its lines and the
    audit event, and only if the round is still open as of its own snapshot (taken after the gate,
    so a close that held the gate has committed and is seen). SQLite (the embedded demo, one writer
    at a time) writes through the ORM.
    """
    lines = order_lines(lines)  # each field within its range (core.fields), before any statement
    wanted = {line["offer_id"]: line for line in lines}
    rnd_row = _order_context(round_id, group_id, list(wanted))
    if rnd_row is None or rnd_row.network_id != actor.network_id:
        raise NotFound("No such buying round.")
    if rnd_row.group_id is None or rnd_row.group_network_id != actor.network_id:
        raise NotFound("No such group.")
    if not permissions.can_order_for(actor, _GroupRef(rnd_row.group_id, rnd_row.group_network_id)):
        raise Forbidden("You can order only for your own group.")
    _check_open_state(rnd_row.state, rnd_row.closes_at)
    if not wanted and not withdraw and _has_lines(round_id, group_id):
        # Read under the group's lock (PostgreSQL) or our write lock to come (SQLite): no writer between.
        raise InvalidInput(BLANK_ORDER, {"lines": [BLANK_ORDER]})
    if rnd_row.known != len(wanted):
        offer_ids = set(db.session.scalars(select(Offer.id).where(Offer.round_id == round_id)))
        bad = {str(i): {"offer_id": [Msg("Not an offer of this round.", "not_in_round")]}
               for i, line in enumerate(lines) if line["offer_id"] not in offer_ids}
        raise InvalidInput(Msg("Some lines name offers that are not in this round.", "lines_not_in_round"),
                           {"lines": bad})
    now = utcnow()
    if is_postgres():
        _write_order_pg(actor, round_id, group_id, wanted, lines, now)
    else:
        _write_order_orm(actor, round_id, group_id, wanted, lines, now)
    placed: GroupOrderView = {"group_id": group_id, "round_id": round_id, "updated_at": now, "lines": [
        {"offer_id": o, "quantity": wanted[o]["quantity"], "tolerance": wanted[o]["tolerance"], "allocated": None,
         "unit_price": None, "fee_share": None, "amount": None, "savings": None} for o in sorted(wanted)]}
    db.session.commit()
    return placed


_GROUP_LOCK = 7302  # advisory-lock class of one group's order: writers of the same order queue up


class _GroupRef:
    """What the permission predicate needs of a group, read in the order's one statement."""

    __slots__ = ("id", "network_id")

    def __init__(self, group_id: int, network_id: int) -> None:
        self.id, self.network_id = group_id, network_id


def _has_lines(round_id: int, group_id: int) -> bool:
    return db.session.scalar(
        select(func.count()).select_from(OrderLine).join(GroupOrder, GroupOrder.id == OrderLine.group_order_id)
        .where(GroupOrder.round_id == round_id, GroupOrder.group_id == group_id)) != 0


def _order_context(round_id: int, group_id: int, offer_ids: list[int]) -> Any:
    """One statement: the round, the group, how many of ``offer_ids`` are offers of the round.

    On PostgreSQL it also takes the round's gate (shared) and then the group's order lock
    (exclusive): the gate is the argument of the lock, so it is always taken first.
    """
    statement = _ORDER_CONTEXT["pg" if is_postgres() else "other"]
    return db.session.execute(statement, {"round_id": round_id, "group_id": group_id, "offer_ids": offer_ids,
                                          "gate": _ROUND_GATE, "lock": _GROUP_LOCK}).first()


def _order_context_sql(offers_named: str, locks: str) -> Any:
    # Written as text: built and compiled once, not per request.
    statement = text(f"""
SELECT r.network_id, r.state, r.closes_at, g.id AS group_id, g.network_id AS group_network_id,
       (SELECT count(*) FROM offers o WHERE o.round_id = r.id AND o.id {offers_named}) AS known{locks}
FROM buying_rounds r LEFT JOIN groups g ON g.id = :group_id
WHERE r.id = :round_id""")
    if offers_named.startswith("IN "):
        statement = statement.bindparams(bindparam("offer_ids", expanding=True, type_=Integer))
    return statement.columns(network_id=Integer, state=String, closes_at=UTCDateTime(), group_id=Integer,
                             group_network_id=Integer, known=Integer)


# The group's lock waits for the gate: its key is computed from the gate's (void) result. On PostgreSQL
# the offers named are one array parameter: the same statement text whatever their number (an expanded
# IN list is rendered again per number of lines, and prepared once per number).
_ORDER_CONTEXT = {
    "pg": _order_context_sql("= ANY(CAST(:offer_ids AS INTEGER[]))",
                             ",\n       pg_advisory_xact_lock(:lock, CAST(:group_id AS INTEGER) + 0 * length(CAST("
                             "pg_advisory_xact_lock_shared(:gate, r.id) AS TEXT))) AS locked"),
    "other": _order_context_sql("IN :offer_ids", ""),
}


# Upsert the order, delete the lines no longer wanted, upsert the wanted ones (placed_at kept), and
# record the audit event with the lines before, all only while the round is open.
_WRITE_ORDER_PG = text("""
WITH ok AS (
  SELECT 1 FROM buying_rounds WHERE id = :round_id AND state = 'open' AND closes_at > :now
), go AS (
  INSERT INTO group_orders (round_id, group_id, placed_by_id, created_at, updated_at)
  SELECT :round_id, :group_id, :user_id, :now, :now FROM ok
  ON CONFLICT (round_id, group_id) DO UPDATE SET updated_at = excluded.updated_at, placed_by_id = excluded.placed_by_id
  RETURNING id
), old AS (
  SELECT l.offer_id, l.quantity, l.tolerance FROM order_lines l JOIN group_orders o ON o.id = l.group_order_id
  WHERE o.round_id = :round_id AND o.group_id = :group_id
), del AS (
  DELETE FROM order_lines l USING go WHERE l.group_order_id = go.id AND l.offer_id <> ALL(:offer_ids)
), ins AS (
  INSERT INTO order_lines (group_order_id, offer_id, quantity, tolerance, placed_at)
  SELECT go.id, n.offer_id, n.quantity, n.tolerance, :now
  FROM go, unnest(CAST(:offer_ids AS INTEGER[]), CAST(:quantities AS INTEGER[]), CAST(:tolerances AS INTEGER[]))
       AS n (offer_id, quantity, tolerance)
  ON CONFLICT (group_order_id, offer_id) DO UPDATE SET quantity = excluded.quantity, tolerance = excluded.tolerance
), audit AS (
  INSERT INTO audit_events (network_id, user_id, action, subject, subject_id, before, after, created_at)
  SELECT :network_id, :user_id, 'order.replace', 'group_order', CAST(go.id AS VARCHAR),
         coalesce((SELECT json_agg(json_build_object('offer_id', offer_id, 'quantity', quantity,
                                                     'tolerance', tolerance) ORDER BY offer_id) FROM old),
                  CAST('[]' AS JSON)),
         CAST(:after AS JSON), :now
  FROM go
)
SELECT (SELECT id FROM go) AS order_id, state, closes_at FROM buying_rounds WHERE id = :round_id
""").bindparams(bindparam("now", type_=UTCDateTime())).columns(order_id=Integer, state=String,
                                                             closes_at=UTCDateTime())


def _write_order_pg(actor: User, round_id: int, group_id: int, wanted: dict[int, dict[str, Any]],
                    lines: list[dict[str, Any]], now: datetime) -> None:
    offer_ids = list(wanted)
    row = db.session.execute(_WRITE_ORDER_PG, {
        "round_id": round_id, "group_id": group_id, "user_id": actor.id, "network_id": actor.network_id,
        "now": now, "offer_ids": offer_ids, "quantities": [wanted[o]["quantity"] for o in offer_ids],
        "tolerances": [wanted[o]["tolerance"] for o in offer_ids], "after": json.dumps(lines),
    }).one()
    if row.order_id is None:
        # Closed (or past its deadline) after the first look: nothing was written.
        _check_open_state(row.state, row.closes_at)
        raise DeadlinePassed(Msg("The deadline has passed; orders can no longer change.", "orders_closed"),
                             state="closed", reason="deadline")


def _write_order_orm(actor: User, round_id: int, group_id: int, wanted: dict[int, dict[str, Any]],
                     lines: list[dict[str, Any]], now: datetime) -> None:
    order = _group_order_for_update(round_id, group_id, actor.id)
    existing = {line.offer_id: line for line in order.lines}
    before = [{"offer_id": ln.offer_id, "quantity": ln.quantity, "tolerance": ln.tolerance}
              for ln in existing.values()]
    for offer_id, gone in existing.items():
        if offer_id not in wanted:
            order.lines.remove(gone)
    for offer_id, data in wanted.items():
        kept = existing.get(offer_id)
        if kept is None:
            order.lines.append(OrderLine(offer_id=offer_id, quantity=data["quantity"],
                                         tolerance=data["tolerance"], placed_at=now))
        else:
            # Keeps placed_at: a line changed later still counts from its first save for ties.
            kept.quantity = data["quantity"]
            kept.tolerance = data["tolerance"]
    order.updated_at = now
    order.placed_by_id = actor.id
    record(actor, "order.replace", "group_order", order.id, before, lines)
    db.session.flush()
    # Checked again at the last moment, from the database: a write that would commit after the
    # deadline or after the close is refused (on SQLite our flush holds the only write lock by now).
    _check_still_open(round_id)


def withdraw_group_order(actor: User, round_id: int, group_id: int) -> GroupOrderView:
    """The group takes back its whole order in this round: its own action (the pages ask for confirmation
    first; the API's ``DELETE``). Withdrawing an order that has no lines changes nothing and is no error."""
    return replace_group_order(actor, round_id, group_id, [], withdraw=True)


def order_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line's offer, quantity and tolerance within range, one line per offer (422 naming the line)."""
    if not isinstance(lines, list) or len(lines) > 500:
        raise InvalidInput("An order has at most 500 lines.", {"lines": ["At most 500 lines."]})
    checked: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, line in enumerate(lines):
        try:
            offer_id = require_int("offer_id", line.get("offer_id"), minimum=1, maximum=MAX_ID)
            quantity = require_quantity("quantity", line.get("quantity"), minimum=1)
            tolerance = require_quantity("tolerance", line.get("tolerance") or 0)
        except InvalidInput as exc:
            raise InvalidInput(f"lines[{i}]: {exc.message}", {"lines": {str(i): exc.fields}}) from exc
        if offer_id in seen:
            raise InvalidInput("The same offer is twice in the order.",
                               {"lines": {str(i): {"offer_id": ["This offer is already in the order."]}}})
        seen.add(offer_id)
        checked.append({"offer_id": offer_id, "quantity": quantity, "tolerance": tolerance})
    return checked


def _group_order_for_update(round_id: int, group_id: int, user_id: int) -> GroupOrder:
    query = select(GroupOrder).where(GroupOrder.round_id == round_id, GroupOrder.group_id == group_id)
    order = db.session.scalar(query.with_for_update())
    if order is not None:
        return order
    try:
        with db.session.begin_nested():
            order = GroupOrder(round_id=round_id, group_id=group_id, placed_by_id=user_id,
                               created_at=utcnow(), updated_at=utcnow())
            db.session.add(order)
    except IntegrityError:
        # Another request for the same group created it first; the unique constraint decided.
        order = db.session.scalar(query.with_for_update())
        assert order is not None
    return order


def get_group_order(actor: User, round_id: int, group_id: int) -> GroupOrderView:
    rnd = get_round(actor, round_id)
    group = get_group(actor, group_id)
    if not permissions.can_view_order_of(actor, group):
        raise Forbidden("You can see only your own group's order.")
    order = db.session.scalar(
        select(GroupOrder).where(GroupOrder.round_id == rnd.id, GroupOrder.group_id == group.id))
    if order is None:
        return {"group_id": group.id, "round_id": rnd.id, "updated_at": None, "lines": []}
    rows = db.session.execute(
        select(OrderLine, Allocation).outerjoin(Allocation, and_(
            Allocation.round_id == rnd.id, Allocation.group_id == group.id, Allocation.order_line_id == OrderLine.id))
        .where(OrderLine.group_order_id == order.id).order_by(OrderLine.offer_id)
    ).all()
    lines: list[OrderLineView] = []
    for line, alloc in rows:
        lines.append({
            "offer_id": line.offer_id, "quantity": line.quantity, "tolerance": line.tolerance,
            "allocated": alloc.allocated if alloc else None,
            "unit_price": alloc.unit_price if alloc else None,
            "fee_share": alloc.fee_share if alloc else None,
            "amount": alloc.amount if alloc else None,
            "savings": alloc.savings if alloc else None,
        })
    return {"group_id": group.id, "round_id": rnd.id, "updated_at": order.updated_at, "lines": lines}


def orders_so_far(actor: User, round_id: int) -> dict[int, int]:
    """Pooled quantity per offer so far (the order form shows the tier reached)."""
    rnd = get_round(actor, round_id)
    rows = db.session.execute(
        select(OrderLine.offer_id, func.sum(OrderLine.quantity))
        .join(Offer, Offer.id == OrderLine.offer_id).where(Offer.round_id == rnd.id)
        .group_by(OrderLine.offer_id)
    ).all()
    return {offer_id: int(total) for offer_id, total in rows}
