"""Marketplace use cases: one function, one transaction, permissions checked here.

Stock is never oversold: it is taken with one conditional ``UPDATE ... WHERE stock >= :n`` (no prior
SELECT decides anything; SQLite ignores ``FOR UPDATE``), and a purchase changes state only through a
conditional UPDATE on its current state, so a cancel sent twice, or twice at once, returns stock once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import UnaryExpression

from core.audit import record
from core.clock import utcnow
from core.db import affected, db
from core.errors import Conflict, Forbidden, InvalidInput, Msg, NotFound, OutOfStock
from core.events import data_changed
from core.fields import require_money, require_quantity, require_text
from market import events, permissions, rollups
from market.models import Listing, Purchase
from network.models import User
from network.services import get_group
from pricing.marketplace import buyer_saving, income_gain
from pricing.money import CENT

MAX_AMOUNT = Decimal(10_000_000_000)  # Numeric(12, 2)
# A phone's clock a little ahead of the server's is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
LISTING_FIELDS = ("name", "unit", "category", "price", "stock", "outside_price", "reference_price", "district",
                  "description", "state")


class OwnListing(Forbidden):
    code = "own_listing"


class ListingNotActive(Conflict):
    code = "listing_not_active"


class WrongState(Conflict):
    code = "wrong_state"


# --- pages of a list ------------------------------------------------------------------------------

@dataclass
class Page:
    """One page of a list: its items, how many there are in all, which page and how many per page."""

    items: list[Any]
    total: int
    page: int
    per_page: int


def _paginate(query: Select[Any], page: int, per_page: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=int(total), page=page, per_page=per_page)


# --- listings --------------------------------------------------------------------------------------

_SORTS: dict[str, tuple[UnaryExpression[Any], ...]] = {
    "newest": (Listing.created_at.desc(), Listing.id.desc()),
    "oldest": (Listing.created_at.asc(), Listing.id.asc()),
    "name": (Listing.name.asc(), Listing.id.asc()),
    "-name": (Listing.name.desc(), Listing.id.desc()),
    "price": (Listing.price.asc(), Listing.id.asc()),
    "-price": (Listing.price.desc(), Listing.id.desc()),
    "stock": (Listing.stock.asc(), Listing.id.asc()),
    "-stock": (Listing.stock.desc(), Listing.id.desc()),
}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_listings(actor: User, args: dict[str, Any]) -> Page:
    """Browse the network's listings; another network's are never in the query."""
    query = select(Listing).where(Listing.network_id == actor.network_id).options(selectinload(Listing.group))
    state = args.get("state") or "active"
    if state != "all":
        query = query.where(Listing.state == state)
    if args.get("category"):
        query = query.where(Listing.category == args["category"])
    if args.get("district"):
        query = query.where(Listing.district == args["district"])
    if args.get("group_id") is not None:
        query = query.where(Listing.group_id == args["group_id"])
    if args.get("in_stock") is True:
        query = query.where(Listing.stock > 0)
    elif args.get("in_stock") is False:
        query = query.where(Listing.stock == 0)
    text = (args.get("q") or "").strip()
    if text:
        pattern = _like(text)
        query = query.where(or_(Listing.name.ilike(pattern, escape="\\"),
                                Listing.description.ilike(pattern, escape="\\"),
                                Listing.category.ilike(pattern, escape="\\")))
    query = query.order_by(*_SORTS[args.get("sort") or "newest"])
    return _paginate(query, args.get("page", 1), args.get("per_page", 20))


def get_listing(actor: User, listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None or listing.network_id != actor.network_id:
        raise NotFound("No such listing.")
    return listing


_TEXT_LIMITS = {"name": (200, True), "unit": (40, True), "category": (80, False), "district": (100, False),
                "description": (2000, False)}


def _listing_values(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Each field of a listing checked by the one field module (422 naming the field)."""
    values = dict(data)
    for key, (limit, required) in _TEXT_LIMITS.items():
        if key in data or not partial:
            values[key] = require_text(key, data.get(key), max_length=limit, required=required)
    if "price" in data or not partial:
        values["price"] = require_money("price", data.get("price"))
    for key in ("outside_price", "reference_price"):
        if key in data or not partial:
            values[key] = require_money(key, data.get(key), optional=True)
    if "stock" in data or not partial:
        values["stock"] = require_quantity("stock", data.get("stock"))
    return values


def _check_amounts(data: dict[str, Any]) -> None:
    price, stock = data.get("price"), data.get("stock")
    if price is not None and stock is not None and price * stock >= MAX_AMOUNT:
        raise InvalidInput("Price × stock is too large.", {"stock": [Msg("Too large for this price.", "too_large_for_price")]})


def create_listing(actor: User, data: dict[str, Any]) -> Listing:
    if not permissions.can_sell(actor):
        raise Forbidden("Only a group's seller or leader lists goods for sale.")
    data = _listing_values(data, partial=False)
    _check_amounts(data)
    now = utcnow()
    listing = Listing(network_id=actor.network_id, group_id=actor.group_id, created_by_id=actor.id,
                      name=data["name"].strip(), unit=data["unit"].strip(), category=data.get("category", ""),
                      price=data["price"], stock=data["stock"], outside_price=data.get("outside_price"),
                      reference_price=data.get("reference_price"), district=data.get("district", ""),
                      description=data.get("description", ""), state="active", created_at=now, updated_at=now)
    db.session.add(listing)
    db.session.flush()
    record(actor, "listing.create", "listing", listing.id, None, {k: data.get(k) for k in LISTING_FIELDS})
    db.session.commit()
    return listing


def update_listing(actor: User, listing_id: int, data: dict[str, Any]) -> Listing:
    listing = get_listing(actor, listing_id)
    if not permissions.can_edit_listing(actor, listing):
        raise Forbidden("Only the selling group's own sellers and leader change its listings.")
    if listing.state == "closed":
        raise WrongState("The listing is closed; list the goods again instead.", state=listing.state)
    data = _listing_values(data, partial=True)
    _check_amounts({"price": data.get("price", listing.price), "stock": data.get("stock", listing.stock)})
    changes = {k: v for k, v in data.items() if k in LISTING_FIELDS}
    if not changes:
        return listing
    before = {k: getattr(listing, k) for k in changes}
    for key, value in changes.items():
        if key in ("name", "unit") and isinstance(value, str):
            value = value.strip()
        setattr(listing, key, value)
    listing.updated_at = utcnow()
    record(actor, "listing.update", "listing", listing.id, before, changes)
    db.session.commit()
    return listing


# --- purchases -------------------------------------------------------------------------------------

def place_purchase(actor: User, listing_id: int, group_id: int, quantity: int) -> Purchase:
    """A leader buys for their group. The stock is taken by one conditional UPDATE, or nothing is."""
    quantity = require_quantity("quantity", quantity, minimum=1)
    listing = get_listing(actor, listing_id)
    group = get_group(actor, group_id, field="group_id")
    if not permissions.can_buy_for(actor, group):
        raise Forbidden("Only a group's leader buys for the group, and only for their own group.")
    if permissions.is_own_listing(group, listing):
        raise OwnListing("A group cannot buy its own listing.", {"group_id": ["This group sells this listing."]})
    taken = db.session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.network_id == actor.network_id,
               Listing.stock >= quantity, Listing.state == "active")
        .values(stock=Listing.stock - quantity)
        .returning(Listing.price, Listing.outside_price, Listing.reference_price, Listing.group_id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        available, state, unit = db.session.execute(
            select(Listing.stock, Listing.state, Listing.unit).where(Listing.id == listing.id)).one()
        db.session.rollback()
        if state != "active":
            raise ListingNotActive(f"The listing is {state}; it cannot be bought now.", state=state)
        raise OutOfStock(f"Only {available} {unit} left.",
                         {"quantity": [Msg(f"Only {available} left.", "only_left", n=available)]}, available=available)
    price, outside_price, reference_price, seller_group_id = taken
    amount = (quantity * price).quantize(CENT)
    if amount >= MAX_AMOUNT:
        db.session.rollback()
        raise InvalidInput("The amount is too large.", {"quantity": [Msg("Too large.", "too_large")]})
    purchase = Purchase(network_id=actor.network_id, listing_id=listing.id, buyer_group_id=group.id,
                        seller_group_id=seller_group_id, placed_by_id=actor.id, quantity=quantity,
                        unit_price=price, outside_price=outside_price, reference_price=reference_price,
                        amount=amount, state="placed", placed_at=utcnow())
    db.session.add(purchase)
    db.session.flush()
    record(actor, "purchase.place", "market_purchase", purchase.id, None,
           {"listing_id": listing.id, "group_id": group.id, "quantity": quantity, "amount": amount})
    events.purchase_placed(purchase)
    db.session.commit()
    return purchase


def get_purchase(actor: User, purchase_id: int) -> Purchase:
    purchase = db.session.get(Purchase, purchase_id)
    if purchase is None or not permissions.can_see_purchase(actor, purchase):
        raise NotFound("No such purchase.")
    return purchase


def list_purchases(actor: User, args: dict[str, Any]) -> Page:
    """Mine: as buyer or seller group. The committee and the admin see all of the network."""
    query = select(Purchase).where(Purchase.network_id == actor.network_id) \
        .options(selectinload(Purchase.listing))
    side = args.get("side")
    if permissions.can_see_all_purchases(actor):
        if side == "buyer" and actor.group_id is not None:
            query = query.where(Purchase.buyer_group_id == actor.group_id)
        elif side == "seller" and actor.group_id is not None:
            query = query.where(Purchase.seller_group_id == actor.group_id)
    else:
        gid = actor.group_id if actor.group_id is not None else -1
        if side == "buyer":
            query = query.where(Purchase.buyer_group_id == gid)
        elif side == "seller":
            query = query.where(Purchase.seller_group_id == gid)
        else:
            query = query.where(or_(Purchase.buyer_group_id == gid, Purchase.seller_group_id == gid))
    if args.get("state"):
        query = query.where(Purchase.state == args["state"])
    if args.get("listing_id") is not None:
        query = query.where(Purchase.listing_id == args["listing_id"])
    query = query.order_by(Purchase.placed_at.desc(), Purchase.id.desc())
    return _paginate(query, args.get("page", 1), args.get("per_page", 20))


def list_sales(actor: User, state: str | None = None, limit: int = 200) -> list[Purchase]:
    """The purchases of the actor's own group's listings (the seller's incoming orders), newest first."""
    if actor.group_id is None:
        return []
    return list_purchases(actor, {"side": "seller", "state": state, "page": 1, "per_page": limit}).items


def list_my_purchases(actor: User, state: str | None = None, limit: int = 200) -> list[Purchase]:
    """What the actor's own group bought in the marketplace, newest first."""
    if actor.group_id is None:
        return []
    return list_purchases(actor, {"side": "buyer", "state": state, "page": 1, "per_page": limit}).items


def _current_state(purchase_id: int) -> str:
    return db.session.scalar(select(Purchase.state).where(Purchase.id == purchase_id)) or ""


def confirm_purchase(actor: User, purchase_id: int) -> Purchase:
    purchase = get_purchase(actor, purchase_id)
    if not permissions.can_act_as_seller(actor, purchase):
        raise Forbidden("Only the selling group confirms a purchase.")
    changed = affected(db.session.execute(
        update(Purchase).where(Purchase.id == purchase.id, Purchase.state == "placed")
        .values(state="confirmed", confirmed_at=utcnow()).execution_options(synchronize_session=False)
    ))
    if not changed:
        state = _current_state(purchase.id)
        db.session.rollback()
        if state == "confirmed":
            return purchase  # a repeated confirm changes nothing
        raise WrongState(f"The purchase is {state}; only a placed purchase is confirmed.", state=state)
    record(actor, "purchase.confirm", "market_purchase", purchase.id, {"state": "placed"}, {"state": "confirmed"})
    events.purchase_confirmed(purchase)
    db.session.commit()
    return purchase


def deliver_purchase(actor: User, purchase_id: int, delivered_at: datetime | None = None) -> Purchase:
    """The seller hands the goods over; the income gain and the buyer's saving are fixed now, exactly."""
    purchase = get_purchase(actor, purchase_id)
    if not permissions.can_act_as_seller(actor, purchase):
        raise Forbidden("Only the selling group records a delivery.")
    now = utcnow()
    when = now if delivered_at is None else delivered_at
    if when > now + CLOCK_SKEW:
        raise InvalidInput("The delivery time is in the future.",
                           {"delivered_at": [Msg("Must not be in the future.", "must_not_be_future")]})
    when = min(when, now)
    if when < purchase.placed_at:
        raise InvalidInput("The delivery time is before the purchase was placed.",
                           {"delivered_at": ["Must not be before the purchase was placed."]})
    gain = income_gain(purchase.quantity, purchase.unit_price, purchase.outside_price)
    saving = buyer_saving(purchase.quantity, purchase.unit_price, purchase.reference_price)
    before_state = purchase.state
    changed = affected(db.session.execute(
        update(Purchase).where(Purchase.id == purchase.id, Purchase.state.in_(("placed", "confirmed")))
        .values(state="delivered", delivered_at=when, income_gain=gain, buyer_saving=saving,
                confirmed_at=func.coalesce(Purchase.confirmed_at, when))
        .execution_options(synchronize_session=False)
    ))
    if not changed:
        state = _current_state(purchase.id)
        db.session.rollback()
        raise WrongState(f"The purchase is {state}; it cannot be delivered.", state=state)
    record(actor, "purchase.deliver", "market_purchase", purchase.id, {"state": before_state},
           {"state": "delivered", "delivered_at": when, "income_gain": gain, "buyer_saving": saving})
    data_changed(actor.network_id, when)
    rollups.count_delivery(purchase.id)  # the month's roll-ups, in this transaction
    events.purchase_delivered(purchase)
    db.session.commit()
    return purchase


def cancel_purchase(actor: User, purchase_id: int) -> Purchase:
    """Buyer or seller cancels before delivery; the stock goes back exactly once, however often it is sent."""
    purchase = get_purchase(actor, purchase_id)
    if not permissions.can_cancel(actor, purchase):
        raise Forbidden("Only the buying group's leader or the selling group cancels a purchase.")
    before_state = purchase.state
    changed = affected(db.session.execute(
        update(Purchase).where(Purchase.id == purchase.id, Purchase.state.in_(("placed", "confirmed")))
        .values(state="cancelled", cancelled_at=utcnow()).execution_options(synchronize_session=False)
    ))
    if not changed:
        state = _current_state(purchase.id)
        db.session.rollback()
        if state == "cancelled":
            return purchase  # already cancelled: the stock went back the first time
        raise WrongState(f"The purchase is {state}; it can no longer be cancelled.", state=state)
    # Only the request that won the state change above returns the stock.
    db.session.execute(
        update(Listing).where(Listing.id == purchase.listing_id)
        .values(stock=Listing.stock + purchase.quantity).execution_options(synchronize_session=False))
    record(actor, "purchase.cancel", "market_purchase", purchase.id, {"state": before_state},
           {"state": "cancelled", "stock_returned": purchase.quantity})
    db.session.commit()
    return purchase
