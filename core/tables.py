"""Reading a spreadsheet a network already keeps: CSV (UTF-8, with or without the BOM that Excel writes)
or XLSX, into rows of text keyed by the column each header names, in Thai or English.

Only reading and the shape of the table live here; what a cell may hold is checked by the one field module
(``core.fields``) and the service of the kind being imported. Every cell comes back as text, exactly as
the sheet shows it, so that a number, a Thai-digit number and a formula meet the same rules as a form's input.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from core.errors import InvalidInput, Msg

# A province's groups and users fit many times over; a file beyond these is refused before it is read.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
# An .xlsx is a zip: what it unpacks to is bounded too (a small file must not unpack to gigabytes).
MAX_XLSX_UNPACKED = 64 * 1024 * 1024
# This many empty rows in a row end a workbook's sheet (formatting kept far below the table).
TRAILING_BLANK_ROWS = 1000
# Longer than any field's limit (the service names the field), short enough never to strain the reader.
MAX_CELL = 10_000


@dataclass(frozen=True)
class Column:
    """A column of an import: its key, the headers that name it (Thai first), whether a row needs it."""

    key: str
    headers: tuple[str, ...]
    required: bool = False
    description: str = ""


@dataclass
class Table:
    """Rows by their number in the file (the header is row 1), each ``{column key: text}``."""

    rows: list[tuple[int, dict[str, str]]]
    columns: list[str]


def _refuse(text: str, code: str, **params: Any) -> InvalidInput:
    return InvalidInput(Msg(text, code, **params), {"file": [Msg(text, code, **params)]})


def header_key(text: str) -> str:
    """How a header is compared: no BOM, no case, no spaces or underscores ("Registered poor" = registered_poor)."""
    return "".join(ch for ch in text.replace("\ufeff", "").strip().lower() if ch not in " _-\t\n\r")


def _cell_text(value: Any) -> str:
    """A cell as text, as the sheet shows it: whole numbers without ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _csv_rows(content: bytes) -> Iterable[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse("The file is not UTF-8 text: save it as 'CSV UTF-8' or as an Excel workbook (.xlsx).",
                      "file_encoding") from exc
    # Excel in some locales writes ";" and Google Sheets' .tsv a tab: the header line says which.
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "," if "," in first else next((d for d in ";\t" if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)  # at most MAX_FILE_BYTES of text
    except csv.Error as exc:  # an unclosed quote, a field over the csv module's limit, ...
        if "field limit" not in str(exc):
            raise _refuse(f"The CSV file cannot be read near line {reader.line_num}.", "file_csv",
                          line=reader.line_num) from exc
        # A cell beyond the csv module's 131,072 characters: that limit is the whole process's, so it is never
        # raised here; the file is read by hand instead, and the long cell refused by its column's rule.
        rows = _split_csv(text, delimiter)
    yield from rows


def _split_csv(text: str, delimiter: str) -> list[list[str]]:
    """RFC 4180 as the csv module reads it (a quote opens a cell only at its start, "" is a quote inside one),
    without a limit on a cell's length. Only for a file with such a cell."""
    rows: list[list[str]] = []
    row: list[str] = []
    cell: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"' and not cell:
            end = i + 1
            while True:  # to the closing quote; "" stays inside
                end = text.find('"', end)
                if end < 0:  # unclosed: the cell runs to the end of the file, as the csv module reads it
                    end = n
                    break
                if text.startswith('""', end):
                    end += 2
                    continue
                break
            quoted = text[i + 1:end]
            cell.append(quoted.replace('""', '"'))
            i = end + 1
            continue
        if ch == delimiter:
            row.append("".join(cell))
            cell = []
        elif ch in "\r\n":
            if row or cell:
                row.append("".join(cell))
            rows.append(row)  # a blank line is [] as the csv module reads it
            row, cell = [], []
            if ch == "\r" and text.startswith("\n", i + 1):
                i += 1
        else:
            cell.append(ch)
        i += 1
    if cell or row:
        row.append("".join(cell))
        rows.append(row)
    return rows


def _xlsx_rows(content: bytes) -> Iterable[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _refuse("The file is not an Excel workbook (.xlsx) that can be read.", "file_xlsx") from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise _refuse(f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.", "file_too_big",
                      n=MAX_FILE_BYTES // 1024 // 1024)
    try:
        # data_only=False: a formula comes back as its text ("=..."), which the field rules refuse.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise _refuse("The file is not an Excel workbook (.xlsx) that can be read.", "file_xlsx") from exc
    try:
        sheet = book.worksheets[0]
        blank_run = 0
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            cells = [_cell_text(value) for value in row]
            # Every row is read (read_table counts the ones with data against MAX_ROWS); only a long run of
            # empty rows, which Excel keeps for formatting below a table, ends the sheet.
            blank_run = 0 if any(c.strip() for c in cells) else blank_run + 1
            if blank_run > TRAILING_BLANK_ROWS:
                return
            yield cells
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise _refuse("The file is not an Excel workbook (.xlsx) that can be read.", "file_xlsx") from exc
    finally:
        book.close()


# Office sheets often open with a title, a date or a blank line: the header is the first of these rows
# that names every required column (rows above it are ignored; row numbers stay the sheet's own).
HEADER_SEARCH = 10


def _positions(cells: list[str], by_header: Mapping[str, str]) -> tuple[dict[int, str], str | None]:
    """Which column each cell of a header row names, and a column named twice (if any)."""
    positions: dict[int, str] = {}
    for index, text in enumerate(cells):
        key = by_header.get(header_key(text))
        if key is None:
            continue
        if key in positions.values():
            return positions, key
        positions[index] = key
    return positions, None


def read_table(filename: str, content: bytes, columns: Iterable[Column]) -> Table:
    """The rows of the first sheet, keyed by the columns the header row names; refuses what cannot be read.

    Extra columns are ignored (a network's sheet has notes); a required column that no header names, a
    column named twice, too many rows or cells too long are refused with the file named as the field."""
    if len(content) > MAX_FILE_BYTES:
        raise _refuse(f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.", "file_too_big",
                      n=MAX_FILE_BYTES // 1024 // 1024)
    if not content.strip():
        raise _refuse("The file is empty.", "file_empty")
    is_xlsx = content[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    raw = _xlsx_rows(content) if is_xlsx else _csv_rows(content)
    wanted = list(columns)
    by_header = {header_key(h): c.key for c in wanted for h in (c.key, *c.headers)}
    required = [c.key for c in wanted if c.required]
    positions: dict[int, str] | None = None
    first_missing: list[str] | None = None
    looked = 0
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(raw, start=1):
        blank = not any(c.strip() for c in cells)
        if positions is None:
            looked += 1
            if not blank:
                found, twice = _positions(cells, by_header)
                missing = [key for key in required if key not in found.values()]
                if not missing:
                    if twice is not None:
                        raise _refuse(f"Two columns are named {twice}.", "file_column_twice", column=twice)
                    positions = found
                    continue
                if first_missing is None:
                    first_missing = missing
            if looked >= HEADER_SEARCH:
                break
            continue
        if blank:
            continue  # blank lines between blocks of a sheet
        if len(rows) >= MAX_ROWS:
            raise _refuse(f"At most {MAX_ROWS:,} rows in one file.", "file_too_many_rows", n=f"{MAX_ROWS:,}")
        values: dict[str, str] = {}
        for index, key in positions.items():
            text = cells[index] if index < len(cells) else ""
            values[key] = text[:MAX_CELL + 1]  # the field rule says "too long" and names the column
        rows.append((number, values))
    if positions is None:
        if first_missing is None:
            raise _refuse("The first row must name the columns.", "file_no_header")
        raise _refuse("Columns missing: " + ", ".join(first_missing) + ".", "file_columns_missing",
                      columns=", ".join(first_missing))
    return Table(rows=rows, columns=list(positions.values()))


def column_headers(columns: Iterable[Column]) -> Mapping[str, tuple[str, ...]]:
    return {c.key: c.headers for c in columns}
