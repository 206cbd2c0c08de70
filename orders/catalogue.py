"""The network's catalogue: suppliers and products (use cases of the orders domain)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import pricing
from core.db import db
from core.errors import Conflict, Forbidden, InvalidInput, Msg
from core.fields import MAX_ID, require_int, require_money, require_phone, require_quantity, require_text
from network.models import User
from orders import permissions
from orders.models import (
    Product,
    Supplier,
)
from orders.tiers import tier_error

COMBINE_JOB = "combine_round"


# --- catalogue -------------------------------------------------------------------------------------

def list_suppliers(actor: User) -> list[Supplier]:
    return list(db.session.scalars(
        select(Supplier).where(Supplier.network_id == actor.network_id).order_by(Supplier.name)))


def create_supplier(actor: User, data: dict[str, Any]) -> Supplier:
    if not permissions.can_manage_catalogue(actor):
        raise Forbidden("Only the committee or the admin adds suppliers.")
    data = {"name": require_text("name", data.get("name"), max_length=200, required=True),
            "phone": require_phone("phone", data.get("phone") or None) or ""}  # the one phone rule (core.fields)
    supplier = Supplier(network_id=actor.network_id, **data)
    db.session.add(supplier)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(Msg("A supplier of that name exists already.", "supplier_exists"),
                       {"name": [Msg("Already taken.", "taken")]}) from exc
    db.session.commit()
    return supplier


def list_products(actor: User) -> list[Product]:
    return list(db.session.scalars(
        select(Product).where(Product.network_id == actor.network_id).order_by(Product.category, Product.name)))


# A product's text fields: (length of its column, required). The API, the page and the CSV import alike.
PRODUCT_TEXT = {"name": (200, True), "unit": (40, True), "category": (80, False)}


def product_values(data: dict[str, Any]) -> dict[str, str]:
    """A product's name, unit and category checked (no NUL, within the column, never cut): 422 naming
    every bad field."""
    values: dict[str, str] = {}
    bad: dict[str, Any] = {}
    for name, (length, required) in PRODUCT_TEXT.items():
        try:
            values[name] = require_text(name, data.get(name), max_length=length, required=required)
        except InvalidInput as exc:
            bad.update(exc.fields or {})
    if bad:
        raise InvalidInput("Some fields are not valid: " + ", ".join(sorted(bad)), bad)
    return values


def create_product(actor: User, data: dict[str, Any]) -> Product:
    if not permissions.can_manage_catalogue(actor):
        raise Forbidden("Only the committee or the admin adds products.")
    data = product_values(data)
    product = Product(network_id=actor.network_id, **data)
    db.session.add(product)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(Msg("That product exists already.", "product_exists"), {"name": [Msg("Already taken.", "taken")]}) from exc
    db.session.commit()
    return product


def _in_network(actor: User, model: type, obj_id: int, field: str) -> Any:
    obj = db.session.get(model, obj_id)
    if obj is None or obj.network_id != actor.network_id:
        raise InvalidInput(f"No such {field.removesuffix('_id')} in this network.", {field: [Msg("Not found.", "not_found")]})
    return obj


def offer_values(data: dict[str, Any]) -> dict[str, Any]:
    """An offer's terms checked field by field, then the tier rules of ``pricing`` (422 naming the field)."""
    values = {
        "product_id": require_int("product_id", data.get("product_id"), minimum=1, maximum=MAX_ID),
        "supplier_id": require_int("supplier_id", data.get("supplier_id"), minimum=1, maximum=MAX_ID),
        "pack_size": require_quantity("pack_size", data.get("pack_size"), minimum=1),
        "min_quantity": require_quantity("min_quantity", data.get("min_quantity", 0)),
        "reference_price": require_money("reference_price", data.get("reference_price")),
        "delivery_fee": require_money("delivery_fee", data.get("delivery_fee") or 0),
    }
    raw = data.get("tiers")
    if not isinstance(raw, (list, tuple)) or len(raw) > 50:
        raise InvalidInput("An offer has at most 50 price tiers.", {"tiers": ["At most 50 tiers."]})
    tiers = []
    for i, tier in enumerate(raw):
        tier = tier if isinstance(tier, dict) else {"min_quantity": tier[0], "unit_price": tier[1]}
        try:
            tiers.append(pricing.Tier(require_quantity("min_quantity", tier.get("min_quantity")),
                                      require_money("unit_price", tier.get("unit_price"))))
        except InvalidInput as exc:
            raise InvalidInput(f"tiers[{i}]: {exc.message}", {"tiers": {str(i): exc.fields}}) from exc
    problem = tier_error([{"min_quantity": t.min_quantity, "unit_price": t.unit_price} for t in tiers])
    if problem is not None:
        raise InvalidInput("The price tiers break a rule.", problem)
    values["tiers"] = tiers
    return values
