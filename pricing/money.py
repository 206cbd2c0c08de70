"""Exact money and ratio arithmetic: Decimal quantised to the satang, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# The money constants, defined once: nothing, one satang, a ratio's four places.
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RATIO = Decimal("0.0001")


def _to_decimal(x: Decimal | int | str) -> Decimal:
    # bool is an int subclass and float is inexact: both would silently corrupt money.
    if isinstance(x, bool) or not isinstance(x, (Decimal, int, str)):
        raise TypeError(f"money must be Decimal, int or str, not {type(x).__name__}")
    d = Decimal(x)
    if not d.is_finite():
        raise ValueError(f"money must be finite, got {x!r}")
    return d


def money(x: Decimal | int | str) -> Decimal:
    """Quantise to 0.01 baht, half up."""
    return _to_decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def to_satang(x: Decimal) -> int:
    """Whole satang; sub-satang input is first rounded half up like any money value."""
    return int(money(x).scaleb(2))


def from_satang(n: int) -> Decimal:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"satang must be int, not {type(n).__name__}")
    return Decimal(n).scaleb(-2).quantize(CENT)


def round_half_up(q: Fraction, exp: Decimal) -> Decimal:
    """Round an exact rational to the exponent of `exp`, ties away from zero.

    Working on Fractions avoids the double rounding a 28-digit Decimal division
    could introduce before the final quantise.
    """
    exponent = exp.as_tuple().exponent
    # Only finite exponents of 0 or below name a count of decimal places.
    places = -exponent if isinstance(exponent, int) else -1
    if places < 0:
        raise ValueError(f"exp must be a finite power of ten <= 1, got {exp!r}")
    scale = 10**places
    scaled = abs(q) * scale
    n = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    if q < 0:
        n = -n
    return Decimal(n).scaleb(-places).quantize(exp)


def _satang(d: Decimal) -> int | None:
    """d as a whole number of satang when it has at most two places (exactly), else None."""
    scaled = d.scaleb(2)
    return int(scaled) if scaled == scaled.to_integral_value() else None


def half_up_quotient(num: int, den: int) -> int:
    """num/den rounded to a whole number, ties away from zero, in integers (den > 0): what ``round_half_up``
    does to the same rational, without building it (the monthly summary asks thousands of times)."""
    n = (abs(num) * 2 + den) // (2 * den)
    return -n if num < 0 else n


def ratio(num: Decimal, den: Decimal) -> Decimal | None:
    """num/den to four places, half up; None when den is 0 (no basis to compare)."""
    n = _to_decimal(num)
    d = _to_decimal(den)
    if d == 0:
        return None
    a, b = _satang(n), _satang(d)
    if a is not None and b is not None:  # money over money: the same rounding in integers
        if b < 0:
            a, b = -a, -b
        return Decimal(half_up_quotient(a * 10_000, b)).scaleb(-4).quantize(RATIO)
    return round_half_up(Fraction(n) / Fraction(d), RATIO)
