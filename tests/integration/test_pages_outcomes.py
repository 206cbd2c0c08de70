"""Issue 12 on the pages: a refused form is summed up at the top, one message per field; every outcome is
explained in a Thai sentence with its numbers; destructive actions ask first, with or without JS."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration import thai_world
from tests.integration.pages_helpers import csrf, login, post_form


@pytest.fixture
def world(client, db_session, make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    return thai_world.build(client, make_network, make_group, make_user, token_for)


def text_of(html: str) -> str:
    """The page's text, tags removed and spaces collapsed (for sentences split over elements)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_refused_order_is_summed_up_at_the_top_one_message_per_field(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    url = f"/rounds/{world['rounds']['open']}/order"
    page = client.get(url).get_data(as_text=True)
    qty = re.search(r'name="(q_\d+)"', page).group(1)
    tol = "t_" + qty[2:]
    response = post_form(client, url, url, {qty: "abc", tol: "-2"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div class="error box summary" id="error-summary"[^>]*>(.*?)</div>', body, re.S)
    assert summary, "no error summary"
    assert "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    assert body.index('id="error-summary"') < body.index('id="order-form"')  # at the top, before the form
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group(1))
    assert [target for target, _ in links] == [qty, tol]
    assert "ปุ๋ยยูเรีย 46-0-0: จำนวน: ต้องเป็นจำนวนเต็ม" in links[0][1]  # names the product
    assert "ยังบันทึกไม่ได้ มี 2 จุดที่ต้องแก้" in body
    # One message under each field: "abc" is not also "must not be negative".
    assert body.count(f'id="{qty}-error"') == 1 and "ต้องไม่ติดลบ" not in body.split(f'id="{qty}-error"')[1][:80]
    assert len(re.findall(r'<p class="error"', body)) == 2
    assert 'value="abc"' in body and 'value="-2"' in body  # nothing typed is lost
