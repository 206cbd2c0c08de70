"""Thai names of places and categories that people type as data, with their English translation.

Data is stored as typed (Thai, in a Thai network); on an English page the names this glossary knows
are shown in English (``|known`` in templates). A name it does not know is shown as typed.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext


def N_(text: str) -> str:
    """Marks a name for the catalogue (translated where it is shown)."""
    return text


# Districts and sub-districts of Nong Khai (the demo province) and common categories of goods.
NAMES: tuple[str, ...] = (
    N_("เมืองหนองคาย"), N_("ท่าบ่อ"), N_("โพนพิสัย"), N_("ศรีเชียงใหม่"), N_("สังคม"), N_("สระใคร"), N_("เฝ้าไร่"),
    N_("รัตนวาปี"), N_("โพธิ์ตาก"), N_("โคกคอน"), N_("พานพร้าว"), N_("หาดคำ"), N_("จุมพล"), N_("บ้านหม้อ"),
    N_("ปุ๋ย"), N_("เมล็ดพันธุ์"), N_("อาหารสัตว์"), N_("น้ำมันพืช"), N_("น้ำมันเชื้อเพลิง"), N_("อุปกรณ์การเรียน"),
    N_("ข้าว"), N_("ผ้าทอ"), N_("อาหารแปรรูป"), N_("อาหาร"),
)
KNOWN = frozenset(NAMES)


def known(value: Any) -> str:
    """A place or category name in the page's language when the glossary knows it; else as typed."""
    text = "" if value is None else str(value)
    return str(gettext(text)) if text in KNOWN else text


def init_app(app: Any) -> None:
    app.jinja_env.filters["known"] = known
