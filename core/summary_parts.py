"""Parts of the monthly summary that other domains contribute, registered as domains add home items.

The reports domain builds a month's figures; a domain above it (quotes/: what competition won) adds its
own part with ``summary_part(key, compute)`` in its ``init_app``, and reports/ stores each registered
part's figures under its key, without importing that domain. ``compute(network_id, start, end)`` reads
the month ``[start, end)`` (UTC instants of the network's local month) and returns plain JSON.

A domain may also hand reports/ a figure per group that reports/ folds into its own lines, with
``group_figure(key, compute)``: households/ registers ``measured_reach`` (its registered-poor households'
savings, measured from their bills), and reports/ reads it by ``group_figures(key, ...)`` without importing
households/. With nothing registered under the key, the answer is ``{}`` (no group measured).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

SummaryPart = Callable[[int, datetime, datetime], dict[str, Any]]

# key in the summary's JSON -> how its figures are computed for a month.
SUMMARY_PARTS: dict[str, SummaryPart] = {}


def summary_part(key: str, compute: SummaryPart) -> None:
    """Register (idempotent: the same key replaces the entry) a part of the monthly summary."""
    SUMMARY_PARTS[key] = compute


def summary_parts(network_id: int, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """Every registered part's figures for the month, by key."""
    return {key: compute(network_id, start, end) for key, compute in SUMMARY_PARTS.items()}


GroupFigure = Callable[[int, datetime, datetime], dict[int, dict[str, Any]]]

# key -> per group id, that group's figures for the month (reports/ folds them into its group lines).
GROUP_FIGURES: dict[str, GroupFigure] = {}


def group_figure(key: str, compute: GroupFigure) -> None:
    """Register (idempotent: the same key replaces the entry) a per-group figure of the monthly summary."""
    GROUP_FIGURES[key] = compute


def group_figures(key: str, network_id: int, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """The registered figure's values for the month by group id; ``{}`` when no domain registered it."""
    compute = GROUP_FIGURES.get(key)
    return compute(network_id, start, end) if compute is not None else {}
