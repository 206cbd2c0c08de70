"""One Thai style for every page, chart and message: Buddhist-era dates with Thai month names, thousands
separators on every amount and quantity, baht with two decimals, percentages with one decimal.

Each function takes the language explicitly (``lang``) or, when it is not given, the request's language,
so the same code formats a chart served over the API, a page, or a sentence of the audit log. Money is
formatted from ``Decimal`` or its string, never through ``float``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pricing.money import CENT

THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
THAI_MONTHS_FULL = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
                    "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EN_MONTHS_FULL = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")
BUDDHIST_ERA = 543
DASH = "–"


def current_lang() -> str:
    """The request's language ('th' or 'en'); 'th' outside a request."""
    try:
        from flask import g, has_request_context

        if has_request_context():
            lang = getattr(g, "locale", None)
            if lang is None:
                from flask_babel import get_locale

                lang = str(get_locale() or "th")
            return "en" if str(lang).startswith("en") else "th"
    except RuntimeError:
        pass
    return "th"


def _lang(lang: str | None) -> str:
    return lang if lang in ("th", "en") else current_lang()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)  # only ever a figure to show; money never arrives as float
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def baht(value: Any) -> str:
    """1234567.5 -> '1,234,567.50' (exact; never through float). None -> '–'."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{number.quantize(CENT):,}"


def number(value: Any) -> str:
    """A quantity or a count: 12500 -> '12,500'; a fraction keeps its decimals ('1,234.5')."""
    n = _decimal(value)
    if n is None:
        return DASH
    if n == n.to_integral_value():
        return f"{int(n):,}"
    return f"{n.normalize():,f}"


def percent(value: Any, places: int = 1) -> str:
    """A ratio as a percentage: '0.1250' -> '12.5%'; None -> '–'."""
    ratio = _decimal(value)
    if ratio is None:
        return DASH
    return f"{(ratio * 100).quantize(Decimal(1).scaleb(-places)):,}%"


def _zone(tz: str | None) -> ZoneInfo:
    if tz is None:
        try:
            from flask import has_request_context

            if has_request_context():
                from core.web import user_timezone

                tz = user_timezone()
        except RuntimeError:
            tz = None
    try:
        return ZoneInfo(tz or "Asia/Bangkok")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Bangkok")


def day(value: date | datetime | None, lang: str | None = None, full: bool = False) -> str:
    """A date: '2 ธ.ค. 2569' (Thai, Buddhist era) or '2 Dec 2026'; ``full`` spells the month out."""
    if value is None:
        return DASH
    lang = _lang(lang)
    if lang == "th":
        months = THAI_MONTHS_FULL if full else THAI_MONTHS
        return f"{value.day} {months[value.month - 1]} {value.year + BUDDHIST_ERA}"
    months = EN_MONTHS_FULL if full else EN_MONTHS
    return f"{value.day} {months[value.month - 1]} {value.year}"


def moment(value: datetime | date | None, with_time: bool = True, lang: str | None = None,
           tz: str | None = None) -> str:
    """An instant in the network's time zone: '2 ธ.ค. 2569 14:30'. A plain date is shown as a day."""
    if value is None:
        return DASH
    if not isinstance(value, datetime):
        return day(value, lang)
    local = value.astimezone(_zone(tz)) if value.tzinfo is not None else value
    text = day(local, lang)
    return f"{text} {local:%H:%M}" if with_time else text


def parse_month(month: str) -> tuple[int, int] | None:
    try:
        year, mon = (int(part) for part in str(month).split("-"))
    except ValueError:
        return None
    return (year, mon) if 1 <= mon <= 12 else None


def month(value: str | date, lang: str | None = None, full: bool = True) -> str:
    """'2026-12' (or a date) -> 'ธันวาคม 2569' / 'December 2026'; ``full=False``: 'ธ.ค. 2569'."""
    if isinstance(value, date):
        parsed: tuple[int, int] | None = (value.year, value.month)
    else:
        parsed = parse_month(value)
    if parsed is None:
        return str(value)
    year, mon = parsed
    if _lang(lang) == "th":
        return f"{(THAI_MONTHS_FULL if full else THAI_MONTHS)[mon - 1]} {year + BUDDHIST_ERA}"
    return f"{(EN_MONTHS_FULL if full else EN_MONTHS)[mon - 1]} {year}"


def month_short(value: str | date, lang: str | None = None) -> str:
    return month(value, lang, full=False)


def shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut between words: at the last space (Thai text puts one between
    a name and what follows) and marked with "…"; never mid-word unless a single word is longer than half
    the limit. Display text that fits is never shortened: pages wrap it instead."""
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    space = head.rstrip().rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip() + "…"


def promptpay(value: str | None) -> str:
    """A PromptPay id with its dashes (081-234-5678), or "–" for none."""
    from pricing.promptpay import format_promptpay_id

    return format_promptpay_id(value) if value else "–"


def phone(value: str | None) -> str:
    """A phone kept as digits (core.fields.parse_phone, the one phone rule) as people write it: 081-234-5678,
    042-411-234, 02-123-4567; anything stored before the rule as it was."""
    if not value or not value.isdigit() or len(value) not in (9, 10):
        return value or ""
    if len(value) == 10:
        return f"{value[:3]}-{value[3:6]}-{value[6:]}"
    if value.startswith("02"):
        return f"{value[:2]}-{value[2:5]}-{value[5:]}"
    return f"{value[:3]}-{value[3:6]}-{value[6:]}"


FILTERS = {
    "promptpay": promptpay, "phone": phone,
    "baht": baht, "num": number, "percent": percent, "thai_date": moment, "day": day,
    "month_label": month, "month_short": month_short,
}


def init_app(app: Any) -> None:
    """Register the filters with the app's Jinja environment."""
    app.jinja_env.filters.update(FILTERS)
