"""Imports from a spreadsheet: the kernel's registry of what can be imported, and the one way to run one.

A domain registers each kind it can import (``register_kind``) with its columns and its use case; the
kernel reads the file (``core.tables``) and hands the rows over. The use case checks every row with the
same field rules as every other entry point, compares it with what is stored, and writes everything or
nothing. The API and the page both call :func:`run_import`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import Conflict, DomainError, Forbidden, InvalidInput, Msg
from core.fields import FieldError, clean_text, parse_int
from core.tables import Column, Table, read_table


@dataclass
class RowProblem:
    """What is wrong with one cell (``column`` empty when it is the whole row)."""

    row: int
    column: str
    message: Msg


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    # For the page's preview: per row, "created" / "updated" / "unchanged" / "error" and what it names.
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)


class ImportRow:
    """Collects one row's problems by column, as the field module and the services name them."""

    def __init__(self, number: int, result: ImportResult) -> None:
        self.number, self.result, self.bad = number, result, False

    def problem(self, column: str, message: Msg) -> None:
        self.bad = True
        self.result.errors.append(RowProblem(self.number, column, message))

    def refused(self, exc: DomainError) -> None:
        """A service's refusal of the row: each field's messages under that column."""
        for name, messages in (exc.fields or {"": [exc.message]}).items():
            for message in messages:
                self.problem(name, message if isinstance(message, Msg) else Msg(str(message), "invalid"))

    def text(self, values: dict[str, str], column: str, limit: int, required: bool = False) -> str | None:
        """A text cell by the one field module's rules, formulas refused (``clean_text(formula=False)``)."""
        try:
            return clean_text(values.get(column, ""), max_length=limit, required=required, formula=False)
        except FieldError as exc:
            self.problem(column, Msg(exc.message, f"field_{exc.code}", **exc.params))
            return None

    def whole(self, values: dict[str, str], column: str, maximum: int = 1_000_000) -> int | None:
        """A whole-number cell: Thai digits and thousands separators read as on the pages."""
        try:
            return parse_int(values[column], maximum=maximum, grouping=True)
        except FieldError as exc:
            self.problem(column, Msg(exc.message, f"field_{exc.code}", **exc.params))
            return None


def count(result: ImportResult, number: int, label: str, changes: dict[str, Any], existing: Any) -> str:
    """Counts a good row as created (nothing stored), updated (changes) or unchanged."""
    outcome = "created" if existing is None else ("updated" if changes else "unchanged")
    setattr(result, outcome, getattr(result, outcome) + 1)
    result.outcomes.append((number, outcome, label))
    return outcome


def finish(actor: Any, result: ImportResult, action: str, apply: Callable[[], None]) -> ImportResult:
    """All or nothing: a dry run or a bad row writes nothing; otherwise every change in one transaction,
    with one audit event (counts only: no names or phones are copied into the trail)."""
    from sqlalchemy.exc import IntegrityError

    from core.audit import record
    from core.db import db

    if result.dry_run or result.errors:
        db.session.rollback()
        return result
    try:
        apply()
        db.session.flush()
    except IntegrityError as exc:  # another admin imported the same name a moment ago
        db.session.rollback()
        raise Conflict("Someone changed the same records just now; run the import again.") from exc
    record(actor, action, "network", actor.network_id, None,
           {"rows": result.rows, "created": result.created, "updated": result.updated})
    db.session.commit()
    return result


# (actor, table, dry_run) -> result; the use case writes nothing unless dry_run is False and no row is bad.
Runner = Callable[[Any, Table, bool], ImportResult]


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: tuple[Column, ...]
    run: Runner
    allowed: Callable[[Any], bool]


KINDS: dict[str, ImportKind] = {}
# Kinds the contract names whose domain is not installed yet: asked for, they answer a clear 422.
PLANNED = ("groups", "users", "households")


def register_kind(kind: ImportKind) -> None:
    KINDS[kind.name] = kind


def run_import(actor: Any, kind: str, filename: str, content: bytes, dry_run: bool = True) -> ImportResult:
    found = KINDS.get(kind)
    if found is None:
        if kind in PLANNED:
            raise InvalidInput(Msg(f"Importing {kind} is not available in this version yet.", "import_kind_unavailable",
                                   kind=kind), {"kind": [Msg("Not available yet.", "import_kind_unavailable")]})
        raise InvalidInput("Unknown kind of import.", {"kind": [Msg("One of " + ", ".join(sorted(KINDS)) + ".",
                                                                    "import_kind_unknown")]})
    if not found.allowed(actor):
        raise Forbidden("Only the network admin imports.")
    table = read_table(filename, content, found.columns)
    return found.run(actor, table, dry_run)
