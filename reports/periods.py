"""Calendar months in a network's time zone, as UTC instants the database can compare."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.routing import BaseConverter

from core.errors import InvalidInput

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthConverter(BaseConverter):
    """``<month:...>`` of the API's routes: any segment reaches the view (which answers 422 for a month
    that is not YYYY-MM), and the document says what a month is."""

    regex = "[^/]+"


# For the API document (core.api register_converter): years 2000-2999, months 01-12, as parse_month takes.
MONTH_PARAMETER = {"type": "string", "pattern": "^2[0-9]{3}-(0[1-9]|1[0-2])$", "example": "2026-03"}


def parse_month(month: str) -> tuple[int, int]:
    match = MONTH_RE.match(month or "")
    if match is None or not 2000 <= int(match.group(1)) <= 2999:
        raise InvalidInput("A month is written YYYY-MM, such as 2026-03.", {"month": ["Use YYYY-MM."]})
    return int(match.group(1)), int(match.group(2))


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
