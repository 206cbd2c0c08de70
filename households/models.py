"""A group's households, the per-round sheet link, and what each household asks for in a round.

PDPA: a household is a name or house number, whether it is registered poor, and an optional phone; nothing
more. Removing one erases its name and phone (``removed_at`` set); its past bills stay, as "a removed
household", so that the group's invoices and the month's measured reach still add up.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Model, UTCDateTime


class Household(Model):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    # None once removed (PDPA: erased on request). NULLs never collide in the unique constraint.
    name: Mapped[str | None] = mapped_column(String(120))
    registered_poor: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("group_id", "name"),
        # Removed exactly when erased: a removed household keeps no name and no phone.
        CheckConstraint("(removed_at IS NULL) = (name IS NOT NULL)", name="removed_is_erased"),
        CheckConstraint("removed_at IS NULL OR phone IS NULL", name="removed_has_no_phone"),
    )


class HouseholdSheet(Model):
    """The link households of a group use in one round. Only the token's hash is kept; one row per
    (round, group): a new link replaces the old, a revoked one answers 404."""

    __tablename__ = "household_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("round_id", "group_id"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
    )


class HouseholdLine(Model):
    """A household's requested quantity of one offer in a round (its group's round: one group per household)."""

    __tablename__ = "household_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("household_id", "round_id", "offer_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_household_lines_round_group", "round_id", "group_id"),
    )


class SheetWrite(Model):
    """A household's write by the sheet's link that carried an Idempotency-Key (a phone sending what it kept
    offline): its first answer, written in the same transaction as the lines, so a repeat of the key (the
    answer was lost on the way back) gets that answer again and changes nothing. The sheet's own key store:
    the API's (core.idempotency) is kept per user, and a household has no account."""

    __tablename__ = "household_sheet_writes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("household_sheets.id"))
    key: Mapped[str] = mapped_column(String(200))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("sheet_id", "key"),)
