"""Date boxes of the pages: a Buddhist-era Thai date ("28/11/2569") in a text box, read by the one rule
(``core.fields.parse_thai_date``), never the browser's own date picker.

``<input type=date>`` shows the phone's own Gregorian format (often the US's 11/28/2026) and no Buddhist
year; a text box works on any phone, without JavaScript, and reads Thai digits and month names too.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.validators import StopValidation

from core.fields import (
    DATE_EXAMPLE,
    FieldError,
    format_thai_date,
    format_thai_datetime,
    parse_thai_date,
    parse_thai_datetime,
    parse_thai_time,
)
from core.format import day as day_text
from core.pages import MarkedInput

# A FieldError's code -> the message a person reads (the parameters formatted in).
_MESSAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "date": lambda p: _l("ใส่วันที่แบบ วัน/เดือน/ปี พ.ศ. เช่น %(example)s", example=DATE_EXAMPLE),
    "date_year": lambda p: _l("ปี %(year)s ไม่ใช่ปี พ.ศ. ใส่ปี พ.ศ. เช่น 2569", year=p.get("year", "")),
    "date_month": lambda p: _l("เดือนต้องเป็น 1 ถึง 12"),
    "date_day": lambda p: _l("%(month)s %(year)s ไม่มีวันที่ %(day)s", month=p.get("month", ""),
                             year=p.get("year", ""), day=p.get("day", "")),
    "time": lambda p: _l("ใส่เวลาแบบ 24 ชั่วโมง เช่น 17:00"),
    "datetime": lambda p: _l("ใส่ทั้งวันที่และเวลา เช่น %(example)s 17:00", example=DATE_EXAMPLE),
}


def date_message(exc: FieldError) -> Any:
    """A date's parse error in the user's language."""
    return _MESSAGES.get(exc.code, _MESSAGES["date"])(exc.params)


class _ThaiDateBase(Field):
    widget = MarkedInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = dict(kwargs.pop("render_kw", None) or {})
        render_kw.setdefault("autocomplete", "off")
        render_kw.setdefault("spellcheck", "false")
        render_kw.setdefault("placeholder", self.placeholder())
        kwargs["render_kw"] = render_kw
        super().__init__(*args, **kwargs)

    def placeholder(self) -> Any:
        return _l("วว/ดด/ปปปป")

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def show(self, value: Any) -> str:
        raise NotImplementedError

    def _value(self) -> str:
        if self.raw_data:  # what was typed, as typed, when the form comes back refused
            return str(self.raw_data[0])
        return self.show(self.data) if self.data is not None else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0])
        if not text.strip():
            self.data = None
            return
        try:
            self.data = self.parse(text)
        except FieldError as exc:
            self.data = None
            raise ValueError(date_message(exc)) from exc

    def pre_validate(self, form: Any) -> None:
        # A date that cannot be read is one mistake with one message ("required" has nothing to add).
        raw = self.raw_data or []
        if self.process_errors and raw and str(raw[0]).strip():
            raise StopValidation()


class ThaiDateField(_ThaiDateBase):
    """A day: shown and read as "28/11/2569"; its hint says the day in words."""

    data: date | None

    def parse(self, text: str) -> date:
        return parse_thai_date(text)

    def show(self, value: Any) -> str:
        return format_thai_date(value)

    def date_hint(self) -> str:
        example = str(_l("วัน/เดือน/ปี พ.ศ. เช่น %(example)s", example=DATE_EXAMPLE))
        if self.data is None or self.errors:
            return example
        return str(_l("คือวันที่ %(day)s", day=day_text(self.data, full=True)))


class ThaiDateTimeField(_ThaiDateBase):
    """A day and a time in one box: "28/11/2569 17:00" (24-hour clock), naive local time."""

    data: datetime | None

    def placeholder(self) -> Any:
        return _l("วว/ดด/ปปปป ชช:นน")

    def parse(self, text: str) -> datetime:
        return parse_thai_datetime(text)

    def show(self, value: Any) -> str:
        return format_thai_datetime(value)

    def date_hint(self) -> str:
        example = str(_l("วัน/เดือน/ปี พ.ศ. และเวลา เช่น %(example)s 17:00", example=DATE_EXAMPLE))
        if self.data is None or self.errors:
            return example
        return str(_l("คือวันที่ %(day)s เวลา %(time)s น.", day=day_text(self.data, full=True),
                      time=f"{self.data.hour:02d}:{self.data.minute:02d}"))


class ThaiTimeField(_ThaiDateBase):
    """A time of day on the 24-hour clock in a text box ("21:00", "๒๑.๐๐ น."): a phone's own time picker
    may show 9:00 PM."""

    data: time | None

    def placeholder(self) -> Any:
        return _l("ชช:นน")

    def parse(self, text: str) -> time:
        return parse_thai_time(text)

    def show(self, value: Any) -> str:
        return f"{value.hour:02d}:{value.minute:02d}"
