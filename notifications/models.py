"""In-app notifications, their deliveries over LINE and e-mail, and each user's settings."""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Model, UTCDateTime

KINDS = ("round_opened", "round_closing_soon", "round_combined", "delivery_shortage", "payment_recorded",
         "purchase_placed", "purchase_confirmed", "purchase_delivered", "quote_received", "rfq_closed",
         "summary_ready", "line_blocked")
CHANNELS = ("line", "email")
# pending: waits for its time; sending: claimed by one sender; sent; failed: gave up (admin page);
# skipped: the channel was switched off before it went (a user who blocked the LINE account).
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "skipped")
DEFAULT_QUIET_FROM = time(21, 0)
DEFAULT_QUIET_UNTIL = time(7, 0)


class Notification(Model):
    """What a user sees in the app: one row per (event, user), written with the event."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("event_key", "user_id"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in KINDS) + ")", name="kind_known"),
    )


class Delivery(Model):
    """One message over one channel: exactly one per (event, user, channel), by the unique key."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notification: Mapped[Notification] = relationship()

    __table_args__ = (
        UniqueConstraint("event_key", "user_id", "channel"),
        Index("ix_notification_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        CheckConstraint("channel IN ('line','email')", name="channel_known"),
        CheckConstraint("state IN ('pending','sending','sent','failed','skipped')", name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
    )


class NotificationSettings(Model):
    """How a user wants to hear: e-mail, LINE (with their LINE user id), and quiet hours."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    line: Mapped[bool] = mapped_column(Boolean, default=False)
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    quiet_from: Mapped[time] = mapped_column(Time, default=DEFAULT_QUIET_FROM)
    quiet_until: Mapped[time] = mapped_column(Time, default=DEFAULT_QUIET_UNTIL)
    # Set when LINE answered that the user blocked the account: LINE stays off until they turn it on.
    line_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("NOT line OR line_user_id IS NOT NULL", name="line_needs_id"),
        # One LINE account belongs to one user: it is how LINE Login finds the user to sign in.
        UniqueConstraint("line_user_id"),
    )


class LineLinkCode(Model):
    """A one-time code a user sends to the network's LINE account to connect it (15 minutes, one use).
    Only a hash is kept: the code itself is shown once, to its user."""

    __tablename__ = "line_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[str | None] = mapped_column(String(64))


class LineLinkFailure(Model):
    """Wrong codes sent by one LINE user in the current window: too many, and codes from them are not
    even looked at until the window ends (a guesser is slowed down to a few tries an hour)."""

    __tablename__ = "line_link_failures"

    line_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("failures >= 0", name="failures_nonnegative"),)
