"""Calendar months in a network's time zone: the one definition of which month an instant belongs to.

A month is ``[start_of(tz, y, m), start_of(tz, y, m + 1))`` in UTC, its label ``YYYY-MM``. The monthly
summary's scan (reports/), and the roll-ups kept by the domains whose writes change a month's figures
(orders/rollups.py, market/rollups.py), all bucket by these functions. Knows no domain.
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(year: int, month: int, k: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + k
    return n // 12, n % 12 + 1


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Asia/Bangkok")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Bangkok")


def start_of(tz: ZoneInfo, year: int, month: int) -> datetime:
    """The first instant of the month in the zone, in UTC (correct across DST changes too)."""
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)


def window(tz: ZoneInfo, year: int, month: int, months: int) -> list[tuple[str, datetime, datetime]]:
    """`months` consecutive months ending with (year, month), oldest first: (label, start, end) in UTC."""
    out = []
    for k in range(months - 1, -1, -1):
        y, m = add_months(year, month, -k)
        ny, nm = add_months(y, m, 1)
        out.append((label(y, m), start_of(tz, y, m), start_of(tz, ny, nm)))
    return out


def month_of(tz: ZoneInfo, instant: datetime) -> str:
    local = instant.astimezone(tz)
    return label(local.year, local.month)


def spanning(tz: ZoneInfo, first: datetime, last: datetime) -> list[tuple[str, datetime, datetime]]:
    """Every month from the one holding ``first`` to the one holding ``last``: (label, start, end) in UTC,
    for bucketing many instants at once (a roll-up rebuilt from its rows)."""
    a, b = first.astimezone(tz), last.astimezone(tz)
    count = (b.year * 12 + b.month) - (a.year * 12 + a.month) + 1
    return window(tz, b.year, b.month, max(count, 1))
