"""PromptPay payloads against the published examples of the standard, ids refused and accepted, the
checksum, and a bank slip's verification QR (pure: no database)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.promptpay import (
    PromptPayIdError,
    crc16_ccitt_false,
    parse_promptpay_id,
    parse_tlv,
    payment_request,
    promptpay_payload,
    slip_reference,
    thai_id_check_digit_ok,
)


def test_crc_is_ccitt_false_by_its_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


# Published examples: the test suites of the promptpay-qr (dtinth) and promptparse libraries, which
# banking apps scan. Each is (id digits, amount or None, payload).
PUBLISHED = [
    ("0801234567", None, "00020101021129370016A000000677010111011300668012345675802TH530376463046197"),
    ("1111111111111", None, "00020101021129370016A000000677010111021311111111111115802TH530376463047B5A"),
    ("0123456789012", None, "00020101021129370016A000000677010111021301234567890125802TH530376463040CBD"),
    ("0000000000", Decimal("4.22"),
     "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469"),
]


@pytest.mark.parametrize(("target", "amount", "expected"), PUBLISHED)
def test_payload_matches_the_published_examples(target: str, amount: Decimal | None, expected: str) -> None:
    assert promptpay_payload(target, amount) == expected


def test_payload_of_published_examples_in_another_field_order_has_the_same_checksum_rule() -> None:
    # promptparse writes 53 before 58; its CRC must still check out under our rule.
    published = "00020101021229370016A0000006770101110113006681222333353037645802TH540530.0063043CAD"
    assert published.endswith(f"{crc16_ccitt_false(published[:-4].encode()):04X}")


def test_dynamic_payload_has_every_tag_of_the_contract() -> None:
    payload = promptpay_payload("0812345678", Decimal("1234.5"))
    fields = parse_tlv(payload)
    assert fields is not None
    assert fields["00"] == "01" and fields["01"] == "12" and fields["53"] == "764" and fields["58"] == "TH"
    assert fields["54"] == "1234.50"
    assert parse_tlv(fields["29"]) == {"00": "A000000677010111", "01": "0066812345678"}
    assert payload.endswith(fields["63"]) and fields["63"] == f"{crc16_ccitt_false(payload[:-4].encode()):04X}"


def test_ewallet_and_national_id_go_in_their_own_subtags() -> None:
    assert parse_tlv(parse_tlv(promptpay_payload("140000801111111", Decimal("1")))["29"])["03"] == "140000801111111"  # type: ignore[index]
    assert parse_tlv(parse_tlv(promptpay_payload("3101700012345", Decimal("1")))["29"])["02"] == "3101700012345"  # type: ignore[index]


@given(st.integers(min_value=1, max_value=999_999_999_999))
def test_payload_checksum_holds_for_any_amount(satang: int) -> None:
    amount = Decimal(satang).scaleb(-2)
    payload = promptpay_payload("0812345678", amount)
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{crc16_ccitt_false(payload[:-4].encode()):04X}"
    assert parse_tlv(payload)["54"] == f"{amount:.2f}"  # type: ignore[index]


def test_payment_request_is_none_without_an_id_or_anything_due() -> None:
    assert payment_request(None, Decimal("10")) is None
    assert payment_request("0812345678", Decimal("0")) is None
    request = payment_request("0812345678", Decimal("10.5"))
    assert request is not None and request.amount == Decimal("10.50") and "540510.50" in request.payload


def _with_check_digit(first12: str) -> str:
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return first12 + str((11 - total % 11) % 10)


@pytest.mark.parametrize("raw, expected", [
    ("0812345678", "0812345678"),
    ("081-234-5678", "0812345678"),
    ("๐๘๑ ๒๓๔ ๕๖๗๘", "0812345678"),
    ("3-1017-00012-34-5", None),  # filled in below: a valid 13-digit id
    ("140000801111111", "140000801111111"),
])
def test_ids_accepted(raw: str, expected: str | None) -> None:
    if expected is None:
        good = _with_check_digit("310170001234")
        raw, expected = f"{good[0]}-{good[1:5]}-{good[5:10]}-{good[10:12]}-{good[12]}", good
    assert parse_promptpay_id(raw) == expected


@pytest.mark.parametrize("raw, code", [
    ("", "promptpay_digits"),
    ("08123x5678", "promptpay_digits"),
    ("812345678", "promptpay_length"),
    ("8123456789", "promptpay_mobile"),
    ("081234567890", "promptpay_length"),
    ("1111111111111", "promptpay_check_digit"),
    ("1234567890123456", "promptpay_length"),
])
def test_ids_refused_with_a_reason(raw: str, code: str) -> None:
    with pytest.raises(PromptPayIdError) as caught:
        parse_promptpay_id(raw)
    assert caught.value.code == code


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(min_value=0, max_value=9))
def test_exactly_one_check_digit_is_right(first12: str, last: int) -> None:
    good = _with_check_digit(first12)
    assert thai_id_check_digit_ok(first12 + str(last)) == (good[-1] == str(last))


def test_slip_reference_of_the_published_example() -> None:
    ref = slip_reference("004100060000010103014022000111222233344ABCD125102TH910417DF")
    assert ref is not None and ref.sending_bank == "014" and ref.transaction_ref == "00111222233344ABCD12"
    assert ref.bank_ref == "014-00111222233344ABCD12"
    again = slip_reference("004000060000010103002021900021231231212000115102TH91049C30")
    assert again is not None and again.transaction_ref == "0002123123121200011"


def test_slip_reference_refuses_a_bad_checksum_or_another_kind_of_qr() -> None:
    assert slip_reference("004100060000010103014022000111222233344ABCD125102TH9104FFFF") is None
    assert slip_reference(PUBLISHED[3][2]) is None
    assert slip_reference("hello") is None
