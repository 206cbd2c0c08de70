"""One place to ask the time, so tests can freeze it and every module agrees."""
from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
