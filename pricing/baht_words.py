"""An amount of money in Thai words, as written on a Thai receipt (the rules of Excel's BAHTTEXT).

"หนึ่งพันสองร้อยสามสิบสี่บาทห้าสิบสตางค์", "ยี่สิบเอ็ดบาทถ้วน": a 1 in the units place after a higher
digit is เอ็ด, a 2 in the tens place is ยี่สิบ, a 1 there is สิบ; every six digits are followed by ล้าน
(repeated for larger sums: ล้านล้าน). Less than one baht is satang only ("ยี่สิบห้าสตางค์")."""
from __future__ import annotations

from decimal import Decimal

from pricing.money import money

_DIGITS = ("ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า")
_PLACES = ("", "สิบ", "ร้อย", "พัน", "หมื่น", "แสน")


def _below_million(n: int, after_higher: bool) -> str:
    """0 <= n < 1,000,000 in words ('' for 0); ``after_higher``: digits of a higher group come before."""
    words = []
    text = str(n)
    for place, char in zip(range(len(text) - 1, -1, -1), text):
        digit = int(char)
        if digit == 0:
            continue
        if place == 1 and digit == 1:
            words.append("สิบ")
        elif place == 1 and digit == 2:
            words.append("ยี่สิบ")
        elif place == 0 and digit == 1 and (n > 1 or after_higher):
            words.append("เอ็ด")
        else:
            words.append(_DIGITS[digit] + _PLACES[place])
    return "".join(words)


def number_words(n: int) -> str:
    """A whole number >= 0 in Thai words."""
    if n < 0:
        raise ValueError("a number in words is not negative")
    if n == 0:
        return _DIGITS[0]
    groups = []
    while n:
        n, rest = divmod(n, 1_000_000)
        groups.append(rest)
    words = ""
    for i in range(len(groups) - 1, -1, -1):
        words += _below_million(groups[i], after_higher=i < len(groups) - 1 and bool(words))
        if i:
            words += "ล้าน"
    return words


def baht_words(amount: Decimal) -> str:
    """An amount >= 0 in baht and satang, in Thai words, rounded to the satang first."""
    value = money(amount)
    if value < 0:
        raise ValueError("an amount in words is not negative")
    satang_total = int(value.scaleb(2))
    baht, satang = divmod(satang_total, 100)
    if satang == 0:
        return f"{number_words(baht)}บาทถ้วน"
    satang_text = f"{number_words(satang)}สตางค์"
    return satang_text if baht == 0 else f"{number_words(baht)}บาท{satang_text}"
