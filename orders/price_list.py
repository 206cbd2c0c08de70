"""Import a supplier's price list (CSV) — all rows or none.

Columns (header row required, extra columns ignored)::

    product,unit,category,pack_size,min_quantity,reference_price,delivery_fee,tiers

``tiers`` is ``min:price`` pairs separated by ``;`` (``0:90.00;100:85.00``), starting at 0. When a
round is given (draft or open) every row also becomes an offer of that supplier in the round.
Every row is checked first and every bad row is reported with its line number; only when all rows
are good are they written, in one transaction.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import pricing
from core.audit import record
from core.db import db
from core.errors import Msg, Conflict, Forbidden, InvalidInput
from core.fields import MAX_QUANTITY, int_or_none, money_or_none
from orders import permissions
from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

REQUIRED = ("product", "unit", "pack_size", "reference_price", "tiers")
COLUMNS = ("product", "unit", "category", "pack_size", "min_quantity", "reference_price", "delivery_fee", "tiers")
MAX_ROWS = 2000


@dataclass
class Row:
    line: int
    product: str
    unit: str
    category: str
    pack_size: int
    min_quantity: int
    reference_price: Decimal
    delivery_fee: Decimal
    tiers: list[tuple[int, Decimal]] = field(default_factory=list)


@dataclass
class RowError:
    line: int
    column: str
    problem: str  # a key: "required", "integer", "money", "tiers", "duplicate", "too_many", "columns"


def parse_money(text: str) -> Decimal | None:
    """'1,250.50' -> Decimal('1250.50'); None unless the one field module reads it as money."""
    return money_or_none(text or "", grouping=True)


def parse_int(text: str, minimum: int) -> int | None:
    return int_or_none(text or "", minimum=minimum, maximum=MAX_QUANTITY, grouping=True)


def parse_tiers(text: str) -> list[tuple[int, Decimal]] | None:
    """'0:90;100:85' -> [(0, 90.00), (100, 85.00)]; None unless the tier rules hold."""
    tiers: list[tuple[int, Decimal]] = []
    for part in (text or "").replace("|", ";").replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        sep = ":" if ":" in part else ("=" if "=" in part else " ")
        bits = [b for b in part.split(sep) if b.strip()]
        if len(bits) != 2:
            return None
        qty, price = parse_int(bits[0], 0), parse_money(bits[1])
        if qty is None or price is None:
            return None
        tiers.append((qty, price))
    if pricing.tier_problems([pricing.Tier(q, p) for q, p in tiers]):
        return None
    return tiers


def parse(content: str) -> tuple[list[Row], list[RowError]]:
    if content.startswith("\ufeff"):
        content = content[1:]
    reader = csv.DictReader(io.StringIO(content))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        return [], [RowError(1, ", ".join(missing), "columns")]
    reader.fieldnames = headers
    rows: list[Row] = []
    errors: list[RowError] = []
    seen: set[tuple[str, str]] = set()
    for raw in reader:
        line = reader.line_num
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(RowError(line, "", "too_many"))
            break
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        row_errors: list[RowError] = []
        for column in ("product", "unit"):
            if not values.get(column):
                row_errors.append(RowError(line, column, "required"))
        pack_size = parse_int(values.get("pack_size", ""), 1)
        if pack_size is None:
            row_errors.append(RowError(line, "pack_size", "integer"))
        min_quantity = parse_int(values.get("min_quantity") or "0", 0)
        if min_quantity is None:
            row_errors.append(RowError(line, "min_quantity", "integer"))
        reference = parse_money(values.get("reference_price", ""))
        if reference is None:
            row_errors.append(RowError(line, "reference_price", "money"))
        fee = parse_money(values.get("delivery_fee") or "0")
        if fee is None:
            row_errors.append(RowError(line, "delivery_fee", "money"))
        tiers = parse_tiers(values.get("tiers", ""))
        if tiers is None:
            row_errors.append(RowError(line, "tiers", "tiers"))
        key = (values.get("product", "").lower(), values.get("unit", "").lower())
        if not row_errors and key in seen:
            row_errors.append(RowError(line, "product", "duplicate"))
        seen.add(key)
        if row_errors:
            errors.extend(row_errors)
            continue
        rows.append(Row(line, values["product"][:200], values["unit"][:40], values.get("category", "")[:80],
                        pack_size or 1, min_quantity or 0, reference or Decimal("0"), fee or Decimal("0"),
                        tiers or []))
    return rows, errors


def import_price_list(actor: Any, supplier_id: int, content: str, round_id: int | None = None
                      ) -> tuple[dict[str, int], list[RowError]]:
    """Check every row, then write all of them in one transaction (or nothing)."""
    if not permissions.can_manage_catalogue(actor):
        raise Forbidden("Only the committee or the admin adds products.")
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None or supplier.network_id != actor.network_id:
        raise InvalidInput("No such supplier in this network.", {"supplier_id": [Msg("Not found.", "not_found")]})
    rnd = None
    if round_id is not None:
        rnd = db.session.get(BuyingRound, round_id)
        if rnd is None or rnd.network_id != actor.network_id:
            raise InvalidInput("No such round in this network.", {"round_id": [Msg("Not found.", "not_found")]})
        if rnd.state not in ("draft", "open"):
            raise Conflict("Offers can be added only before the round closes.", state=rnd.state)
    rows, errors = parse(content)
    if errors:
        return {"products": 0, "offers": 0, "rows": 0}, errors
    if not rows:
        return {"products": 0, "offers": 0, "rows": 0}, [RowError(2, "", "empty")]
    created = offers = 0
    try:
        existing = {(p.name.lower(), p.unit.lower()): p for p in db.session.scalars(
            select(Product).where(Product.network_id == actor.network_id))}
        for row in rows:
            product = existing.get((row.product.lower(), row.unit.lower()))
            if product is None:
                product = Product(network_id=actor.network_id, name=row.product, unit=row.unit,
                                  category=row.category)
                db.session.add(product)
                db.session.flush()
                existing[(row.product.lower(), row.unit.lower())] = product
                created += 1
            if rnd is not None:
                offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id,
                              pack_size=row.pack_size, min_quantity=row.min_quantity,
                              reference_price=row.reference_price, delivery_fee=row.delivery_fee)
                offer.tiers = [PriceTier(min_quantity=q, unit_price=p) for q, p in row.tiers]
                db.session.add(offer)
                offers += 1
        db.session.flush()
        record(actor, "price_list.import", "supplier", supplier.id, None,
               {"rows": len(rows), "products": created, "offers": offers, "round_id": round_id})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"products": created, "offers": offers, "rows": len(rows)}, []
