"""Monthly summaries: stored, versioned snapshots that the committee reviews and signs off."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Model, UTCDateTime


class MonthlySummary(Model):
    """One version of a network's month. A reviewed version is never changed again: rebuilding a
    reviewed month writes the next version; an unreviewed one is replaced in place (or left alone
    when nothing changed). The unique constraint keeps parallel builds to one row per version."""

    __tablename__ = "monthly_summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' in the network's time zone
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The figures as built: money as decimal strings, ratios to four places.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    meeting_date: Mapped[date | None] = mapped_column(Date)
    attendance: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("network_id", "month", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance_nonnegative"),
        CheckConstraint(
            "(reviewed_at IS NULL) = (reviewed_by_id IS NULL)", name="reviewed_with_reviewer"
        ),
    )
