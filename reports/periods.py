"""Calendar months in a network's time zone, as UTC instants the database can compare.

The month rule itself is the kernel's (``core.periods``: one definition, shared with the roll-ups that
orders/ and market/ keep); this module adds what the summary's pages and API need: parsing ``YYYY-MM``.
"""
from __future__ import annotations

import re

from werkzeug.routing import BaseConverter

from core.errors import InvalidInput
from core.periods import add_months, label, month_of, spanning, start_of, window, zone

__all__ = ["MONTH_PARAMETER", "MONTH_RE", "MonthConverter", "add_months", "label", "month_of", "parse_month",
           "spanning", "start_of", "window", "zone"]

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
