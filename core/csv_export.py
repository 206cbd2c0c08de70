"""CSV files the service hands out: cells a spreadsheet would run as a formula are neutralised, numbers
stay numbers, UTF-8 with a byte-order mark (so spreadsheet programs show Thai), one content type.

OWASP's advice on CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with an apostrophe, which spreadsheets show as text and do not evaluate. A number
(``-12.50``, a negative saving) is left as it is, so sums still work.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flask import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value: Any) -> Any:
    """A value as a CSV cell: numbers as they are, dates in ISO 8601, text that could be a formula made text."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows (an empty row is a blank line) as UTF-8 CSV with a byte-order mark, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def csv_response(rows: Iterable[Sequence[Any]], filename: str, headers: dict[str, str] | None = None) -> Response:
    """A CSV download; its type said once (``mimetype=`` with a charset would add a second one)."""
    return Response(csv_bytes(rows), content_type=CONTENT_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})})
