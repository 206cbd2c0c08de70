"""What the group-order use cases return."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypedDict


class OrderLineView(TypedDict):
    offer_id: int
    quantity: int
    tolerance: int
    allocated: int | None
    unit_price: Decimal | None
    fee_share: Decimal | None
    amount: Decimal | None
    savings: Decimal | None


class GroupOrderView(TypedDict):
    """A group's order in a round, with each line's allocation once the round is combined."""

    group_id: int
    round_id: int
    updated_at: datetime | None
    lines: list[OrderLineView]
