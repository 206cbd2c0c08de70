"""The one field module: how every entry point (API, pages, CSV import, CLI, jobs) reads money,
whole numbers, ids and text, and the checks services apply to values whatever their source.

Parsing (``parse_money``, ``parse_int``) turns text into a value or raises :class:`FieldError`;
``require_*`` check a value a service was given and raise :class:`core.errors.InvalidInput` naming the
field. The marshmallow fields below use the same functions, so the API refuses what the pages refuse.
Business rules (tiers, pack rounding, ...) are in ``pricing/``; this module knows only shapes and ranges.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.errors import InvalidInput, Msg
from core.format import THAI_MONTHS, THAI_MONTHS_FULL
from pricing.money import CENT

# Numeric(12, 2): ten digits before the point.
MAX_MONEY = Decimal("9999999999.99")
# Ids are PostgreSQL integers: a larger number names nothing and is refused (422), not sent to the database.
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(min=1, max=MAX_ID)
# A quantity of base units (kg, bottles, sacks) in one line, stock or tier: far above any real order and
# small enough that quantity x price stays inside Numeric(12, 2) arithmetic and 64-bit sums.
MAX_QUANTITY = 100_000_000
# Any other whole number kept in an INTEGER column (members, attendance, ...).
MAX_INT = 2**31 - 1

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# [0-9], not \d: \d also matches Arabic-Indic and other scripts' digits, which int() and Decimal() read.
_MONEY_RE = re.compile(r"^(-?)([0-9]{1,10})(?:\.([0-9]{1,2}))?$")
_INT_RE = re.compile(r"^-?[0-9]{1,30}$")
_GROUPED_RE = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")

MONEY_MESSAGE = 'Must be an amount in baht, such as "1250.50".'


class FieldError(ValueError):
    """Text that is not a value of the field's kind; ``code`` says why (for messages in any language)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


def parse_thai_digits(text: str) -> str:
    """The one rule for Thai digits: ๐-๙ read as 0-9, surrounding spaces dropped. Every numeric field of
    every entry point (pages, API money, CSV, the supplier's link) reads its text through this; the
    pages' script mirrors it (``core/static/app.js`` ``readNumber``), and a test runs both."""
    return text.translate(_THAI_DIGITS).strip()


normalize_digits = parse_thai_digits  # the older name


def _ungroup(text: str, grouping: bool) -> str:
    # "1,250.50" on a page or in a CSV file; the API takes plain digits only.
    if grouping and _GROUPED_RE.match(text):
        return text.replace(",", "")
    return text


def parse_money(value: Any, *, allow_negative: bool = False, grouping: bool = False) -> Decimal:
    """Digits with at most two decimals -> Decimal quantised to the satang.

    No exponent ("1e3"), no NaN or Infinity, no float cousins, nothing outside Numeric(12, 2)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise FieldError("money", MONEY_MESSAGE)
    if isinstance(value, Decimal):  # a value already parsed (a service's caller): same rules, by value
        if not value.is_finite():
            raise FieldError("money", MONEY_MESSAGE)
        if abs(value) > MAX_MONEY:
            raise FieldError("too_large", "Amount is too large.")
        if value != value.quantize(CENT):
            raise FieldError("decimals", "At most two decimal places (satang).")
        value = format(value, "f")
    text = parse_thai_digits(str(value))
    if "\x00" in text:
        raise FieldError("money", MONEY_MESSAGE)
    match = _MONEY_RE.match(_ungroup(text, grouping))
    if match is None:
        if re.match(r"^-?[0-9]+\.[0-9]{3,}$", text):
            raise FieldError("decimals", "At most two decimal places (satang).")
        if re.match(r"^-?[0-9]{11,}(\.[0-9]*)?$", text):
            raise FieldError("too_large", "Amount is too large.")
        raise FieldError("money", MONEY_MESSAGE)
    sign, whole, cents = match.groups()
    amount = Decimal(f"{sign}{whole}.{cents or '0'}").quantize(CENT) + 0  # + 0: no "-0.00"
    if amount < 0 and not allow_negative:
        raise FieldError("negative", "Must not be negative.")
    if abs(amount) > MAX_MONEY:
        raise FieldError("too_large", "Amount is too large.")
    return amount


def money_or_none(value: Any, **kwargs: Any) -> Decimal | None:
    try:
        return parse_money(value, **kwargs)
    except FieldError:
        return None


def parse_int(value: Any, *, minimum: int = 0, maximum: int = MAX_INT, grouping: bool = False) -> int:
    """A whole number within [minimum, maximum]; never an OverflowError further down."""
    if isinstance(value, bool):
        raise FieldError("integer", "Must be a whole number.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = _ungroup(parse_thai_digits(value), grouping)
        if not _INT_RE.match(text):
            if re.match(r"^-?[0-9]{31,}$", text):
                raise FieldError("too_big", f"Must be at most {maximum:,}.", n=f"{maximum:,}")
            raise FieldError("integer", "Must be a whole number.")
        number = int(text)
    else:
        raise FieldError("integer", "Must be a whole number.")
    if number < minimum:
        if minimum == 0:
            raise FieldError("negative", "Must not be negative.")
        raise FieldError("too_small", f"Must be at least {minimum:,}.", n=f"{minimum:,}")
    if number > maximum:
        raise FieldError("too_big", f"Must be at most {maximum:,}.", n=f"{maximum:,}")
    return number


def int_or_none(value: Any, **kwargs: Any) -> int | None:
    try:
        return parse_int(value, **kwargs)
    except FieldError:
        return None


# What a spreadsheet reads as a formula when the cell is opened (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@")


# Sara am (ำ) typed as nikhahit + sara aa (ํ + า), as some keyboards and fonts do, and the tone mark typed after it.
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
_AM_THEN_TONE = re.compile("\u0e33([\u0e48-\u0e4b])")
# The same, as SQL over a stored column (PostgreSQL and SQLite): the common spelling ํา.
SARA_AM_TYPED = "\u0e4d\u0e32"


def thai_text(text: str) -> str:
    """One spelling for Thai text that looks the same on the screen, so that names typed two ways match: Unicode
    NFC, sara am typed as two characters (ํา, with or without a tone mark between) written as the one character ำ,
    and a tone mark typed after sara am put before it (น้ำ). Every text the field module reads goes through it."""
    text = unicodedata.normalize("NFC", text)
    if "\u0e4d" in text or "\u0e33" in text:
        text = _SARA_AM.sub(lambda m: m.group(1) + "\u0e33", text)
        text = _AM_THEN_TONE.sub(lambda m: m.group(1) + "\u0e33", text)
    return text


def clean_text(value: Any, *, max_length: int, required: bool = False, formula: bool = True) -> str:
    """Text as stored: stripped, no NUL or other control characters but newline and tab, within its length.

    ``formula=False`` (cells of an imported spreadsheet) also refuses text that starts like a formula
    (``=cmd|...``, ``+``, ``-``, ``@``): it is either a formula the file kept instead of its value, or an attack
    on whoever opens the next export."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError("text", "Must be text.")
    if any(ord(c) < 32 and c not in "\n\t\r" for c in value) or "\x7f" in value:
        raise FieldError("control", "Must not contain control characters.")
    text = thai_text(value.strip())
    if required and not text:
        raise FieldError("required", "Must not be empty.")
    if len(text) > max_length:
        raise FieldError("too_long", f"At most {max_length:,} characters.", n=f"{max_length:,}")
    if not formula and text.startswith(FORMULA_START):
        raise FieldError("formula", "Must not start with =, +, - or @ (a spreadsheet formula).")
    return text


# --- checks a service applies to the values it is given, whatever the entry point ----------------

def _invalid(field: str, error: FieldError) -> InvalidInput:
    # The pages show the message by its code ("field_money", ...) in the user's language (core.pages).
    return InvalidInput(Msg(f"{field}: {error.message}", "field_invalid", field=field),
                        {field: [field_message(error)]})


def field_message(error: FieldError) -> Msg:
    """A parse error as a field message: English text for the API, a code the pages translate."""
    return Msg(error.message, f"field_{error.code}", **error.params)


def read_form_quantity(text: Any, *, minimum: int = 0) -> int:
    """What a person typed in a quantity box (Thai digits, "1,000"), with the bounds the API applies."""
    return parse_int(text if text is not None else "", minimum=minimum, maximum=MAX_QUANTITY, grouping=True)


def read_form_money(text: Any) -> Decimal:
    """What a person typed in an amount box (Thai digits, "1,250.50"), with the bounds the API applies."""
    return parse_money(text if text is not None else "", grouping=True)


class Checks:
    """A service's checks of several fields, refused once naming every wrong field (not only the first):
    ``value = checks.take(lambda: require_text("name", ...))`` for each, then ``checks.done()``."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.first: InvalidInput | None = None

    def take(self, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except InvalidInput as exc:
            self.first = self.first or exc
            self.fields.update(exc.fields or {})
            return None

    def done(self) -> None:
        if self.first is not None:
            raise InvalidInput(self.first.message, self.fields, **self.first.extra)


def require_money(field: str, value: Any, *, allow_negative: bool = False, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    try:
        return parse_money(value, allow_negative=allow_negative)
    except FieldError as exc:
        raise _invalid(field, exc) from exc


def require_int(field: str, value: Any, *, minimum: int = 0, maximum: int = MAX_INT,
                optional: bool = False) -> Any:
    if value is None and optional:
        return None
    try:
        return parse_int(value, minimum=minimum, maximum=maximum)
    except FieldError as exc:
        raise _invalid(field, exc) from exc


def require_quantity(field: str, value: Any, *, minimum: int = 0) -> int:
    return int(require_int(field, value, minimum=minimum, maximum=MAX_QUANTITY))


def require_text(field: str, value: Any, *, max_length: int, required: bool = False, formula: bool = True) -> str:
    try:
        return clean_text(value, max_length=max_length, required=required, formula=formula)
    except FieldError as exc:
        raise _invalid(field, exc) from exc


def require_promptpay_id(field: str, value: Any) -> str | None:
    """A PromptPay id as digits (pricing.promptpay says which are valid), or None to clear it ("" or null)."""
    from pricing.promptpay import PromptPayIdError, parse_promptpay_id

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(Msg(f"{field}: must be text.", "field_invalid", field=field),
                           {field: [Msg("Must be text.", "field_text")]})
    try:
        return parse_promptpay_id(value)
    except PromptPayIdError as exc:
        raise InvalidInput(Msg(str(exc), exc.code), {field: [Msg(str(exc), exc.code)]}) from exc


def promptpay_problem(value: Any) -> Msg | None:
    """Why a PromptPay id would be refused (for a page listing it with its other mistakes), or None."""
    from pricing.promptpay import PromptPayIdError, parse_promptpay_id

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        parse_promptpay_id(str(value))
    except PromptPayIdError as exc:
        return Msg(str(exc), exc.code)
    return None


# --- marshmallow fields of the API contract (the same rules) ------------------------------------
class Money(fields.Field[Decimal]):
    """Baht as a decimal string with two places; refuses floats' cousins: NaN, >2 places, negatives."""

    # What parse_money accepts, for the document: ten digits before the point, two after, a sign only
    # where the field allows one.
    PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        pattern = self.PATTERN.replace("^", "^-?", 1) if allow_negative else self.PATTERN
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal", "example": "1250.50",
                                                  "pattern": pattern})
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(Decimal(value).quantize(CENT))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        # A JSON number is read by its text ("1e3" and 1e3 alike are refused); a float never becomes money.
        if isinstance(value, float):
            value = repr(value)
        try:
            return parse_money(value, allow_negative=self.allow_negative)
        except FieldError as exc:
            raise ValidationError(exc.message) from exc


class Percent(Money):
    PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"  # 0 to 100, two decimals

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
    """Whole base units; refuses 1.5 and "3" alike, and anything beyond ``MAX_QUANTITY`` unless told."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", validate.Range(min=0, max=MAX_QUANTITY))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):
            # Text is refused, never read as nothing; say what to send (the pages read Thai digits).
            try:
                example = f"{parse_int(value, minimum=-MAX_INT, maximum=MAX_INT, grouping=True):d}"
            except FieldError:
                example = "30"
            raise ValidationError(f"Send a whole number as a JSON number, such as {example}, not text.")
        return int(super()._deserialize(value, attr, data, **kwargs))

# --- a phone number kept for a household (PDPA: optional, and only this) --------------------------

_PHONE_RE = re.compile(r"^0[0-9]{8,9}$")


def parse_phone(value: Any) -> str | None:
    """A Thai phone number as digits only ("081-234-5678", "+66 81 234 5678", Thai digits); None when blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("text", "Must be text.")
    digits = "".join(normalize_digits(value).replace("-", " ").split())
    if not digits:
        return None
    if digits.startswith("+66"):
        digits = "0" + digits[3:]
    if not _PHONE_RE.match(digits):
        raise FieldError("phone", "A Thai phone number: 9 or 10 digits starting with 0.")
    return digits


def require_phone(field: str, value: Any) -> str | None:
    try:
        return parse_phone(value)
    except FieldError as exc:
        raise _invalid(field, exc) from exc
class PatchSchema(Schema):
    """A PATCH body: the fields to change, at least one. An empty patch (no body, ``{}``) is a client's
    mistake, refused with 422; the document says so (``minProperties: 1``, through core.api)."""

    class Meta:
        min_properties = 1

    @validates_schema
    def _something_to_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.")


# --- a date as a Thai person writes it: day / month / Buddhist-era year -----------------------------
# The one rule for every date box of every page (core.pages.ThaiDateField, ThaiDateTimeField): the
# browser's own date picker shows a Gregorian date in the phone's format (often the US's 11/28/2026)
# and gives no Buddhist year, so the pages use a text box read by this.

BUDDHIST_ERA = 543
# The Thai month names, full and short ("พฤศจิกายน", "พ.ย."), and the short form without dots ("พย").
_MONTH_NAMES: dict[str, int] = {}
for _number, (_full, _short) in enumerate(zip(THAI_MONTHS_FULL, THAI_MONTHS, strict=True), start=1):
    _MONTH_NAMES[_full] = _number
    _MONTH_NAMES[_short] = _number
    _MONTH_NAMES[_short.replace(".", "")] = _number
_NUMERIC_DATE_RE = re.compile(r"^([0-9]{1,2})\s*[/\-.]\s*([0-9]{1,2})\s*[/\-.]\s*([0-9]{2}|[0-9]{4})$")
_NAMED_DATE_RE = re.compile(r"^([0-9]{1,2})\s*([^\s0-9]+)\s*(?:พ\.?\s?ศ\.?)?\s*([0-9]{2}|[0-9]{4})$")
# A year first: the ISO form a page's older copy, a queued offline post or a script sends ("2026-11-28").
_ISO_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_TIME_RE = re.compile(r"^([0-9]{1,2})(?:\s*[:.]\s*([0-9]{2}))?\s*(?:น\.?)?$")
DATE_EXAMPLE = "28/11/2569"


def _be_year(text: str) -> int:
    """A year as written: 2569 (Buddhist era), 69 (its last two digits), or 2026 (the Christian era, read as
    such: no Buddhist year below 2400 is a date anyone means). Returned in the Christian era."""
    year = int(text)
    if len(text) == 2:
        return 2500 + year - BUDDHIST_ERA
    if year >= 2400:
        return year - BUDDHIST_ERA
    if 1900 <= year < 2400:
        return year
    raise FieldError("date_year", f"The year {year} is not a Buddhist-era year such as 2569.", year=text)


def parse_thai_date(value: Any) -> date:
    """A day written the Thai way: "28/11/2569", "28-11-69", "28 พ.ย. 2569", "28 พฤศจิกายน 2569", in Thai or
    Arabic digits; the year in the Buddhist era (2569; "2026" is read as the Christian year it is)."""
    if not isinstance(value, str):
        raise FieldError("date", f"A date such as {DATE_EXAMPLE} (day/month/Buddhist year).")
    text = " ".join(parse_thai_digits(value).split())
    if not text:
        raise FieldError("required", "Must not be empty.")
    iso = _ISO_DATE_RE.match(text)
    numeric = None if iso else _NUMERIC_DATE_RE.match(text)
    named = None if iso or numeric else _NAMED_DATE_RE.match(text)
    if iso:
        year_text, month_text, day_text = iso.groups()
        month = int(month_text)
    elif numeric:
        day_text, month_text, year_text = numeric.groups()
        month = int(month_text)
    elif named:
        day_text, month_name, year_text = named.groups()
        found = _MONTH_NAMES.get(month_name) or _MONTH_NAMES.get(month_name.replace(".", ""))
        if found is None:
            raise FieldError("date", f"A date such as {DATE_EXAMPLE} (day/month/Buddhist year).")
        month = found
    else:
        raise FieldError("date", f"A date such as {DATE_EXAMPLE} (day/month/Buddhist year).")
    year = _be_year(year_text)
    if not 1 <= month <= 12:
        raise FieldError("date_month", "The month must be 1 to 12.")
    try:
        return date(year, month, int(day_text))
    except ValueError:
        raise FieldError("date_day", f"{THAI_MONTHS_FULL[month - 1]} {year + BUDDHIST_ERA} has no day {int(day_text)}.",
                         day=str(int(day_text)), month=THAI_MONTHS_FULL[month - 1],
                         year=str(year + BUDDHIST_ERA)) from None


def parse_thai_time(value: Any) -> time:
    """A time of day on the 24-hour clock as Thais write it: "17:00", "17.00 น.", "๑๗.๓๐", "9"."""
    text = " ".join(parse_thai_digits(str(value or "")).split())
    match = _TIME_RE.match(text)
    if match is None or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
        raise FieldError("time", "A time on the 24-hour clock, such as 17:00.")
    return time(int(match.group(1)), int(match.group(2) or 0))


def parse_thai_datetime(value: Any) -> datetime:
    """A day and a time in one box: "28/11/2569 17:00" (the last word is the time, "น." allowed after it)."""
    text = " ".join(parse_thai_digits(str(value or "")).split())
    if not text:
        raise FieldError("required", "Must not be empty.")
    match = re.match(r"^(.*?)(?:\s+|T)([0-9]{1,2}\s*[:.]\s*[0-9]{2}\s*(?:น\.?)?)(?::[0-9]{2})?$", text)
    if match is None:
        parse_thai_date(text)  # a bad date says so; a good one lacks its time
        raise FieldError("datetime", f"A day and a time, such as {DATE_EXAMPLE} 17:00.")
    return datetime.combine(parse_thai_date(match.group(1)), parse_thai_time(match.group(2)))


def format_thai_date(value: date | None) -> str:
    """The box's text for a date: "28/11/2569" (what parse_thai_date reads back)."""
    if value is None:
        return ""
    return f"{value.day:02d}/{value.month:02d}/{value.year + BUDDHIST_ERA}"


def format_thai_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{format_thai_date(value.date())} {value.hour:02d}:{value.minute:02d}"
