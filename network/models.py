"""Networks, member groups, users and API tokens."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Model, UTCDateTime

GROUP_KINDS = ("cooperative", "community_enterprise", "savings_group", "farmers_group", "womens_group", "other")
ROLES = ("admin", "committee", "leader", "seller")


class Network(Model):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Bangkok")
    fee_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # Where groups pay the network's invoices (pricing.promptpay.parse_promptpay_id says what is valid).
    promptpay_id: Mapped[str | None] = mapped_column(String(15))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("fee_percent >= 0 AND fee_percent <= 100", name="fee_percent_range"),)


class Group(Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="cooperative")
    district: Mapped[str] = mapped_column(String(100), default="")
    subdistrict: Mapped[str] = mapped_column(String(100), default="")
    members: Mapped[int] = mapped_column(Integer, default=0)
    registered_poor_members: Mapped[int] = mapped_column(Integer, default=0)
    # Where the group's households pay their bills (to the group's treasurer).
    promptpay_id: Mapped[str | None] = mapped_column(String(15))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    network: Mapped[Network] = relationship()

    __table_args__ = (
        UniqueConstraint("network_id", "name"),
        CheckConstraint("members >= 0", name="members_nonnegative"),
        CheckConstraint(
            "registered_poor_members >= 0 AND registered_poor_members <= members", name="poor_within_members"
        ),
        CheckConstraint(
            "kind IN ('cooperative','community_enterprise','savings_group','farmers_group','womens_group','other')",
            name="kind_known",
        ),
    )


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout and password change: every session cookie issued before is void.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    network: Mapped[Network] = relationship()
    group: Mapped[Group | None] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('admin','committee','leader','seller')", name="role_known"),
        CheckConstraint("role NOT IN ('leader','seller') OR group_id IS NOT NULL", name="group_for_group_roles"),
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Only the SHA-256 of the token is kept: a leaked table grants nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
