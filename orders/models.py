"""Suppliers, products, buying rounds, offers, group orders, purchase orders, allocations, invoices."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from core.clock import utcnow
from core.db import Model, Money, UTCDateTime, satang_to_baht
from pricing.baht_words import baht_words

ROUND_STATES = ("draft", "open", "closed", "combined", "delivered", "settled")


class Supplier(Model):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")

    __table_args__ = (UniqueConstraint("network_id", "name"),)


class Product(Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(80), default="")

    __table_args__ = (UniqueConstraint("network_id", "name", "unit"),)


class BuyingRound(Model):
    __tablename__ = "buying_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    combined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the combine failed for good (state 'combine_failed'), in plain words for the committee.
    failure: Mapped[str | None] = mapped_column(Text)

    offers: Mapped[list[Offer]] = relationship(back_populates="round", order_by="Offer.id")
    supplier_fees: Mapped[list[RoundSupplierFee]] = relationship(order_by="RoundSupplierFee.supplier_id",
                                                                 cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(
            "state IN ('draft','open','closed','combine_failed','combined','delivered','settled')", name="state_known"
        ),
        Index("ix_buying_rounds_state_closes_at", "state", "closes_at"),
    )


class Offer(Model):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    pack_size: Mapped[int] = mapped_column(Integer)
    min_quantity: Mapped[int] = mapped_column(Integer, default=0)
    reference_price: Mapped[Decimal] = mapped_column(Money())
    delivery_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))

    round: Mapped[BuyingRound] = relationship(back_populates="offers")
    product: Mapped[Product] = relationship()
    supplier: Mapped[Supplier] = relationship()
    tiers: Mapped[list[PriceTier]] = relationship(order_by="PriceTier.min_quantity", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("pack_size >= 1", name="pack_size_positive"),
        CheckConstraint("min_quantity >= 0", name="min_quantity_nonnegative"),
        CheckConstraint("reference_price >= 0", name="reference_price_nonnegative"),
        CheckConstraint("delivery_fee >= 0", name="delivery_fee_nonnegative"),
    )


class PriceTier(Model):
    __tablename__ = "price_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    min_quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (
        UniqueConstraint("offer_id", "min_quantity"),
        CheckConstraint("min_quantity >= 0", name="min_quantity_nonnegative"),
        CheckConstraint("unit_price >= 0", name="unit_price_nonnegative"),
    )


class GroupOrder(Model):
    __tablename__ = "group_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.offer_id", cascade="all, delete-orphan")

    # One order per group per round, guaranteed by the database even when two PUTs race.
    __table_args__ = (UniqueConstraint("round_id", "group_id"),)


class OrderLine(Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_order_id: Mapped[int] = mapped_column(ForeignKey("group_orders.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    tolerance: Mapped[int] = mapped_column(Integer, default=0)
    # The first save of this line: earlier lines win allocation ties, so replacing an order keeps it.
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("group_order_id", "offer_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("tolerance >= 0", name="tolerance_nonnegative"),
    )


class PurchaseOrder(Model):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    value: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    delivery_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    network_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[PurchaseOrderLine]] = relationship(order_by="PurchaseOrderLine.offer_id")

    # The combine job may run twice or in parallel: this, not a prior SELECT, keeps it to one.
    __table_args__ = (UniqueConstraint("round_id", "supplier_id"),)


class PurchaseOrderLine(Model):
    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    total_quantity: Mapped[int] = mapped_column(Integer)
    total_tolerance: Mapped[int] = mapped_column(Integer)
    packs: Mapped[int] = mapped_column(Integer)
    ordered_quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(Money())
    tier_min_quantity: Mapped[int | None] = mapped_column(Integer)
    received_quantity: Mapped[int | None] = mapped_column(Integer)

    offer: Mapped[Offer] = relationship()

    __table_args__ = (
        CheckConstraint("ordered_quantity >= 0 AND packs >= 0", name="quantities_nonnegative"),
        CheckConstraint("received_quantity IS NULL OR received_quantity >= 0", name="received_nonnegative"),
    )


class Allocation(Model):
    """One order line's share of its purchase order, written by the combine in one INSERT ... SELECT.

    Keyed by (round, group, order line): one allocation per line (round and group are the line's
    own), in the order the reads use. No foreign keys and no other index: every id is taken from
    the rows the same transaction reads or writes, so they hold by construction, and each would
    cost a lookup or an index insert per row (docs/performance.md).

    Money is stored as integer satang (``*_satang``, exact, and several times cheaper to write and to
    add up than ``numeric``); the amount and the savings are not stored at all, they follow from the
    rest (``pricing.line_amount``, ``pricing.line_savings``). The attributes ``unit_price``,
    ``reference_price``, ``alone_price``, ``fee_share``, ``amount`` and ``savings`` read them back as
    baht (``Decimal``), computed by the database in the same SELECT, so every reader of an allocation
    sees the figures it always did. SQL written by hand reads the satang columns (``satang_to_baht``).
    """

    __tablename__ = "allocations"

    round_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(Integer)
    purchase_order_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    # As combined; `allocated` is the same until a delivery shortage re-allocates it.
    ordered_allocation: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer)
    # None where the offer was not ordered (minimum not met): no price was reached.
    unit_price_satang: Mapped[int | None] = mapped_column(BigInteger)
    reference_price_satang: Mapped[int] = mapped_column(BigInteger)
    alone_price_satang: Mapped[int] = mapped_column(BigInteger)
    fee_share_satang: Mapped[int] = mapped_column(BigInteger)

    # The same figures in baht, and the two derived ones, as the database computes them on read.
    unit_price: Mapped[Decimal | None] = column_property(satang_to_baht(unit_price_satang))
    reference_price: Mapped[Decimal] = column_property(satang_to_baht(reference_price_satang))
    alone_price: Mapped[Decimal] = column_property(satang_to_baht(alone_price_satang))
    fee_share: Mapped[Decimal] = column_property(satang_to_baht(fee_share_satang))
    # pricing.line_amount: allocated × price + fee share (no price reached: the fee share alone).
    amount: Mapped[Decimal] = column_property(satang_to_baht(
        func.coalesce(allocated * unit_price_satang, 0) + fee_share_satang))
    # pricing.line_savings: allocated × (reference price − price) − fee share.
    savings: Mapped[Decimal] = column_property(satang_to_baht(
        allocated * (reference_price_satang - func.coalesce(unit_price_satang, 0)) - fee_share_satang))

    __table_args__ = (
        CheckConstraint("allocated >= 0 AND ordered_allocation >= 0", name="allocated_nonnegative"),
        CheckConstraint("fee_share_satang >= 0", name="fee_share_nonnegative"),
    )


def allocation_amount_sql(alias: str) -> str:
    """``Allocation.amount`` in satang, for SQL written by hand over ``allocations {alias}``."""
    return f"(coalesce({alias}.allocated * {alias}.unit_price_satang, 0) + {alias}.fee_share_satang)"


def allocation_savings_sql(alias: str) -> str:
    """``Allocation.savings`` in satang, for SQL written by hand over ``allocations {alias}``."""
    return (f"({alias}.allocated * ({alias}.reference_price_satang - coalesce({alias}.unit_price_satang, 0))"
            f" - {alias}.fee_share_satang)")


class Invoice(Model):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    total: Mapped[Decimal] = mapped_column(Money())
    paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    savings: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def outstanding(self) -> Decimal:
        """Still to pay (0 when paid in full or more)."""
        return max(self.total - self.paid, Decimal("0.00"))

    @property
    def credit(self) -> Decimal:
        """Paid beyond the total: a delivery came short after the group had paid. Owed back to the group."""
        return max(self.paid - self.total, Decimal("0.00"))

    __table_args__ = (
        UniqueConstraint("round_id", "group_id"),
        # No "paid <= total": a delivery short after full payment leaves the group in credit (docs/delivery.md).
        CheckConstraint("paid >= 0", name="paid_nonnegative"),
    )


PAYMENT_METHODS = ("cash", "promptpay", "transfer")
SLIP_STATES = ("read", "check_by_eye")


class Payment(Model):
    """A payment on an invoice, and its receipt (ใบเสร็จรับเงิน): never changed once written."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    method: Mapped[str] = mapped_column(String(16), default="cash", server_default="cash")
    # "<Buddhist-era year>/<six digits>", per network, without gaps (orders/receipt_numbers.py).
    receipt_number: Mapped[str] = mapped_column(String(16))
    # The bank's reference read from the transfer slip's QR: one payment per reference (a slip used twice).
    bank_ref: Mapped[str | None] = mapped_column(String(80))
    slip_state: Mapped[str | None] = mapped_column(String(16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    cancellation: Mapped[PaymentCancellation | None] = relationship(viewonly=True, lazy="selectin")

    @property
    def amount_words(self) -> str:
        return baht_words(self.amount)

    @property
    def cancellation_number(self) -> str | None:
        return self.cancellation.number if self.cancellation is not None else None

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("method IN ('cash','promptpay','transfer')", name="method_known"),
        CheckConstraint("slip_state IS NULL OR slip_state IN ('read','check_by_eye')", name="slip_state_known"),
        UniqueConstraint("network_id", "receipt_number"),
        UniqueConstraint("network_id", "bank_ref"),
    )


class PaymentSlip(Model):
    """The photo of a bank transfer slip sent with a payment, kept as it came."""

    __tablename__ = "payment_slips"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PaymentCancellation(Model):
    """The document that cancels a receipt (ใบยกเลิกใบเสร็จรับเงิน): the receipt itself is never changed.

    Numbered in its own series per network and Buddhist-era year, so receipt numbers keep no gaps."""

    __tablename__ = "payment_cancellations"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(viewonly=True)

    __table_args__ = (UniqueConstraint("network_id", "number"),)


class ReceiptCounter(Model):
    """The last number a network issued in a Buddhist-era year in a series (receipts, cancellations): one row,
    locked while a payment is written, so that numbers are issued in order without gaps or duplicates."""

    __tablename__ = "receipt_counters"

    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True, default="receipt", server_default="receipt")
    last_number: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("last_number >= 1", name="last_number_positive"),)


class RoundSupplierFee(Model):
    """A supplier's delivery fee for the whole round (besides its offers' own fees): charged once on its
    purchase order when at least one of its offers is ordered, and shared by line value like the others."""

    __tablename__ = "round_supplier_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("buying_rounds.id", ondelete="CASCADE"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    delivery_fee: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (
        UniqueConstraint("round_id", "supplier_id"),
        CheckConstraint("delivery_fee >= 0", name="delivery_fee_nonnegative"),
    )


class AllocationMonthOffer(Model):
    """An offer's allocations added up, counted in the month its purchase order was received (the monthly
    summary's month rule, ``core.periods``). Written in the receipt's transaction (``orders.rollups``);
    money in integer satang. An offer is on one purchase order, so it has one row."""

    __tablename__ = "allocation_month_offers"

    offer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))
    purchase_order_id: Mapped[int] = mapped_column(Integer)
    actual_s: Mapped[int] = mapped_column(BigInteger)  # Σ allocated × price reached
    baseline_s: Mapped[int] = mapped_column(BigInteger)  # Σ allocated × reference price
    fees_s: Mapped[int] = mapped_column(BigInteger)
    spend_s: Mapped[int] = mapped_column(BigInteger)  # Σ amount
    pooling_s: Mapped[int] = mapped_column(BigInteger)  # Σ allocated × (alone price − price reached)
    allocated: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_allocation_month_offers_network_month", "network_id", "month"),)


class AllocationMonthGroup(Model):
    """A group's allocations in one round, added up per month of receipt (a round's purchase orders may be
    received in different months). Same figures and same writer as ``AllocationMonthOffer``."""

    __tablename__ = "allocation_month_groups"

    network_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actual_s: Mapped[int] = mapped_column(BigInteger)
    baseline_s: Mapped[int] = mapped_column(BigInteger)
    fees_s: Mapped[int] = mapped_column(BigInteger)
    spend_s: Mapped[int] = mapped_column(BigInteger)
    pooling_s: Mapped[int] = mapped_column(BigInteger)
    allocated: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer)
