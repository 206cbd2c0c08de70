"""The server side of issue 17: manifest, service worker, kept pages, compression, and the order page's
JSON write (session + CSRF + Idempotency-Key) that a phone uses to send an order it kept offline."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.pages_helpers import login


@pytest.fixture
def world(make_network, make_group, make_user, make_round, make_offer):  # type: ignore[no-untyped-def]
    network = make_network()
    group = make_group(network, name="กลุ่มแม่บ้านบ้านหม้อ")
    other = make_group(network)
    rnd = make_round(network, name="รอบปุ๋ยต้นฤดู")
    return {"network": network, "group": group, "round": rnd, "rice": make_offer(rnd), "oil": make_offer(rnd),
            "leader": make_user(network, "leader", group), "leader_b": make_user(network, "leader", other),
            "committee": make_user(network, "committee")}


def _token(client: Any) -> str:
    response = client.get("/offline/token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return str(response.json["csrf_token"])


def _put(client: Any, rnd: Any, lines: list[dict[str, int]], key: str | None, token: str | None) -> Any:
    headers = {"Accept": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    if token:
        headers["X-CSRFToken"] = token
    return client.put(f"/rounds/{rnd.id}/order", data=json.dumps({"lines": lines}), headers=headers,
                      content_type="application/json")


def _records(db_session: Any, key: str) -> int:
    from core.models import IdempotencyRecord

    return int(db_session.scalar(select(func.count()).select_from(IdempotencyRecord)
                                 .where(IdempotencyRecord.key == key)) or 0)


def _order_writes(db_session: Any) -> int:
    from core.models import AuditEvent

    return int(db_session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "order.replace")) or 0)


def _lines(db_session: Any, rnd: Any, group: Any) -> list[tuple[int, int, int]]:
    from orders.models import GroupOrder, OrderLine

    return [tuple(row) for row in db_session.execute(
        select(OrderLine.offer_id, OrderLine.quantity, OrderLine.tolerance).join(GroupOrder)
        .where(GroupOrder.round_id == rnd.id, GroupOrder.group_id == group.id).order_by(OrderLine.offer_id))]


def test_manifest_is_thai_installable_and_its_icons_exist(client):  # type: ignore[no-untyped-def]
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["short_name"] == "รวมซื้อ" and body["lang"] == "th" and body["display"] == "standalone"
    assert body["start_url"].startswith("/") and body["theme_color"].startswith("#")
    sizes = {icon["sizes"] for icon in body["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        width, height = int.from_bytes(image.data[16:20], "big"), int.from_bytes(image.data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_service_worker_is_served_from_the_root_filled_in_and_never_cached(client):  # type: ignore[no-untyped-def]
    response = client.get("/sw.js")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "__" not in re.sub(r"\b__[a-z]", "", text.replace("__proto__", "")), "a placeholder was left"
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", text).group(1))  # type: ignore[union-attr]
    assert "/static/app.css" in shell and "/static/offline.js" in shell
    for url in shell:
        assert client.get(url).status_code == 200, url
    assert re.search(r'var VERSION = "[0-9a-f]{12}"', text)


def test_only_the_leaders_core_pages_are_kept_offline(client, world):  # type: ignore[no-untyped-def]
    login(client, world["leader"])
    rnd = world["round"]
    for url in ("/", "/rounds", f"/rounds/{rnd.id}", f"/rounds/{rnd.id}/order"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers.get("X-Offline-Page") == "1", url
    assert "X-Offline-Page" not in client.get("/invoices").headers
    assert "X-Offline-Page" not in client.get("/offline/token").headers


def test_text_is_compressed_with_brotli_or_gzip(client, world):  # type: ignore[no-untyped-def]
    login(client, world["leader"])
    url = f"/rounds/{world['round'].id}/order"
    for encoding in ("br", "gzip"):
        response = client.get(url, headers={"Accept-Encoding": encoding})
        assert response.headers.get("Content-Encoding") == encoding
        assert len(response.data) < len(client.get(url).data) / 2
    static = client.get("/static/app.css", headers={"Accept-Encoding": "br"})
    assert static.headers.get("Content-Encoding") == "br"


def test_token_needs_a_session(client, world):  # type: ignore[no-untyped-def]
    anonymous = client.get("/offline/token")
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "not_authenticated"
    login(client, world["leader"])
    assert client.get("/offline/token").json["user_id"] == world["leader"].id


def test_a_kept_order_is_taken_exactly_once(client, world, db_session):  # type: ignore[no-untyped-def]
    login(client, world["leader"])
    rnd, rice, oil = world["round"], world["rice"], world["oil"]
    lines = [{"offer_id": rice.id, "quantity": 12, "tolerance": 3}, {"offer_id": oil.id, "quantity": 4, "tolerance": 0}]
    first = _put(client, rnd, lines, "phone-key-1", _token(client))
    assert first.status_code == 200, first.json
    assert first.json["order"]["lines"][0]["quantity"] == 12 and first.json["previous"]["updated_at"] is None
    # the answer was lost on the way; the phone sends the same again, with a fresh token
    again = _put(client, rnd, lines, "phone-key-1", _token(client))
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert _records(db_session, "phone-key-1") == 1 and _order_writes(db_session) == 1
    assert _lines(db_session, rnd, world["group"]) == [(rice.id, 12, 3), (oil.id, 4, 0)]
    changed = _put(client, rnd, lines[:1], "phone-key-1", _token(client))
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json["error"]["fields"]


def test_the_write_needs_the_csrf_token(client, world, db_session):  # type: ignore[no-untyped-def]
    login(client, world["leader"])
    lines = [{"offer_id": world["rice"].id, "quantity": 5, "tolerance": 0}]
    for token in (None, "forged"):
        response = _put(client, world["round"], lines, "k-csrf", token)
        assert response.status_code == 400 and response.json["error"]["code"] == "csrf"
    assert _order_writes(db_session) == 0 and _records(db_session, "k-csrf") == 0


def test_after_the_deadline_nothing_is_taken(client, world, db_session):  # type: ignore[no-untyped-def]
    login(client, world["leader"])
    rnd = world["round"]
    token = _token(client)
    rnd.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.commit()
    response = _put(client, rnd, [{"offer_id": world["rice"].id, "quantity": 5, "tolerance": 0}], "late-1", token)
    assert response.status_code == 409 and response.json["error"]["code"] == "deadline_passed"
    rnd.state = "closed"
    db_session.commit()
    response = _put(client, rnd, [{"offer_id": world["rice"].id, "quantity": 5, "tolerance": 0}], "late-1", token)
    assert response.status_code == 409 and response.json["error"]["code"] == "deadline_passed"
    assert _lines(db_session, rnd, world["group"]) == [] and _records(db_session, "late-1") == 0


def test_the_answer_says_which_order_it_replaced(client, world, db_session):  # type: ignore[no-untyped-def]
    from tests.integration.pages_helpers import csrf

    login(client, world["leader"])
    rnd, rice = world["round"], world["rice"]
    first = _put(client, rnd, [{"offer_id": rice.id, "quantity": 7, "tolerance": 0}], "phone-a", _token(client))
    second = _put(client, rnd, [{"offer_id": rice.id, "quantity": 9, "tolerance": 1}], "phone-b", _token(client))
    assert second.json["previous"]["updated_at"] == first.json["order"]["updated_at"]
    assert second.json["previous"]["lines"][0]["quantity"] == 7
    page = client.get(f"/rounds/{rnd.id}/order").get_data(as_text=True)
    assert f'data-updated-at="{second.json["order"]["updated_at"].replace("Z", "+00:00")}"' in page or \
        'data-updated-at="' + second.json["order"]["updated_at"] in page
    assert csrf(page)


@pytest.mark.parametrize("who,status", [("anonymous", 401), ("committee", 403)])
def test_only_the_groups_leader_writes(client, world, db_session, who, status):  # type: ignore[no-untyped-def]
    from tests.integration.pages_helpers import csrf

    if who == "anonymous":
        token = csrf(client.get("/login").get_data(as_text=True))  # a valid token, but nobody logged in
    else:
        login(client, world[who])
        token = _token(client)
    response = _put(client, world["round"], [{"offer_id": world["rice"].id, "quantity": 5, "tolerance": 0}], "k", token)
    assert response.status_code == status and response.json["error"]["code"] in ("not_authenticated", "forbidden")
    assert _order_writes(db_session) == 0


def test_bad_lines_are_422_naming_the_field(client, world, db_session):  # type: ignore[no-untyped-def]
    login(client, world["leader"])
    token = _token(client)
    response = _put(client, world["round"], [{"offer_id": world["rice"].id, "quantity": -1, "tolerance": 0}], "b1", token)
    assert response.status_code == 422 and "lines" in response.json["error"]["fields"]
    raw = client.put(f"/rounds/{world['round'].id}/order", data="not json", headers={"X-CSRFToken": token},
                     content_type="application/json")
    assert raw.status_code == 422
    assert _order_writes(db_session) == 0
