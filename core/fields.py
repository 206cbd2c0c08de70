"""marshmallow fields for exact money and the other shapes of the API contract."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate

CENT = Decimal("0.01")


class Money(fields.Field[Decimal]):
    """Baht as a decimal string with two places; refuses floats' cousins: NaN, >2 places, negatives."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal", "example": "1250.50",
                                                  "pattern": r"^-?\d+(\.\d{1,2})?$"})
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(Decimal(value).quantize(CENT))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError("Must be an amount in baht, such as \"1250.50\".")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValidationError("Must be an amount in baht, such as \"1250.50\".") from exc
        if not amount.is_finite():
            raise ValidationError("Must be an amount in baht, such as \"1250.50\".")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(CENT):
            raise ValidationError("At most two decimal places (satang).")
        if amount < 0 and not self.allow_negative:
            raise ValidationError("Must not be negative.")
        if abs(amount) >= Decimal("10000000000"):
            raise ValidationError("Amount is too large.")
        return amount.quantize(CENT)


class Percent(Money):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount > 100:
            raise ValidationError("Must be between 0 and 100.")
        return amount


class Ratio(fields.Field[Decimal]):
    """A ratio to four decimal places, as a decimal string (exact, like money)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal", "nullable": True})
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(Decimal(value).quantize(Decimal("0.0001")))


class Quantity(fields.Integer):
    """Whole base units; refuses 1.5 and "3" alike."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


# Ids are PostgreSQL integers: a larger number names nothing and is refused (422), not sent to the database.
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(min=1, max=MAX_ID)
