"""Connecting LINE with a one-time code: the webhook (line-bot-sdk's parser checks LINE's signature),
the bot's Thai answers through the real SDK's reply API to a stand-in on 127.0.0.1, codes that are
wrong, used or expired, a guesser slowed down, and follow/unfollow. Real PostgreSQL."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from tests.notify_support import LINE_TOKEN, LineStandIn, line_stand_in

SECRET = "test-channel-secret-7f"
LINE_A = "U" + "a" * 32
LINE_B = "U" + "b" * 32


@pytest.fixture
def line(app: Any, db_session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[LineStandIn]:
    with line_stand_in() as stand_in:
        for key, value in {"LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_API_ENDPOINT": stand_in.url,
                           "LINE_CHANNEL_SECRET": SECRET, "LINE_BOT_BASIC_ID": "@ruamsue"}.items():
            monkeypatch.setitem(app.config, key, value)
        yield stand_in


def sign(body: bytes, secret: str = SECRET) -> str:
    """As LINE signs a webhook call: base64 of the HMAC-SHA256 of the raw body with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def event(kind: str, user: str, text: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "mode": "active", "timestamp": 1764806400000,
                            "source": {"type": "user", "userId": user}, "webhookEventId": uuid.uuid4().hex.upper(),
                            "deliveryContext": {"isRedelivery": False}}
    if kind != "unfollow":
        data["replyToken"] = uuid.uuid4().hex
    if kind == "follow":
        data["follow"] = {"isUnblocked": False}
    if text is not None:
        data["message"] = {"type": "text", "id": "468789577898262530", "quoteToken": "q", "text": text}
    return data


def call(client: Any, *events: dict[str, Any], signature: str | None = "sign") -> Any:
    body = json.dumps({"destination": "U" + "f" * 32, "events": list(events)}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Line-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Line-Signature"] = signature
    return client.post("/line/webhook", data=body, headers=headers)


def said(line: LineStandIn) -> list[str]:
    return [r["body"]["messages"][0]["text"] for r in line.replies()]


def settings_of(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/me/notification-settings", headers=headers)
    assert response.status_code == 200
    return dict(response.json)


@pytest.fixture
def leader(make_network: Any, make_group: Any, make_user: Any, token_for: Any) -> tuple[Any, dict[str, str]]:
    network = make_network()
    user = make_user(network, "leader", make_group(network))
    user.name = "คุณสมศรี"
    return user, token_for(user)


def test_a_code_sent_to_the_bot_links_that_line_user(client, line, leader):  # type: ignore[no-untyped-def]
    user, headers = leader
    made = client.post("/api/v1/me/line-link", headers=headers)
    assert made.status_code == 201
    code = made.json["code"]
    assert len(code) == 8 and code.isdigit()
    expires = datetime.fromisoformat(made.json["expires_at"])
    assert timedelta(minutes=14, seconds=50) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert made.json["add_friend_url"] == "https://line.me/R/ti/p/%40ruamsue"
    assert made.json["send_code_url"] == f"https://line.me/R/oaMessage/%40ruamsue/?{code}"
    assert settings_of(client, headers)["line"] is False

    # Typed on a Thai keyboard, with a space: still the code.
    thai = code[:4].translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")) + " " + code[4:]
    assert call(client, event("message", LINE_A, thai)).status_code == 200
    now = settings_of(client, headers)
    assert now["line"] is True and now["line_user_id"] == LINE_A
    assert said(line) == ["เชื่อมต่อ LINE กับบัญชี คุณสมศรี ในรวมซื้อแล้ว จากนี้จะได้รับการแจ้งเตือนทาง LINE นี้"]
    assert line.problems == []
    assert line.replies()[0]["headers"]["Authorization"] == f"Bearer {LINE_TOKEN}"

    # One use: the same code from someone else links nobody and is answered in Thai.
    call(client, event("message", LINE_B, code))
    assert said(line)[-1].startswith("รหัสนี้ถูกใช้ไปแล้ว")
    assert settings_of(client, headers)["line_user_id"] == LINE_A


def test_a_missing_or_wrong_signature_changes_nothing(client, line, leader, db_session):  # type: ignore[no-untyped-def]
    from notifications.models import LineLinkCode

    user, headers = leader
    code = client.post("/api/v1/me/line-link", headers=headers).json["code"]
    for signature in (None, "", sign(b"another body"), sign(b"{}", "another-secret"), "not base64 !"):
        response = call(client, event("message", LINE_A, code), signature=signature)
        assert response.status_code == 400, signature
        assert response.json["error"]["code"] == "bad_signature"
    assert settings_of(client, headers)["line"] is False
    assert db_session.scalar(select(LineLinkCode.used_at).where(LineLinkCode.user_id == user.id)) is None
    assert line.requests == []
    # A correctly signed body that is not LINE's JSON: 400, not a 5xx.
    body = b"[1, 2]"
    assert client.post("/line/webhook", data=body, headers={"X-Line-Signature": sign(body)}).status_code == 400


def test_the_webhook_is_off_without_a_channel_secret(client, app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "LINE_CHANNEL_SECRET", "")
    assert call(client, event("follow", LINE_A)).status_code == 404


def test_wrong_and_expired_codes_are_answered_in_thai_and_link_nobody(client, line, leader):  # type: ignore[no-untyped-def]
    user, headers = leader
    code = client.post("/api/v1/me/line-link", headers=headers).json["code"]
    wrong = f"{(int(code) + 1) % 10 ** 8:08d}"
    call(client, event("message", LINE_A, wrong))
    assert said(line)[-1].startswith("ไม่พบรหัสนี้")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=15, seconds=1), tick=False):
        call(client, event("message", LINE_A, code))
    assert said(line)[-1].startswith("รหัสนี้หมดอายุแล้ว")
    assert settings_of(client, headers)["line"] is False
    # Words that are not a code: how to connect, nothing counted.
    call(client, event("message", LINE_B, "สวัสดีครับ"))
    assert said(line)[-1].startswith("สวัสดีค่ะ นี่คือบัญชี LINE ของเครือข่ายรวมซื้อ")
    # A newer code replaces the older one.
    first = client.post("/api/v1/me/line-link", headers=headers).json["code"]
    second = client.post("/api/v1/me/line-link", headers=headers).json["code"]
    call(client, event("message", LINE_B, first))
    assert said(line)[-1].startswith("รหัสนี้หมดอายุแล้ว")
    call(client, event("message", LINE_B, second))
    assert settings_of(client, headers)["line_user_id"] == LINE_B


def test_many_wrong_codes_from_one_line_user_are_slowed_down(client, line, leader):  # type: ignore[no-untyped-def]
    user, headers = leader
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        code = client.post("/api/v1/me/line-link", headers=headers).json["code"]
        wrongs = [f"{(int(code) + k) % 10 ** 8:08d}" for k in range(1, 6)]
        for guess in wrongs:
            call(client, event("message", LINE_A, guess))
        assert all(text.startswith("ไม่พบรหัสนี้") for text in said(line))
        # The sixth try, even with the right code, is not looked at.
        call(client, event("message", LINE_A, code))
        assert said(line)[-1] == "ส่งรหัสผิดหลายครั้งเกินไป กรุณารอ 15 นาทีแล้วส่งรหัสใหม่อีกครั้ง ยังไม่ได้เชื่อมต่อบัญชีใด"
        assert settings_of(client, headers)["line"] is False
        # Another LINE user is not held back by the guesser.
        other = client.post("/api/v1/me/line-link", headers=headers).json["code"]
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        call(client, event("message", LINE_A, other))
        assert said(line)[-1].startswith("ส่งรหัสผิดหลายครั้งเกินไป กรุณารอ 5 นาที")
        call(client, event("message", LINE_B, other))
        assert settings_of(client, headers)["line_user_id"] == LINE_B
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        again = client.post("/api/v1/me/line-link", headers=headers).json["code"]
        call(client, event("message", LINE_A, again))
        assert settings_of(client, headers)["line_user_id"] == LINE_A


def test_unfollow_marks_line_blocked_and_follow_brings_it_back(client, line, leader, db_session):  # type: ignore[no-untyped-def]
    from notifications.models import Delivery, Notification

    user, headers = leader
    code = client.post("/api/v1/me/line-link", headers=headers).json["code"]
    call(client, event("message", LINE_A, code))
    note = Notification(network_id=user.network_id, user_id=user.id, event_key="round_opened:x", kind="round_opened",
                        title="t", body="b", link="/")
    db_session.add(note)
    db_session.flush()
    db_session.add(Delivery(notification_id=note.id, network_id=user.network_id, user_id=user.id,
                            event_key=note.event_key, channel="line", state="pending"))
    db_session.commit()

    assert call(client, event("unfollow", LINE_A)).status_code == 200
    now = settings_of(client, headers)
    assert now["line"] is False and now["line_blocked_at"] is not None and now["line_user_id"] == LINE_A
    assert db_session.scalar(select(Delivery.state).where(Delivery.event_key == "round_opened:x")) == "skipped"
    kinds = [n["kind"] for n in client.get("/api/v1/notifications", headers=headers).json]
    assert "line_blocked" in kinds  # told in the app

    call(client, event("follow", LINE_A))
    now = settings_of(client, headers)
    assert now["line"] is True and now["line_blocked_at"] is None
    assert said(line)[-1] == "ยินดีต้อนรับกลับค่ะ เปิดการแจ้งเตือนทาง LINE ให้บัญชี คุณสมศรี อีกครั้งแล้ว"
    # A stranger following gets told how to connect; nobody's settings change.
    call(client, event("follow", LINE_B))
    assert said(line)[-1].startswith("สวัสดีค่ะ")
    assert settings_of(client, headers)["line_user_id"] == LINE_A


def test_a_line_account_moves_to_the_user_who_linked_it_last(client, line, leader, make_user, token_for):  # type: ignore[no-untyped-def]
    from core.db import db
    from network.models import Network

    user, headers = leader
    call(client, event("message", LINE_A, client.post("/api/v1/me/line-link", headers=headers).json["code"]))
    second = make_user(db.session.get(Network, user.network_id), "committee")
    second_headers = token_for(second)
    call(client, event("message", LINE_A, client.post("/api/v1/me/line-link", headers=second_headers).json["code"]))
    assert settings_of(client, second_headers)["line_user_id"] == LINE_A
    first = settings_of(client, headers)
    assert first["line"] is False and first["line_user_id"] is None


def test_the_settings_page_gives_a_code_a_friend_button_and_a_qr_code(app, line, leader):  # type: ignore[no-untyped-def]
    import re

    from tests.integration.pages_helpers import csrf, login

    user, headers = leader
    phone = app.test_client()
    login(phone, user)
    page = phone.get("/notifications/settings").get_data(as_text=True)
    assert "ยังไม่ได้เชื่อมต่อ LINE" in page and 'id="line-code"' not in page
    assert 'href="https://line.me/R/ti/p/%40ruamsue"' in page
    assert re.search(r'<svg[^>]*class="qr"', page), "no QR code"
    answer = phone.post("/notifications/line-link", data={"csrf_token": csrf(page)})
    assert answer.status_code == 302
    page = phone.get("/notifications/settings").get_data(as_text=True)
    shown = re.search(r'id="line-code">(\d{4}) (\d{4})<', page)
    assert shown, "no code on the page"
    code = shown.group(1) + shown.group(2)
    assert f'href="https://line.me/R/oaMessage/%40ruamsue/?{code}"' in page
    assert "หมดอายุ" in page
    call(phone, event("message", LINE_A, code))
    page = phone.get("/notifications/settings").get_data(as_text=True)
    assert "เชื่อมต่อ LINE แล้ว" in page and 'id="line-code"' not in page  # a used code is not shown again
    assert settings_of(phone, headers)["line_user_id"] == LINE_A


def test_wrong_codes_sent_at_once_are_all_counted(worker_app, committed, monkeypatch):  # type: ignore[no-untyped-def]
    """Eight wrong codes from one LINE user at the same moment (real commits, eight threads): the counter
    row is locked while counted, so exactly five count and the rest are already held back."""
    import threading

    from network.models import Group, Network, User
    from notifications.models import LineLinkFailure

    monkeypatch.setitem(worker_app.config, "LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.setitem(worker_app.config, "LINE_CHANNEL_ACCESS_TOKEN", "")  # no replies: only the counting
    network = Network(name="เครือข่ายทดสอบ", timezone="Asia/Bangkok")
    committed.add(network)
    committed.flush()
    group = Group(network_id=network.id, name="กลุ่มทดสอบ", members=5, registered_poor_members=1)
    committed.add(group)
    committed.flush()
    user = User(network_id=network.id, email="l@example.org", name="ผู้นำ", role="leader", group_id=group.id,
                password_hash="x", session_version=0, active=True)
    committed.add(user)
    committed.commit()
    user_id = user.id
    from notifications import line_link

    code = line_link.new_code(user).code
    committed.remove()
    statuses: list[int] = []
    start = threading.Barrier(8)

    def guess(k: int) -> None:
        start.wait()
        statuses.append(call(worker_app.test_client(), event("message", LINE_A, f"{(int(code) + k) % 10 ** 8:08d}"))
                        .status_code)

    threads = [threading.Thread(target=guess, args=(k,)) for k in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert committed.get(LineLinkFailure, LINE_A).failures == 5
    committed.remove()
    call(worker_app.test_client(), event("message", LINE_A, code))  # held back: the right code is not looked at
    assert committed.scalar(select(LineLinkFailure.failures).where(LineLinkFailure.line_user_id == LINE_A)) == 5
    from notifications.models import NotificationSettings

    assert committed.get(NotificationSettings, user_id) is None
