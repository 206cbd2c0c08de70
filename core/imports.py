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

from core.errors import Forbidden, InvalidInput, Msg
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
