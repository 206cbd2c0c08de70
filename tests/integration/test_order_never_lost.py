"""Issue 22 §1 on the server: a blank order never withdraws, at any entry point (the service holds the rule);
withdrawing the whole order is its own action (the pages' confirmed page, ``DELETE`` in the API)."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from tests.integration.pages_helpers import csrf, login


@pytest.fixture
def world(make_network, make_group, make_user, make_round, make_offer):  # type: ignore[no-untyped-def]
    network = make_network()
    group = make_group(network, name="กลุ่มแม่บ้านบ้านหม้อ")
    rnd = make_round(network, name="รอบปุ๋ยต้นฤดู")
    return {"group": group, "round": rnd, "rice": make_offer(rnd), "oil": make_offer(rnd),
            "leader": make_user(network, "leader", group)}


def _lines(db_session: Any, rnd: Any, group: Any) -> list[tuple[int, int]]:
    from orders.models import GroupOrder, OrderLine

    db_session.expire_all()
    return [tuple(row) for row in db_session.execute(
        select(OrderLine.offer_id, OrderLine.quantity).join(GroupOrder)
        .where(GroupOrder.round_id == rnd.id, GroupOrder.group_id == group.id).order_by(OrderLine.offer_id))]


def _placed(client: Any, world: dict[str, Any], headers: dict[str, str]) -> str:
    path = f"/api/v1/rounds/{world['round'].id}/orders/{world['group'].id}"
    lines = [{"offer_id": world["rice"].id, "quantity": 30}, {"offer_id": world["oil"].id, "quantity": 4}]
    assert client.put(path, json={"lines": lines}, headers=headers).status_code == 200
    return path


def test_the_service_refuses_a_blank_order_over_one_that_stands(app, world, db_session):  # type: ignore[no-untyped-def]
    from orders import services

    leader, rnd, group = world["leader"], world["round"], world["group"]
    with app.test_request_context():
        # Nothing ordered yet: an empty order loses nothing.
        services.replace_group_order(leader, rnd.id, group.id, [])
        services.replace_group_order(leader, rnd.id, group.id, [{"offer_id": world["rice"].id, "quantity": 30}])
        with pytest.raises(InvalidInput) as refused:
            services.replace_group_order(leader, rnd.id, group.id, [])
        assert getattr(refused.value.message, "code", None) == "blank_order"
        assert "lines" in (refused.value.fields or {})
    assert _lines(db_session, rnd, group) == [(world["rice"].id, 30)]
    with app.test_request_context():
        services.withdraw_group_order(leader, rnd.id, group.id)
    assert _lines(db_session, rnd, group) == []


def test_the_api_refuses_a_blank_put_and_withdraws_only_by_delete(client, world, db_session, token_for):  # type: ignore[no-untyped-def]
    headers = token_for(world["leader"])
    path = _placed(client, world, headers)
    blank = client.put(path, json={"lines": []}, headers=headers)
    assert blank.status_code == 422, blank.json
    assert blank.json["error"]["code"] == "invalid" and "DELETE" in blank.json["error"]["message"]
    assert len(_lines(db_session, world["round"], world["group"])) == 2
    gone = client.delete(path, headers=headers)
    assert gone.status_code == 200 and gone.json["lines"] == []
    assert _lines(db_session, world["round"], world["group"]) == []
    # Withdrawing what is not there is no error (a phone may repeat it).
    assert client.delete(path, headers=headers).status_code == 200


def test_the_pages_json_write_never_withdraws(client, world, db_session, token_for):  # type: ignore[no-untyped-def]
    _placed(client, world, token_for(world["leader"]))
    login(client, world["leader"])
    token = client.get("/offline/token").json["csrf_token"]
    blank = client.put(f"/rounds/{world['round'].id}/order", data=json.dumps({"lines": []}),
                       headers={"X-CSRFToken": token, "Idempotency-Key": "blank-1", "Accept": "application/json"},
                       content_type="application/json")
    assert blank.status_code == 422 and blank.json["error"]["fields"]["lines"]
    assert len(_lines(db_session, world["round"], world["group"])) == 2


def test_a_form_that_removes_lines_asks_first_listing_them(client, world, db_session, token_for):  # type: ignore[no-untyped-def]
    _placed(client, world, token_for(world["leader"]))
    login(client, world["leader"])
    url = f"/rounds/{world['round'].id}/order"
    rice, oil = world["rice"], world["oil"]
    page = client.get(url).get_data(as_text=True)
    form = {f"q_{rice.id}": "30", f"t_{rice.id}": "", f"q_{oil.id}": "", f"t_{oil.id}": "", "csrf_token": csrf(page)}
    asked = client.post(url, data=form)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-form"' in html
    assert oil.product.name in html and "4" in html  # what goes, with its quantity
    assert len(_lines(db_session, world["round"], world["group"])) == 2, "asking removed something"
    done = client.post(url, data={**form, "csrf_token": csrf(html), "confirmed": "yes"})
    assert done.status_code == 302
    assert _lines(db_session, world["round"], world["group"]) == [(rice.id, 30)]


def test_thai_digits_in_the_order_form_are_read(client, world, db_session, token_for):  # type: ignore[no-untyped-def]
    _placed(client, world, token_for(world["leader"]))
    login(client, world["leader"])
    url = f"/rounds/{world['round'].id}/order"
    rice, oil = world["rice"], world["oil"]
    page = client.get(url).get_data(as_text=True)
    assert 'type="number"' not in page  # a number input drops Thai digits before the server sees them
    done = client.post(url, data={f"q_{rice.id}": "๓๐", f"t_{rice.id}": "๕", f"q_{oil.id}": "๑,๒๐๐",
                                  f"t_{oil.id}": "", "csrf_token": csrf(page)})
    assert done.status_code == 302
    assert _lines(db_session, world["round"], world["group"]) == [(rice.id, 30), (oil.id, 1200)]


def test_the_api_refuses_text_quantities_clearly_and_reads_thai_money(client, world, db_session, token_for):  # type: ignore[no-untyped-def]
    headers = token_for(world["leader"])
    path = f"/api/v1/rounds/{world['round'].id}/orders/{world['group'].id}"
    refused = client.put(path, json={"lines": [{"offer_id": world["rice"].id, "quantity": "๓๐"}]}, headers=headers)
    assert refused.status_code == 422
    message = str(refused.json["error"]["fields"])
    assert "JSON number" in message and "30" in message, message
    assert _lines(db_session, world["round"], world["group"]) == []
    # Money is read by the one rule (core.fields.parse_thai_digits): Thai digits in a decimal string.
    from core.fields import parse_money, parse_thai_digits

    assert parse_thai_digits(" ๑,๒๕๐.๕๐ ") == "1,250.50"
    assert str(parse_money("๑๒๕๐.๕๐")) == "1250.50"
