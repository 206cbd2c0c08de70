"""The one rule for a date typed on a page (issue 22 §4): day/month/Buddhist-era year, Thai or Arabic
digits, Thai month names; the Christian year is never mistaken for a Buddhist one (or the other way)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from core.fields import (
    FieldError,
    format_thai_date,
    format_thai_datetime,
    parse_thai_date,
    parse_thai_datetime,
    parse_thai_time,
)


@pytest.mark.parametrize("text", [
    "28/11/2569", "28-11-2569", "28.11.2569", " 28 / 11 / 2569 ", "28/11/69", "๒๘/๑๑/๒๕๖๙",
    "28 พ.ย. 2569", "28 พย 2569", "28 พฤศจิกายน 2569", "๒๘ พฤศจิกายน ๒๕๖๙", "28 พ.ย. พ.ศ. 2569",
    "2026-11-28",  # the ISO form an older copy of a page or a queued offline post sends
])
def test_a_buddhist_era_date_in_any_usual_form(text: str) -> None:
    assert parse_thai_date(text) == date(2026, 11, 28)


def test_buddhist_and_christian_years_are_never_confused() -> None:
    assert parse_thai_date("1/1/2569") == date(2026, 1, 1)  # 2569 is Buddhist: 2026
    assert parse_thai_date("1/1/2026") == date(2026, 1, 1)  # no one means Buddhist 2026 (= 1483): Christian
    assert parse_thai_date("1/1/70") == date(2027, 1, 1)  # two digits are the Buddhist year's last two
    assert parse_thai_date("2570-01-01") == date(2027, 1, 1)  # a Buddhist year written first is Buddhist too
    assert format_thai_date(parse_thai_date("1/1/2026")) == "01/01/2569"  # shown back in the Buddhist era
    with pytest.raises(FieldError) as refused:
        parse_thai_date("1/1/1500")
    assert refused.value.code == "date_year"


def test_the_29th_of_february_only_in_a_leap_year() -> None:
    assert parse_thai_date("29/2/2571") == date(2028, 2, 29)  # 2571 = 2028, a leap year
    assert parse_thai_date("๒๙ ก.พ. ๒๕๗๑") == date(2028, 2, 29)
    with pytest.raises(FieldError) as refused:
        parse_thai_date("29/02/2570")  # 2570 = 2027
    assert refused.value.code == "date_day"
    assert refused.value.params == {"day": "29", "month": "กุมภาพันธ์", "year": "2570"}


@pytest.mark.parametrize(("text", "code"), [
    ("", "required"), ("abc", "date"), ("28/11", "date"), ("11/28/2569", "date_month"), ("32/1/2569", "date_day"),
    ("28 พฤศจิกา 2569", "date"), ("28/11/25690", "date"), ("2569", "date"), ("๒๘/๑๓/๒๕๖๙", "date_month"),
])
def test_what_is_not_a_date_says_why(text: str, code: str) -> None:
    with pytest.raises(FieldError) as refused:
        parse_thai_date(text)
    assert refused.value.code == code


def test_a_day_and_a_time_in_one_box() -> None:
    assert parse_thai_datetime("28/11/2569 17:00") == datetime(2026, 11, 28, 17, 0)
    assert parse_thai_datetime("๒๘/๑๑/๒๕๖๙ ๑๗.๓๐ น.") == datetime(2026, 11, 28, 17, 30)
    assert parse_thai_datetime("2099-01-31T17:00") == datetime(2099, 1, 31, 17, 0)
    assert format_thai_datetime(datetime(2026, 11, 28, 9, 5)) == "28/11/2569 09:05"
    assert parse_thai_datetime(format_thai_datetime(datetime(2028, 2, 29, 23, 59))) == datetime(2028, 2, 29, 23, 59)
    assert parse_thai_time("9").hour == 9
    for text, code in (("28/11/2569", "datetime"), ("28/11/2569 24:00", "time"), ("29/2/2570 10:00", "date_day"),
                       ("", "required")):
        with pytest.raises(FieldError) as refused:
            parse_thai_datetime(text)
        assert refused.value.code == code, text

