"""Import a supplier's price list (CSV) — all rows or none.

Columns (header row required, extra columns ignored)::

    product,unit,category,pack_size,min_quantity,reference_price,delivery_fee,tiers

``tiers`` is ``min:price`` pairs separated by ``;`` (``0:90.00;100:85.00``), starting at 0. When a
round is given (draft or open) every row also becomes an offer of that supplier in the round.
Every row is checked first and every bad row is reported with its line number; only when all rows
are good are they written, in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import pricing
from core.audit import record
from core.db import db
from core.errors import Conflict, Forbidden, InvalidInput, Msg, message_code
from core.fields import (
    MAX_QUANTITY,
    FieldError,
    field_message,
    int_or_none,
    money_or_none,
    read_form_money,
    read_form_quantity,
    thai_text,
)
from core.tables import Column, read_table
from orders import catalogue, permissions
from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

REQUIRED = ("product", "unit", "pack_size", "reference_price", "tiers")
COLUMNS = ("product", "unit", "category", "pack_size", "min_quantity", "reference_price", "delivery_fee", "tiers")
MAX_ROWS = 2000
# A price list larger than this is refused whole, never cut and imported in part.
MAX_BYTES = 2_000_000
# Read by the one spreadsheet reader (core.tables: BOM, ";" or tab separators, a title row above the header,
# a cell longer than the csv module's limit refused by its column's rule): headers in English or Thai.
TABLE_COLUMNS = (
    Column("product", ("สินค้า", "ชื่อสินค้า"), required=True),
    Column("unit", ("หน่วย",), required=True),
    Column("category", ("หมวด", "หมวดหมู่", "ประเภทสินค้า")),
    Column("pack_size", ("ขนาดบรรจุ", "ขนาดแพ็ก"), required=True),
    Column("min_quantity", ("ขั้นต่ำ", "จำนวนขั้นต่ำ")),
    Column("reference_price", ("ราคาตลาด", "ราคาอ้างอิง"), required=True),
    Column("delivery_fee", ("ค่าขนส่ง",)),
    Column("tiers", ("ขั้นราคา", "ราคาขั้นบันได"), required=True),
)

THAI_HEADINGS = {c.key: c.headers[0] for c in TABLE_COLUMNS}


def column_heading(keys: str) -> str:
    """A column (or a list of them, "a, b") by its Thai heading, as the page names it."""
    return ", ".join(THAI_HEADINGS.get(k.strip(), k.strip()) for k in keys.split(",")) if keys else ""


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
    # A key: "tiers", "duplicate", "too_many", "columns", "empty", "unreadable", or a field rule's code
    # ("too_long", "control", "too_big", ...) whose message is in ``message``.
    problem: str
    message: Msg | None = None


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


def _field(errors: list[RowError], line: int, column: str, reader: Any, text: str, **kwargs: Any) -> Any:
    """One cell through the field module (the bounds of the API and the pages), or a RowError naming it."""
    try:
        return reader(text, **kwargs)
    except FieldError as exc:
        errors.append(RowError(line, column, exc.code, field_message(exc)))
        return None


def _table(content: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The rows by their line, or why the file cannot be read at all (as a row problem of the page)."""
    try:
        table = read_table("price-list.csv", content.encode("utf-8"), TABLE_COLUMNS)
    except InvalidInput as exc:
        code, params = message_code(exc.message) or "", getattr(exc.message, "params", {})
        if code == "file_empty":
            return [], []  # said as "the file has no rows"
        if code in ("file_columns_missing", "file_no_header"):
            return [], [RowError(1, str(params.get("columns") or ", ".join(REQUIRED)), "columns")]
        if code == "file_too_many_rows":
            return [], [RowError(MAX_ROWS + 2, "", "too_many")]
        if code == "file_too_big":
            return [], [RowError(1, "", "too_large")]
        return [], [RowError(int(params.get("line") or 1), str(params.get("column") or ""), "unreadable")]
    return table.rows, []


def parse(content: str) -> tuple[list[Row], list[RowError]]:
    if len(content.encode()) > MAX_BYTES:
        return [], [RowError(1, "", "too_large")]
    table, errors = _table(content)
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for line, values in table:
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(RowError(line, "", "too_many"))
            break
        row_errors: list[RowError] = []
        # Name, unit and category by the catalogue's own rules: no NUL, never cut to fit the column.
        try:
            text = catalogue.product_values({"name": values.get("product"), "unit": values.get("unit"),
                                             "category": values.get("category")})
        except InvalidInput as exc:
            text = {}
            for name, found in (exc.fields or {}).items():
                message = found[0] if isinstance(found, list) and found else None
                row_errors.append(RowError(line, "product" if name == "name" else name,
                                           getattr(message, "code", "text"), message))
        pack_size = _field(row_errors, line, "pack_size", read_form_quantity, values.get("pack_size", ""), minimum=1)
        min_quantity = _field(row_errors, line, "min_quantity", read_form_quantity, values.get("min_quantity") or "0")
        reference = _field(row_errors, line, "reference_price", read_form_money, values.get("reference_price", ""))
        fee = _field(row_errors, line, "delivery_fee", read_form_money, values.get("delivery_fee") or "0")
        tiers = parse_tiers(values.get("tiers", ""))
        if tiers is None:
            row_errors.append(RowError(line, "tiers", "tiers"))
        key = (text.get("name", "").lower(), text.get("unit", "").lower())
        if not row_errors and key in seen:
            row_errors.append(RowError(line, "product", "duplicate"))
        seen.add(key)
        if row_errors:
            errors.extend(row_errors)
            continue
        rows.append(Row(line, text["name"], text["unit"], text["category"], pack_size, min_quantity, reference, fee,
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
        existing = {(thai_text(p.name).lower(), thai_text(p.unit).lower()): p for p in db.session.scalars(
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
