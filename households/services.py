"""A group's household list: one function, one transaction, permissions here.

PDPA: a household is a name or house number, whether it is registered poor, and an optional phone. The audit
trail never copies the name or the phone (it is kept for ever); removing a household erases both and keeps
the row, so its past bills stay as "a removed household".
"""
from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import delete, func, select

from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, InvalidInput, Msg, NotFound
from core.fields import SARA_AM_TYPED, Checks, require_phone, require_text
from households import permissions
from households.models import Household, HouseholdLine
from network.models import Group, User
from orders.models import BuyingRound

NAME_LENGTH = 120
# A group of 300 households is large; this keeps a mistaken import from flooding a group.
MAX_HOUSEHOLDS = 2000


class HouseholdView(TypedDict):
    id: int
    name: str | None
    registered_poor: bool
    phone: str | None


def view(h: Household) -> HouseholdView:
    return {"id": h.id, "name": h.name, "registered_poor": h.registered_poor, "phone": h.phone}


def _group(actor: User, group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None or group.network_id != actor.network_id:
        raise NotFound("No such group.")
    if not permissions.can_manage_households(actor, group):
        # Another group's leader learns nothing of this group's households, not even that there are any.
        raise NotFound("No such group.")
    return group


def _household(actor: User, household_id: int, *, lock: bool = False) -> Household:
    query = select(Household).where(Household.id == household_id, Household.removed_at.is_(None))
    household = db.session.scalar(query.with_for_update() if lock else query)
    if household is None or household.network_id != actor.network_id:
        raise NotFound("No such household.")
    group = db.session.get_one(Group, household.group_id)
    if not permissions.can_manage_households(actor, group):
        raise NotFound("No such household.")
    return household


def _values(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    checks = Checks()  # every wrong field named at once
    if "name" in data or not partial:
        values["name"] = checks.take(lambda: require_text("name", data.get("name"), max_length=NAME_LENGTH,
                                                          required=True))
    if "registered_poor" in data or not partial:
        poor = data.get("registered_poor", False)
        if not isinstance(poor, bool):
            checks.take(lambda: _refuse(InvalidInput("registered_poor: Must be true or false.", {
                "registered_poor": [Msg("Must be true or false.", "field_boolean")]})))
        values["registered_poor"] = poor
    if "phone" in data or not partial:
        values["phone"] = checks.take(lambda: require_phone("phone", data.get("phone")))
    checks.done()
    return values


def _refuse(exc: InvalidInput) -> None:
    raise exc


def _name_taken(group_id: int, name: str, except_id: int | None = None) -> bool:
    # A name stored before the one spelling (core.fields.thai_text) is compared as it reads, too.
    query = select(Household.id).where(Household.group_id == group_id,
                                       func.replace(Household.name, SARA_AM_TYPED, "\u0e33") == name)
    if except_id is not None:
        query = query.where(Household.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _taken() -> InvalidInput:
    return InvalidInput(Msg("The group already has a household of that name.", "household_name_taken"),
                        {"name": [Msg("Already in the group: add the house number.", "household_name_taken")]})


def list_households(actor: User, group_id: int) -> list[HouseholdView]:
    group = _group(actor, group_id)
    rows = db.session.scalars(select(Household).where(Household.group_id == group.id, Household.removed_at.is_(None))
                              .order_by(Household.name, Household.id))
    return [view(h) for h in rows]


def create_household(actor: User, group_id: int, data: dict[str, Any]) -> HouseholdView:
    group = _group(actor, group_id)
    values = _values(data, partial=False)
    # The group row is the lock of its list: two adds of the same name queue; the constraint backs it.
    db.session.scalar(select(Group.id).where(Group.id == group.id).with_for_update())
    if _name_taken(group.id, values["name"]):
        raise _taken()
    count = len(db.session.scalars(select(Household.id).where(
        Household.group_id == group.id, Household.removed_at.is_(None))).all())
    if count >= MAX_HOUSEHOLDS:
        raise Conflict(f"A group has at most {MAX_HOUSEHOLDS:,} households.")
    household = Household(network_id=group.network_id, group_id=group.id, created_at=utcnow(), **values)
    db.session.add(household)
    db.session.flush()
    record(actor, "household.create", "household", household.id, None,
           {"group_id": group.id, "registered_poor": household.registered_poor})
    db.session.commit()
    return view(household)


def update_household(actor: User, household_id: int, data: dict[str, Any]) -> HouseholdView:
    household = _household(actor, household_id, lock=True)
    values = _values(data, partial=True)
    if "name" in values and _name_taken(household.group_id, values["name"], household.id):
        raise _taken()
    before = {"registered_poor": household.registered_poor}
    for key, value in values.items():
        setattr(household, key, value)
    record(actor, "household.update", "household", household.id, before,
           {"group_id": household.group_id, "registered_poor": household.registered_poor,
            "changed": sorted(values)})
    db.session.commit()
    return view(household)


def remove_household(actor: User, household_id: int) -> None:
    """Delete on request (PDPA): its name and phone are erased and it leaves the list; what it asked for in
    rounds still taking orders goes; its bills of rounds already combined stay, as "a removed household"."""
    household = _household(actor, household_id, lock=True)
    open_rounds = select(BuyingRound.id).where(BuyingRound.state.in_(("draft", "open")))
    db.session.execute(delete(HouseholdLine).where(HouseholdLine.household_id == household.id,
                                                   HouseholdLine.round_id.in_(open_rounds)))
    household.name = None
    household.phone = None
    household.removed_at = utcnow()
    record(actor, "household.remove", "household", household.id, None, {"group_id": household.group_id})
    db.session.commit()
