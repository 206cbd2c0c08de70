"""PromptPay: the id a network or group is paid to, the EMVCo payload of a bill, and a bank slip's reference.

Pure: plain data in, plain data out. The payload follows the EMVCo merchant-presented QR specification as
Thai PromptPay uses it (the Bank of Thailand's Thai QR Code standard): tag-length-value fields, two-digit
ids and lengths, and a CRC-16/CCITT-FALSE over everything before the checksum's value."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing.money import money

PROMPTPAY_AID = "A000000677010111"
# Digits a Thai phone keyboard may send, and the separators people type in ids ("081-234-5678").
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SEPARATORS = " -\t"
MAX_PAYLOAD_AMOUNT = Decimal("9999999999.99")  # tag 54 holds at most 13 characters


class PromptPayIdError(ValueError):
    """Why a PromptPay id was refused; ``code`` is stable (the pages translate it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PaymentRequest:
    """What a payer's banking app needs: the id paid to, the amount, and the QR payload carrying both."""

    promptpay_id: str
    amount: Decimal
    payload: str


def thai_id_check_digit_ok(digits: str) -> bool:
    """The 13th digit of a Thai national or tax id: (11 - Σ d_i × (13 - i) mod 11) mod 10 over the first 12."""
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


def parse_promptpay_id(raw: str) -> str:
    """The id as digits only: a 10-digit mobile number starting with 0, a 13-digit national or tax id
    whose check digit is right, or a 15-digit e-wallet id. Thai digits, spaces and dashes are accepted."""
    text = str(raw).translate(_THAI_DIGITS)
    for sep in _SEPARATORS:
        text = text.replace(sep, "")
    if not text or not text.isascii() or not text.isdigit():
        raise PromptPayIdError("promptpay_digits", "A PromptPay id is digits only (spaces and dashes are fine).")
    if len(text) == 10:
        if not text.startswith("0"):
            raise PromptPayIdError("promptpay_mobile", "A mobile number has 10 digits and starts with 0.")
        return text
    if len(text) == 13:
        if not thai_id_check_digit_ok(text):
            raise PromptPayIdError("promptpay_check_digit",
                                   "The last digit of this 13-digit id does not match the others: check for a typo.")
        return text
    if len(text) == 15:
        return text
    raise PromptPayIdError("promptpay_length",
                           "A PromptPay id is a mobile number (10 digits), a national or tax id (13) or an e-wallet id (15).")


def promptpay_kind(promptpay_id: str) -> str:
    """``mobile``, ``national_id`` (national or tax id) or ``ewallet``, by the number of digits."""
    return {10: "mobile", 13: "national_id", 15: "ewallet"}[len(promptpay_id)]


def format_promptpay_id(promptpay_id: str) -> str:
    """The id as people write it: 081-234-5678, 3-1017-00012-34-1, 140-0008-0111-1111."""
    d = promptpay_id
    if len(d) == 10:
        return f"{d[:3]}-{d[3:6]}-{d[6:]}"
    if len(d) == 13:
        return f"{d[0]}-{d[1:5]}-{d[5:10]}-{d[10:12]}-{d[12]}"
    if len(d) == 15:
        return f"{d[:3]}-{d[3:7]}-{d[7:11]}-{d[11:]}"
    return d


def tlv(tag: str, value: str) -> str:
    """One EMVCo field: two-digit id, two-digit length, value."""
    if len(tag) != 2 or len(value) > 99:
        raise ValueError(f"field {tag!r} cannot hold {len(value)} characters")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, not reflected, no final xor
    (the check value of ``b"123456789"`` is 0x29B1)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def with_crc(body: str, tag: str = "63") -> str:
    """Append the checksum field: the CRC covers the body and the checksum's own id and length."""
    head = f"{body}{tag}04"
    return f"{head}{crc16_ccitt_false(head.encode('ascii')):04X}"


def _target(promptpay_id: str) -> str:
    kind = promptpay_kind(promptpay_id)
    if kind == "mobile":
        # Mobile numbers go in international form, zero-padded to 13: 0066 + the number without its 0.
        return tlv("01", ("0000000000000" + "66" + promptpay_id[1:])[-13:])
    return tlv("02" if kind == "national_id" else "03", promptpay_id)


def promptpay_payload(promptpay_id: str, amount: Decimal | None) -> str:
    """The merchant-presented payload: dynamic (tag 01 = 12) with the amount, static (11) without.

    ``promptpay_id`` is digits (see :func:`parse_promptpay_id`); fields in the order of the published
    examples: 00, 01, 29, 58, 53, 54, 63."""
    fields = [tlv("00", "01"), tlv("01", "12" if amount is not None else "11"),
              tlv("29", tlv("00", PROMPTPAY_AID) + _target(promptpay_id)), tlv("58", "TH"), tlv("53", "764")]
    if amount is not None:
        value = money(amount)
        if value <= 0 or value > MAX_PAYLOAD_AMOUNT:
            raise ValueError(f"a PromptPay amount is more than 0 and at most {MAX_PAYLOAD_AMOUNT}, not {value}")
        fields.append(tlv("54", f"{value:.2f}"))
    return with_crc("".join(fields))


def payment_request(promptpay_id: str | None, amount: Decimal) -> PaymentRequest | None:
    """What to pay, to whom, as a QR payload; None when there is no id to pay to or nothing is due."""
    if not promptpay_id or money(amount) <= 0:
        return None
    value = money(amount)
    return PaymentRequest(promptpay_id, value, promptpay_payload(promptpay_id, value))


def parse_tlv(text: str) -> dict[str, str] | None:
    """The fields of an EMVCo string (id -> value), or None when it is not one."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        head = text[i:i + 4]
        if len(head) < 4 or not head.isdigit():
            return None
        length = int(head[2:])
        value = text[i + 4:i + 4 + length]
        if len(value) != length:
            return None
        fields[head[:2]] = value
        i += 4 + length
    return fields


@dataclass(frozen=True)
class SlipReference:
    sending_bank: str
    transaction_ref: str

    @property
    def bank_ref(self) -> str:
        """The one string stored: bank code and the bank's transaction reference."""
        return f"{self.sending_bank}-{self.transaction_ref}"


def slip_reference(text: str) -> SlipReference | None:
    """The transaction reference in a Thai bank slip's verification QR ("mini QR"), or None.

    Its fields: 00 {00 ``000001``, 01 the sending bank's code, 02 the transaction reference}, 51 ``TH``,
    91 the CRC-16/CCITT-FALSE. Some banking apps drop the CRC's leading zeros: they are put back first."""
    text = text.strip()
    at = text.rfind("9104")
    if at == -1 or not 0 < len(text) - at - 4 <= 4:
        return None
    text = text[:at + 4] + text[at + 4:].rjust(4, "0").upper()
    if with_crc(text[:at], "91") != text:
        return None
    fields = parse_tlv(text[:at])
    inner = parse_tlv(fields.get("00", "")) if fields else None
    if not inner or inner.get("00") != "000001" or not inner.get("01") or not inner.get("02"):
        return None
    return SlipReference(inner["01"], inner["02"])
