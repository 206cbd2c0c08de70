"""The words of each notification, Thai first (the message ids), English from the catalogue.

Values are formatted here, in the recipient's language and the network's time zone: baht with
thousands separators and two decimals, moments as Buddhist-era dates in Thai, months by name.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext

from core.format import shorten
from core.notify import Value

THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def N_(message: str) -> str:  # noqa: N802 - babel's marker for "extract, translate later"
    return message


# kind -> (title, body); %(name)s are the event's context values.
MESSAGES: dict[str, tuple[str, str]] = {
    "round_opened": (N_("เปิดรับคำสั่งซื้อแล้ว: %(round)s"),
                     N_("สั่งซื้อได้ถึง %(closes_at)s มีสินค้า %(offers)s รายการ: %(products)s")),
    "round_closing_soon": (N_("อีกไม่ถึง 24 ชั่วโมงจะปิดรับคำสั่งซื้อ: %(round)s"),
                           N_("กลุ่มของคุณยังไม่ได้สั่งซื้อ ปิดรับ %(closes_at)s")),
    "round_combined": (N_("รวมยอดแล้ว: %(round)s"),
                       N_("%(group)s ได้รับ %(items)s ยอดชำระ %(total)s บาท ประหยัดได้ %(savings)s บาท")),
    "delivery_shortage": (N_("ของมาไม่ครบ: %(round)s"),
                          N_("%(group)s ได้รับ %(items)s ยอดชำระใหม่ %(total)s บาท")),
    "payment_recorded": (N_("บันทึกการชำระเงิน %(amount)s บาทแล้ว"),
                         N_("%(round)s: %(group)s ชำระแล้ว %(paid)s บาท จาก %(total)s บาท "
                            "คงเหลือ %(outstanding)s บาท")),
    "purchase_placed": (N_("มีคำสั่งซื้อใหม่: %(listing)s"),
                        N_("%(buyer)s สั่ง %(quantity)s %(unit)s รวม %(amount)s บาท กรุณายืนยัน")),
    "purchase_confirmed": (N_("ผู้ขายยืนยันคำสั่งซื้อ %(listing)s แล้ว"),
                           N_("%(quantity)s %(unit)s รวม %(amount)s บาท จาก %(seller)s")),
    "purchase_delivered": (N_("ส่งสินค้า %(listing)s แล้ว"),
                           N_("%(quantity)s %(unit)s รวม %(amount)s บาท จาก %(seller)s")),
    "quote_received": (N_("ได้รับใบเสนอราคาสำหรับ %(rfq)s"), N_("%(supplier)s ส่งใบเสนอราคาแล้ว")),
    "rfq_closed": (N_("ปิดรับใบเสนอราคา %(rfq)s แล้ว"),
                   N_("ได้รับใบเสนอราคา %(quotes)s ราย ดูการเปรียบเทียบราคาได้")),
    "summary_ready": (N_("สรุปเดือน %(month)s พร้อมให้ตรวจแล้ว"),
                      N_("ประหยัดได้ %(savings)s บาท จากยอดซื้อ %(spend)s บาท กรุณาตรวจและรับรองในที่ประชุม")),
    "line_blocked": (N_("ปิดการแจ้งเตือนทาง LINE แล้ว"),
                     N_("ส่งข้อความ LINE ถึงคุณไม่ได้ (บัญชีถูกบล็อกหรือยังไม่ได้เพิ่มเป็นเพื่อน) จึงหยุดส่งทาง LINE แล้ว "
                        "การแจ้งเตือนยังแสดงในแอปนี้ เปิด LINE ใหม่ได้ที่หน้าตั้งค่าการแจ้งเตือน")),
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def baht(value: Decimal) -> str:
    """1234567.5 -> '1,234,567.50', exactly (never through float)."""
    return f"{value.quantize(Decimal('0.01')):,}"


def format_value(name: str, value: Value, locale: str, timezone: str) -> str:
    thai = locale == "th"
    if isinstance(value, Decimal):
        return baht(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        local = value.astimezone(ZoneInfo(timezone))
        if thai:
            return f"{local.day} {THAI_MONTHS[local.month - 1]} {local.year + 543} {local:%H:%M} น."
        return f"{local.day} {EN_MONTHS[local.month - 1]} {local.year} {local:%H:%M}"
    match = _MONTH.match(value) if name == "month" else None
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return f"{THAI_MONTHS[month - 1]} {year + 543}" if thai else f"{EN_MONTHS[month - 1]} {year}"
    return value


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "–"


def render(kind: str, context: Mapping[str, Value], locale: str, timezone: str) -> tuple[str, str]:
    """Title and body of a ``kind`` message in ``locale`` ('th' or 'en')."""
    title_id, body_id = MESSAGES[kind]
    values = _Missing({name: format_value(name, value, locale, timezone) for name, value in context.items()})
    with force_locale(locale):
        title = gettext(title_id) % values
        body = gettext(body_id) % values
    return shorten(title, 300), body  # the column holds 300; cut between words
