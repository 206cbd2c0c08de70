"""Parts of the monthly summary that other domains contribute, registered as domains add home items.

The reports domain builds a month's figures; a domain above it (quotes/: what competition won) adds its
own part with ``summary_part(key, compute)`` in its ``init_app``, and reports/ stores each registered
part's figures under its key, without importing that domain. ``compute(network_id, start, end)`` reads
the month ``[start, end)`` (UTC instants of the network's local month) and returns plain JSON.
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
