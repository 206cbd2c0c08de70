"""The round's sheet: the link a group's households use, what they ask for, and the leader's view of it.

A household has no account: the sheet's token (a link shared in the group's LINE chat) reaches that group's
households in that round and nothing else (an unknown or revoked token, or another group's household, is a
404). It enters or changes its own quantities until the round closes (then 409), and never sees another's.
"""
from __future__ import annotations

import json
import secrets
from typing import Any, TypedDict

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import selectinload

from core.audit import record
from core.auth import hash_token
from core.clock import utcnow
from core.db import UTCDateTime, db
from core.errors import Conflict, DeadlinePassed, Forbidden, InvalidInput, Msg, NotFound
from core.fields import MAX_ID, require_int, require_quantity
from households import permissions
from households.models import Household, HouseholdLine, HouseholdSheet, SheetWrite
from network.models import Group, User
from orders import permissions as order_permissions
from orders import services as order_services
from orders.models import BuyingRound, GroupOrder, Offer, OrderLine


class LineView(TypedDict):
    offer_id: int
    quantity: int


# --- the leader: the link ----------------------------------------------------------------------------

def _round_and_group(actor: User, round_id: int, group_id: int) -> tuple[BuyingRound, Group]:
    rnd = db.session.get(BuyingRound, round_id)
    if rnd is None or rnd.network_id != actor.network_id:
        raise NotFound("No such buying round.")
    group = db.session.get(Group, group_id)
    if group is None or group.network_id != actor.network_id:
        raise NotFound("No such group.")
    return rnd, group


def open_sheet(actor: User, round_id: int, group_id: int) -> str:
    """A new link for the group's households in this round (an earlier one stops working: one live link)."""
    rnd, group = _round_and_group(actor, round_id, group_id)
    if not permissions.can_share_sheet(actor, group):
        raise Forbidden("Only the group's leader shares the round's sheet with its households.")
    if rnd.state not in ("draft", "open") or utcnow() >= rnd.closes_at:
        raise Conflict(Msg("The round no longer takes orders.", "orders_closed"), state=rnd.state)
    token = secrets.token_urlsafe(32)  # 256 random bits
    sheet = db.session.scalar(select(HouseholdSheet).where(
        HouseholdSheet.round_id == rnd.id, HouseholdSheet.group_id == group.id).with_for_update())
    if sheet is None:
        sheet = HouseholdSheet(round_id=rnd.id, group_id=group.id)
        db.session.add(sheet)
    sheet.token_hash, sheet.created_at, sheet.revoked_at = hash_token(token), utcnow(), None
    db.session.flush()
    record(actor, "sheet.open", "round", rnd.id, None, {"group_id": group.id})
    db.session.commit()
    return token  # shown once (the API and the page make the link of it): only its hash is kept


def revoke_sheet(actor: User, round_id: int, group_id: int) -> None:
    rnd, group = _round_and_group(actor, round_id, group_id)
    if not permissions.can_share_sheet(actor, group):
        raise Forbidden("Only the group's leader shares the round's sheet with its households.")
    sheet = db.session.scalar(select(HouseholdSheet).where(
        HouseholdSheet.round_id == rnd.id, HouseholdSheet.group_id == group.id,
        HouseholdSheet.revoked_at.is_(None)).with_for_update())
    if sheet is None:
        raise NotFound("The group has no live link in this round.")
    sheet.revoked_at = utcnow()
    record(actor, "sheet.revoke", "round", rnd.id, None, {"group_id": group.id})
    db.session.commit()


def live_sheet(round_id: int, group_id: int) -> HouseholdSheet | None:
    return db.session.scalar(select(HouseholdSheet).where(
        HouseholdSheet.round_id == round_id, HouseholdSheet.group_id == group_id, HouseholdSheet.revoked_at.is_(None)))


# --- households, by token ----------------------------------------------------------------------------

def sheet_for(token: str) -> HouseholdSheet:
    if not token or len(token) > 200:
        raise NotFound("This link is not valid.")
    sheet = db.session.scalar(select(HouseholdSheet).where(HouseholdSheet.token_hash == hash_token(token),
                                                           HouseholdSheet.revoked_at.is_(None)))
    if sheet is None:
        raise NotFound("This link is not valid.")
    return sheet


def _round_state(rnd: BuyingRound) -> str:
    if rnd.state == "open" and utcnow() >= rnd.closes_at:
        return "closed"
    return rnd.state


def sheet_view(token: str) -> dict[str, Any]:
    """The round, its offers and the group's households (names only: never another household's lines)."""
    sheet = sheet_for(token)
    rnd = db.session.scalar(select(BuyingRound).where(BuyingRound.id == sheet.round_id).options(
        selectinload(BuyingRound.offers).selectinload(Offer.tiers),
        selectinload(BuyingRound.offers).selectinload(Offer.product)))
    assert rnd is not None  # the foreign key
    group = db.session.get_one(Group, sheet.group_id)
    households = db.session.execute(select(Household.id, Household.name).where(
        Household.group_id == sheet.group_id, Household.removed_at.is_(None)).order_by(Household.name, Household.id)).all()
    return {
        "round": {"id": rnd.id, "name": rnd.name, "state": _round_state(rnd), "closes_at": rnd.closes_at},
        "group": {"id": group.id, "name": group.name},
        "offers": [{"id": o.id, "product_name": o.product.name, "unit": o.product.unit,
                    "reference_price": o.reference_price,
                    "list_price": o.tiers[0].unit_price if o.tiers else None,
                    "best_price": min((t.unit_price for t in o.tiers), default=None)} for o in rnd.offers],
        "households": [{"id": h.id, "name": h.name} for h in households],
    }


def _household_of(sheet: HouseholdSheet, household_id: int) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or household.group_id != sheet.group_id or household.removed_at is not None:
        raise NotFound("No such household in this group.")
    return household


def _lines_of(round_id: int, household_id: int) -> list[LineView]:
    rows = db.session.execute(select(HouseholdLine.offer_id, HouseholdLine.quantity).where(
        HouseholdLine.round_id == round_id, HouseholdLine.household_id == household_id)
        .order_by(HouseholdLine.offer_id)).all()
    return [{"offer_id": o, "quantity": q} for o, q in rows]


def household_lines(token: str, household_id: int) -> dict[str, Any]:
    """One household's lines, and its bill once the round is combined."""
    from households.bills import bill_of_household

    sheet = sheet_for(token)
    household = _household_of(sheet, household_id)
    return {"household_id": household.id, "name": household.name, "lines": _lines_of(sheet.round_id, household.id),
            "bill": bill_of_household(sheet.round_id, sheet.group_id, household.id)}


def check_lines(lines: Any, offer_ids: set[int]) -> list[LineView]:
    """Each line's offer of this round and a whole quantity; 0 drops the line (422 naming the line)."""
    if not isinstance(lines, list) or len(lines) > 500:
        raise InvalidInput("A sheet has at most 500 lines.", {"lines": ["At most 500 lines."]})
    checked: dict[int, int] = {}
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise InvalidInput(f"lines[{i}]: must be an object.", {"lines": {str(i): ["Must be an object."]}})
        try:
            offer_id = require_int("offer_id", line.get("offer_id"), minimum=1, maximum=MAX_ID)
            quantity = require_quantity("quantity", line.get("quantity"))
        except InvalidInput as exc:
            raise InvalidInput(f"lines[{i}]: {exc.message}", {"lines": {str(i): exc.fields}}) from exc
        if offer_id not in offer_ids:
            raise InvalidInput(Msg("Some lines name offers that are not in this round.", "lines_not_in_round"),
                               {"lines": {str(i): {"offer_id": [Msg("Not an offer of this round.", "not_in_round")]}}})
        if offer_id in checked:
            raise InvalidInput("The same offer is twice on the sheet.",
                               {"lines": {str(i): {"offer_id": ["This offer is already on the sheet."]}}})
        checked[offer_id] = quantity
    return [{"offer_id": o, "quantity": q} for o, q in sorted(checked.items()) if q > 0]


def replace_household_lines(token: str, household_id: int, lines: Any, key: str | None = None,
                             request_hash: str = "") -> dict[str, Any]:
    """The household's lines become exactly these, while the round takes orders (409 after).

    With an Idempotency-Key (a phone sending what it kept offline, perhaps again because the first answer
    was lost): the key is claimed in this transaction and the answer stored with the lines, so a repeat
    gets the first answer (``replayed: True``) and writes nothing, a concurrent repeat waits for the first,
    and a refusal (the round closed meanwhile) stores nothing, so the key is not used up."""
    sheet = sheet_for(token)
    household = _household_of(sheet, household_id)
    if key is not None:
        first = _claim_key(sheet.id, household.id, key, request_hash)
        if first is not None:
            return first
    # FOR SHARE on the round: a close (an UPDATE of this row) waits for this write, and a write after the
    # close sees it. So no household line changes once the round is closed and its bills may exist.
    rnd = db.session.scalar(select(BuyingRound).where(BuyingRound.id == sheet.round_id).with_for_update(read=True))
    assert rnd is not None
    now = utcnow()
    if not permissions.sheet_is_open(rnd.state, rnd.closes_at, now):
        raise DeadlinePassed(Msg("The deadline has passed; orders can no longer change.", "orders_closed"),
                             state=_round_state(rnd))
    offer_ids = set(db.session.scalars(select(Offer.id).where(Offer.round_id == rnd.id)))
    wanted = check_lines(lines, offer_ids)
    db.session.execute(delete(HouseholdLine).where(HouseholdLine.round_id == rnd.id,
                                                   HouseholdLine.household_id == household.id))
    db.session.add_all(HouseholdLine(round_id=rnd.id, group_id=sheet.group_id, household_id=household.id,
                                     offer_id=ln["offer_id"], quantity=ln["quantity"], updated_at=now) for ln in wanted)
    answer: dict[str, Any] = {"household_id": household.id, "lines": wanted}
    if key is not None:
        db.session.execute(update(SheetWrite).where(SheetWrite.sheet_id == sheet.id, SheetWrite.key == key)
                           .values(body=json.dumps(answer)))
    db.session.commit()
    return answer


# Claimed in the write's transaction: a repeat arriving meanwhile waits on the unique index until it ends.
_CLAIM = text(
    "INSERT INTO household_sheet_writes (sheet_id, key, household_id, request_hash, body, created_at) "
    "VALUES (:sheet_id, :key, :household_id, :request_hash, '', :created_at) "
    "ON CONFLICT (sheet_id, key) DO NOTHING RETURNING id"
).bindparams(bindparam("created_at", type_=UTCDateTime()))


def _claim_key(sheet_id: int, household_id: int, key: str, request_hash: str) -> dict[str, Any] | None:
    """None: this request holds the key and writes. Otherwise the first answer for the key (replayed)."""
    key = key.strip()
    if not key or len(key) > 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters.", {"Idempotency-Key": ["1 to 200 characters."]})
    claimed = db.session.execute(_CLAIM, {"sheet_id": sheet_id, "key": key, "household_id": household_id,
                                          "request_hash": request_hash, "created_at": utcnow()}).first()
    if claimed is not None:
        return None
    first = db.session.scalar(select(SheetWrite).where(SheetWrite.sheet_id == sheet_id, SheetWrite.key == key))
    db.session.rollback()
    if first is None or not first.body:  # the first write rolled back under us: let the phone try again
        raise Conflict(Msg("A request with this Idempotency-Key is still in progress.", "idempotency_in_progress"))
    if first.household_id != household_id or first.request_hash != request_hash:
        raise InvalidInput(Msg("This Idempotency-Key was used for a different request.", "idempotency_mismatch"),
                           {"Idempotency-Key": ["Used for a different request."]})
    answer: dict[str, Any] = json.loads(first.body)
    answer["replayed"] = True
    return answer


# --- the leader: households' lines, totals, and the group's order from them ----------------------------

def households_for_round(actor: User, round_id: int, group_id: int) -> dict[str, Any]:
    """Each household's lines, the totals per offer, and beside them the group's order (the difference is
    what households changed after the order was placed, or the leader's own additions)."""
    rnd, group = _round_and_group(actor, round_id, group_id)
    if not permissions.can_view_household_orders(actor, group):
        raise Forbidden("Only the group's leader and the committee see its households' orders.")
    households = db.session.scalars(select(Household).where(
        Household.group_id == group.id).order_by(Household.name, Household.id)).all()
    lines = db.session.execute(select(HouseholdLine.household_id, HouseholdLine.offer_id, HouseholdLine.quantity)
                               .where(HouseholdLine.round_id == rnd.id, HouseholdLine.group_id == group.id)
                               .order_by(HouseholdLine.household_id, HouseholdLine.offer_id)).all()
    by_household: dict[int, list[LineView]] = {}
    totals: dict[int, int] = {}
    for hid, offer_id, quantity in lines:
        by_household.setdefault(hid, []).append({"offer_id": offer_id, "quantity": quantity})
        totals[offer_id] = totals.get(offer_id, 0) + quantity
    ordered: dict[int, int] = {o: q for o, q in db.session.execute(select(OrderLine.offer_id, OrderLine.quantity)
                                      .join(GroupOrder, GroupOrder.id == OrderLine.group_order_id)
                                      .where(GroupOrder.round_id == rnd.id, GroupOrder.group_id == group.id)).all()}
    offers = sorted(set(totals) | set(ordered))
    sheet = live_sheet(rnd.id, group.id)
    return {
        "round_id": rnd.id, "group_id": group.id,
        "households": [{"household_id": h.id, "name": h.name, "registered_poor": h.registered_poor,
                        "removed": h.removed_at is not None, "lines": by_household.get(h.id, [])}
                       for h in households if h.removed_at is None or h.id in by_household],
        "totals": [{"offer_id": o, "quantity": totals[o]} for o in sorted(totals)],
        "order": [{"offer_id": o, "households": totals.get(o, 0), "ordered": ordered.get(o, 0),
                   "difference": totals.get(o, 0) - ordered.get(o, 0)} for o in offers],
        "sheet_live": sheet is not None, "sheet_created_at": sheet.created_at if sheet else None,
    }


def fill_order_from_households(actor: User, round_id: int, group_id: int,
                               tolerances: list[dict[str, Any]] | None = None) -> order_services.GroupOrderView:
    """The group's order becomes the households' totals (with the tolerances given), through the same
    service as PUT: the same permissions (the group's leader), deadline and validation."""
    rnd, group = _round_and_group(actor, round_id, group_id)
    if not order_permissions.can_order_for(actor, group):
        raise Forbidden("You can order only for your own group.")  # the order service's own rule, asked first
    sums: dict[int, int] = {}
    for offer_id, quantity in db.session.execute(select(HouseholdLine.offer_id, HouseholdLine.quantity).where(
            HouseholdLine.round_id == rnd.id, HouseholdLine.group_id == group.id)).all():
        sums[offer_id] = sums.get(offer_id, 0) + quantity
    if not sums:
        # Adopting nothing would withdraw the group's whole order: refused, the order stays as it is.
        raise Conflict(Msg("No household has asked for anything yet; the group's order is unchanged.",
                           "no_household_lines"))
    extra: dict[int, Any] = {}
    for i, t in enumerate(tolerances or []):
        offer_id = t.get("offer_id") if isinstance(t, dict) else None
        if offer_id not in sums:
            raise InvalidInput(Msg("A tolerance names an offer no household asked for.", "tolerance_without_demand"),
                               {"tolerances": {str(i): {"offer_id": ["No household asked for this offer."]}}})
        extra[offer_id] = t.get("tolerance", 0)
    lines = [{"offer_id": o, "quantity": q, "tolerance": extra.get(o, 0)} for o, q in sorted(sums.items())]
    db.session.rollback()  # nothing was written: the order service runs its own transaction
    return order_services.replace_group_order(actor, round_id, group_id, lines)
