"""Display text is never cut mid-word (issue 22 §4): where a column forces a limit, the cut falls between words."""
from __future__ import annotations

from core.format import shorten


def test_a_long_title_is_cut_between_words() -> None:
    name = "กลุ่มออมทรัพย์เพื่อการผลิตบ้านเดื่อ"
    title = " ".join([name] * 12)  # 431 characters
    short = shorten(title, 300)
    assert len(short) <= 300 and short.endswith(name + "…"), short[-60:]
    assert shorten(name, 300) == name
