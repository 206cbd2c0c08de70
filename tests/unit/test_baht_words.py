"""The amount in Thai words: the awkward amounts of issue 25, and PyThaiNLP's bahttext as a second opinion
for any amount (it writes "ศูนย์บาท" before satang below one baht; receipts, like Excel's BAHTTEXT, do not)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythainlp.util import bahttext

from pricing.baht_words import baht_words, number_words


@pytest.mark.parametrize("amount, words", [
    ("0.25", "ยี่สิบห้าสตางค์"),
    ("11", "สิบเอ็ดบาทถ้วน"),
    ("21", "ยี่สิบเอ็ดบาทถ้วน"),
    ("101", "หนึ่งร้อยเอ็ดบาทถ้วน"),
    ("1000001", "หนึ่งล้านเอ็ดบาทถ้วน"),
    ("20000000.50", "ยี่สิบล้านบาทห้าสิบสตางค์"),
    ("1234.50", "หนึ่งพันสองร้อยสามสิบสี่บาทห้าสิบสตางค์"),
    ("1", "หนึ่งบาทถ้วน"),
    ("10", "สิบบาทถ้วน"),
    ("0", "ศูนย์บาทถ้วน"),
    ("0.01", "หนึ่งสตางค์"),
    ("0.21", "ยี่สิบเอ็ดสตางค์"),
    ("21000000", "ยี่สิบเอ็ดล้านบาทถ้วน"),
    ("1000000000001", "หนึ่งล้านล้านเอ็ดบาทถ้วน"),
])
def test_awkward_amounts(amount: str, words: str) -> None:
    assert baht_words(Decimal(amount)) == words


def test_large_numbers_repeat_lan() -> None:
    assert number_words(2_000_000_000_000) == "สองล้านล้าน"
    assert number_words(1_001_000_000) == "หนึ่งพันเอ็ดล้าน"


def _reference(satang: int) -> str:
    # bahttext takes a float and formats it with two decimals: exact for these sizes.
    words = str(bahttext(satang / 100))
    return words.removeprefix("ศูนย์บาท") if 0 < satang < 100 else words


@settings(max_examples=500)
@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_agrees_with_pythainlp(satang: int) -> None:
    assert baht_words(Decimal(satang).scaleb(-2)) == _reference(satang)


@given(st.sampled_from([1, 11, 21, 101, 111, 1_000_001, 10_000_021, 1_000_000_000]),
       st.integers(min_value=0, max_value=99))
def test_agrees_with_pythainlp_on_ones(baht: int, satang: int) -> None:
    assert baht_words(Decimal(baht * 100 + satang).scaleb(-2)) == _reference(baht * 100 + satang)
