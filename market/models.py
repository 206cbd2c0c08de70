"""Sellers' listings and purchases inside the network."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Model, Money, UTCDateTime
from network.models import Group, User

LISTING_STATES = ("active", "paused", "closed")
PURCHASE_STATES = ("placed", "confirmed", "delivered", "cancelled")


class Listing(Model):
    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)  # the selling group
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(80), default="")
    price: Mapped[Decimal] = mapped_column(Money())
    # What a middleman pays the seller: the baseline of the seller's income gain.
    outside_price: Mapped[Decimal | None] = mapped_column(Money())
    # What buyers pay elsewhere: the baseline of the buyer's saving.
    reference_price: Mapped[Decimal | None] = mapped_column(Money())
    stock: Mapped[int] = mapped_column(Integer, default=0)
    district: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    group: Mapped[Group] = relationship()

    __table_args__ = (
        # The last guard against overselling: no code path can take stock below zero.
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
        CheckConstraint("price >= 0", name="price_nonnegative"),
        CheckConstraint("outside_price IS NULL OR outside_price >= 0", name="outside_price_nonnegative"),
        CheckConstraint("reference_price IS NULL OR reference_price >= 0", name="reference_price_nonnegative"),
        CheckConstraint("state IN ('active','paused','closed')", name="state_known"),
        Index("ix_listings_network_id_state_category", "network_id", "state", "category"),
    )


class Purchase(Model):
    __tablename__ = "market_purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    buyer_group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    seller_group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Prices copied from the listing when bought: a later price change does not rewrite history.
    unit_price: Mapped[Decimal] = mapped_column(Money())
    outside_price: Mapped[Decimal | None] = mapped_column(Money())
    reference_price: Mapped[Decimal | None] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    # Fixed at delivery, in exact money, for the monthly summary.
    income_gain: Mapped[Decimal | None] = mapped_column(Money())
    buyer_saving: Mapped[Decimal | None] = mapped_column(Money())
    state: Mapped[str] = mapped_column(String(16), default="placed")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    listing: Mapped[Listing] = relationship()
    # For the seller's incoming orders: who buys, where, and whom to call.
    buyer_group: Mapped[Group] = relationship(foreign_keys=[buyer_group_id])
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])

    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("buyer_group_id <> seller_group_id", name="not_own_listing"),
        CheckConstraint("state IN ('placed','confirmed','delivered','cancelled')", name="state_known"),
        Index("ix_market_purchases_network_id_state_delivered_at", "network_id", "state", "delivered_at"),
    )


class MarketMonthGroup(Model):
    """A group's delivered marketplace purchases and sales, added up per month of delivery (the monthly
    summary's month rule, ``core.periods``). Written in the delivery's transaction (``market.rollups``);
    money in integer satang."""

    __tablename__ = "market_month_groups"

    network_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bought_spend_s: Mapped[int] = mapped_column(BigInteger)  # as the buyer: Σ amount
    bought_savings_s: Mapped[int] = mapped_column(BigInteger)  # the buyer's saving
    bought: Mapped[int] = mapped_column(Integer)  # purchases
    sold_gain_s: Mapped[int] = mapped_column(BigInteger)  # as the seller: the income gain
    sold_amount_s: Mapped[int] = mapped_column(BigInteger)
    sold: Mapped[int] = mapped_column(Integer)  # sales
