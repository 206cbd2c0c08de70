"""Requests for quotation, their items and invited suppliers, and the suppliers' quotes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Model, Money, UTCDateTime
from orders.models import Product, Supplier

RFQ_STATES = ("open", "awarded")


class Rfq(Model):
    """A request for quotation. Open until awarded; quotes are taken until ``closes_at``."""

    __tablename__ = "rfqs"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="open")
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The draft buying round the award created; one round per request.
    round_id: Mapped[int | None] = mapped_column(ForeignKey("buying_rounds.id"), unique=True)
    awarded_total: Mapped[Decimal | None] = mapped_column(Money())

    items: Mapped[list[RfqItem]] = relationship(order_by="RfqItem.product_id", cascade="all, delete-orphan")
    invitations: Mapped[list[Invitation]] = relationship(order_by="Invitation.supplier_id",
                                                         cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("state IN ('open','awarded')", name="state_known"),
        # Awarded exactly when it has its award time, round and total.
        CheckConstraint(
            "(state = 'awarded') = (awarded_at IS NOT NULL AND round_id IS NOT NULL AND awarded_total IS NOT NULL)",
            name="award_complete"),
        CheckConstraint("awarded_total IS NULL OR awarded_total >= 0", name="awarded_total_nonnegative"),
    )


class RfqItem(Model):
    """A product of the request, the quantity the network expects to buy, and the shop price."""

    __tablename__ = "rfq_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfqs.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reference_price: Mapped[Decimal] = mapped_column(Money())
    # Set by the award (None: not awarded, or no eligible quote).
    awarded_supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))

    product: Mapped[Product] = relationship()

    __table_args__ = (
        UniqueConstraint("rfq_id", "product_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("reference_price >= 0", name="reference_price_nonnegative"),
    )


class Invitation(Model):
    """A supplier asked to quote. Its private link carries a random token; only its hash is stored."""

    __tablename__ = "rfq_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfqs.id", ondelete="CASCADE"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supplier: Mapped[Supplier] = relationship()
    quote: Mapped[Quote | None] = relationship(back_populates="invitation", uselist=False,
                                               cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("rfq_id", "supplier_id"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
    )


class Quote(Model):
    """One supplier's answer: one delivery fee for the whole order, and a line per product it quotes."""

    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("rfq_invitations.id", ondelete="CASCADE"), unique=True)
    delivery_fee: Mapped[Decimal] = mapped_column(Money())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    invitation: Mapped[Invitation] = relationship(back_populates="quote")
    lines: Mapped[list[QuoteLine]] = relationship(order_by="QuoteLine.product_id", cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("delivery_fee >= 0", name="delivery_fee_nonnegative"),)


class QuoteLine(Model):
    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    pack_size: Mapped[int] = mapped_column(Integer)
    min_quantity: Mapped[int] = mapped_column(Integer, default=0)

    tiers: Mapped[list[QuoteTier]] = relationship(order_by="QuoteTier.min_quantity", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("quote_id", "product_id"),
        CheckConstraint("pack_size >= 1", name="pack_size_positive"),
        CheckConstraint("min_quantity >= 0", name="min_quantity_nonnegative"),
    )


class QuoteTier(Model):
    __tablename__ = "quote_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_line_id: Mapped[int] = mapped_column(ForeignKey("quote_lines.id", ondelete="CASCADE"))
    min_quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (
        UniqueConstraint("quote_line_id", "min_quantity"),
        CheckConstraint("min_quantity >= 0", name="min_quantity_nonnegative"),
        CheckConstraint("unit_price >= 0", name="unit_price_nonnegative"),
    )
