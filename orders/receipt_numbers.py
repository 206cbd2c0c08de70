"""Receipt numbers: "<Buddhist-era year>/<six digits>", per network and year, in order, without gaps.

One counter row per (network, year) is bumped by a single INSERT ... ON CONFLICT DO UPDATE in the payment's
own transaction: the row stays locked until that transaction ends, so concurrent payments take numbers one
after another, and a payment that is rolled back gives its number back (no gap, no duplicate). The unique
(network_id, receipt_number) constraint on payments is the last guard."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from core.db import db
from orders.models import ReceiptCounter

BUDDHIST_ERA_OFFSET = 543


def buddhist_year(moment: datetime, timezone: str) -> int:
    """The Buddhist-era year of an instant in the network's time zone (2026 → 2569)."""
    return moment.astimezone(ZoneInfo(timezone)).year + BUDDHIST_ERA_OFFSET


def format_receipt_number(year: int, number: int) -> str:
    return f"{year}/{number:06d}"


def next_receipt_number(network_id: int, paid_at: datetime, timezone: str, series: str = "receipt") -> str:
    """Take the network's next number of a series (``receipt`` or ``cancellation``) for the year of
    ``paid_at``; call inside the transaction that writes the document."""
    year = buddhist_year(paid_at, timezone)
    table = cast(Table, ReceiptCounter.__table__)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt: Any = dialect.insert(table).values(network_id=network_id, year=year, series=series, last_number=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.network_id, table.c.year, table.c.series],
                                      set_={"last_number": table.c.last_number + 1}).returning(table.c.last_number)
    number = db.session.execute(stmt).scalar_one()
    return format_receipt_number(year, int(number))
