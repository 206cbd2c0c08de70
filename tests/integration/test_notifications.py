"""Notifications in one process on real PostgreSQL: who hears of an event, exactly once, in which
language; sending over the real LINE SDK to a stand-in and over SMTP to aiosmtpd; quiet hours,
retries with back-off, a user who blocked the LINE account; the API and its permissions."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from tests.notify_support import LINE_TOKEN, LineStandIn, Mailbox, line_stand_in, smtp_server

LINE_A = "U" + "a" * 32
LINE_B = "U" + "b" * 32


@pytest.fixture
def outside(app: Any, db_session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LineStandIn, Mailbox]]:
    with line_stand_in() as line, smtp_server() as box:
        for key, value in {"LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_API_ENDPOINT": line.url,
                           "MAIL_SERVER": box.host, "MAIL_PORT": box.port, "NOTIFY_RETRY_BASE": 60,
                           "NOTIFY_MAX_ATTEMPTS": 3, "PUBLIC_BASE_URL": "https://ruamsue.example"}.items():
            monkeypatch.setitem(app.config, key, value)
        yield line, box


def _settings(db_session: Any, user: Any, **values: Any) -> None:
    from notifications.models import NotificationSettings

    db_session.add(NotificationSettings(user_id=user.id, **values))
    db_session.commit()


def _world(make_network: Any, make_group: Any, make_user: Any, db_session: Any) -> dict[str, Any]:
    network = make_network()
    g1, g2 = make_group(network, name="กลุ่มแม่บ้านท่าบ่อ"), make_group(network)
    leader1, leader2 = make_user(network, "leader", g1), make_user(network, "leader", g2)
    seller1 = make_user(network, "seller", g1)
    committee, admin = make_user(network, "committee"), make_user(network, "admin")
    other = make_network()
    outsider = make_user(other, "leader", make_group(other))
    _settings(db_session, leader1, line=True, line_user_id=LINE_A)
    leader2.locale = "en"
    db_session.commit()
    return {"network": network, "g1": g1, "g2": g2, "leader1": leader1, "leader2": leader2, "seller1": seller1,
            "committee": committee, "admin": admin, "outsider": outsider}


def _emit(w: dict[str, Any], key: str = "payment_recorded:1", group: Any = None, **context: Any) -> Any:
    from core.notify import Audience, Event, emit

    event = Event(key=key, kind="payment_recorded", network_id=w["network"].id,
                  audience=(Audience("leaders", (group or w["g1"]).id),),
                  context={"round": "รอบข้าวสาร", "group": (group or w["g1"]).name, "amount": Decimal("1250.5"),
                           "paid": Decimal("1250.50"), "total": Decimal("12345.67"), "outstanding": Decimal("11095.17"),
                           **context},
                  link="/invoices/7")
    emit(event)
    return event


def _rows(db_session: Any, model: Any, **where: Any) -> list[Any]:
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return list(db_session.scalars(query.order_by(model.id)))


def test_an_event_reaches_only_its_audience_once_per_channel(outside, make_network, make_group, make_user, db_session):
    from core.models import Job
    from notifications.models import Delivery, Notification

    w = _world(make_network, make_group, make_user, db_session)
    _emit(w)
    db_session.commit()
    _emit(w)  # the same event again (a retried job): nothing new
    db_session.commit()
    rows = _rows(db_session, Notification, event_key="payment_recorded:1")
    assert [n.user_id for n in rows] == [w["leader1"].id]
    deliveries = _rows(db_session, Delivery, event_key="payment_recorded:1")
    assert sorted(d.channel for d in deliveries) == ["email", "line"]
    assert db_session.scalar(select(func.count()).select_from(Job).where(Job.dedupe_key == "notify:payment_recorded:1")) == 1

    # Thai by default, baht with separators and two decimals, the page it is about.
    assert rows[0].title == "บันทึกการชำระเงิน 1,250.50 บาทแล้ว"
    assert "ชำระแล้ว 1,250.50 บาท จาก 12,345.67 บาท คงเหลือ 11,095.17 บาท" in rows[0].body
    assert rows[0].link == "/invoices/7"


def test_english_for_a_user_who_chose_english_and_committee_audience(outside, make_network, make_group, make_user,
                                                                     db_session):
    from core.notify import Audience, Event, emit
    from notifications.models import Notification

    w = _world(make_network, make_group, make_user, db_session)
    _emit(w, key="payment_recorded:2", group=w["g2"])
    emit(Event(key="summary_ready:2026-11", kind="summary_ready", network_id=w["network"].id,
               audience=(Audience("committee"),), context={"month": "2026-11", "savings": Decimal("98765.4"),
                                                           "spend": Decimal("1234567")}, link="/summaries/2026-11"))
    db_session.commit()
    english = _rows(db_session, Notification, event_key="payment_recorded:2")
    assert [n.user_id for n in english] == [w["leader2"].id]
    assert english[0].title == "Payment of 1,250.50 baht recorded"
    summary = _rows(db_session, Notification, event_key="summary_ready:2026-11")
    assert sorted(n.user_id for n in summary) == sorted([w["committee"].id, w["admin"].id])
    assert summary[0].title == "สรุปเดือน พ.ย. 2569 พร้อมให้ตรวจแล้ว"
    assert "ประหยัดได้ 98,765.40 บาท จากยอดซื้อ 1,234,567.00 บาท" in summary[0].body


def test_another_networks_group_finds_nobody(outside, make_network, make_group, make_user, db_session):
    from notifications.models import Notification

    w = _world(make_network, make_group, make_user, db_session)
    # An event of network A naming network B's group: B's leader hears nothing.
    _emit(w, key="payment_recorded:x", group=w["outsider"].group)
    db_session.commit()
    assert _rows(db_session, Notification, event_key="payment_recorded:x") == []
    assert _rows(db_session, Notification, user_id=w["outsider"].id) == []


def test_sending_line_and_email_exactly_once(outside, make_network, make_group, make_user, db_session):
    from notifications.models import Delivery
    from notifications.sending import send_due, send_event

    line, box = outside
    w = _world(make_network, make_group, make_user, db_session)
    with time_machine.travel(datetime(2026, 12, 2, 3, 0, tzinfo=UTC), tick=False):  # 10:00 Bangkok
        _emit(w)
        db_session.commit()
        first = send_event("payment_recorded:1")
        second = send_event("payment_recorded:1")
        sweep = send_due()
    assert first["sent"] == 2 and second == {"sent": 0, "deferred": 0, "retrying": 0, "failed": 0, "skipped": 0}
    assert sweep["sent"] == 0
    pushes = line.pushes()
    assert line.problems == [] and len(pushes) == 1
    push = pushes[0]
    assert push["path"] == "/v2/bot/message/push"
    assert push["headers"]["Authorization"] == f"Bearer {LINE_TOKEN}"
    assert push["body"]["to"] == LINE_A
    assert push["body"]["messages"][0]["type"] == "text"
    assert push["body"]["messages"][0]["text"].startswith("บันทึกการชำระเงิน 1,250.50 บาทแล้ว\n")
    assert push["body"]["messages"][0]["text"].endswith("\nhttps://ruamsue.example/invoices/7")
    mails = box.received()
    assert len(mails) == 1
    # RFC 2047 encoded words, folded after "Subject:"; unfolding leaves the fold's space, which mail
    # readers drop as we do here.
    assert str(mails[0]["Subject"]).strip() == "บันทึกการชำระเงิน 1,250.50 บาทแล้ว"
    assert "=?utf-8?" in mails[0].as_string().split("\n\n", 1)[0]  # encoded, not raw 8-bit, in the header
    assert mails[0]["To"] == w["leader1"].email
    body = mails[0].get_content()
    assert "คงเหลือ 11,095.17 บาท" in body and "https://ruamsue.example/invoices/7" in body
    assert {d.state for d in _rows(db_session, Delivery, event_key="payment_recorded:1")} == {"sent"}


def test_quiet_hours_hold_line_and_email_until_morning_in_the_networks_zone(outside, make_network, make_group,
                                                                           make_user, db_session):
    from notifications.models import Delivery, Notification
    from notifications.sending import send_due, send_event

    line, box = outside
    w = _world(make_network, make_group, make_user, db_session)
    night = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # 22:30 in Bangkok
    with time_machine.travel(night, tick=False):
        _emit(w)
        db_session.commit()
        assert send_event("payment_recorded:1")["deferred"] == 2
        assert _rows(db_session, Notification, event_key="payment_recorded:1")  # in-app at once
    assert line.requests == [] and box.received() == []
    morning = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 07:00 Bangkok
    deliveries = _rows(db_session, Delivery, event_key="payment_recorded:1")
    assert {d.next_attempt_at for d in deliveries} == {morning}
    with time_machine.travel(morning - timedelta(minutes=1), tick=False):
        assert send_due()["sent"] == 0
    assert line.requests == []
    with time_machine.travel(morning + timedelta(seconds=30), tick=False):
        assert send_due()["sent"] == 2
        assert send_due()["sent"] == 0
    assert len(line.pushes()) == 1 and len(box.received()) == 1


def test_own_quiet_hours_of_a_user(outside, make_network, make_group, make_user, db_session):
    from notifications.sending import send_event

    line, _box = outside
    w = _world(make_network, make_group, make_user, db_session)
    from notifications.models import NotificationSettings

    settings = db_session.get(NotificationSettings, w["leader1"].id)
    settings.quiet_from, settings.quiet_until = time(9, 0), time(12, 0)
    db_session.commit()
    with time_machine.travel(datetime(2026, 12, 2, 3, 0, tzinfo=UTC), tick=False):  # 10:00 Bangkok
        _emit(w)
        db_session.commit()
        assert send_event("payment_recorded:1")["deferred"] == 2
    assert line.requests == []


def test_retries_back_off_then_fail_and_the_admin_sees_it(outside, make_network, make_group, make_user, db_session,
                                                          client, token_for):
    from notifications.models import Delivery
    from notifications.sending import send_due, send_event
    from tests.integration.pages_helpers import login

    line, _box = outside
    w = _world(make_network, make_group, make_user, db_session)
    failing = {"message": "Internal error"}
    line.answer(LINE_A, (500, failing), (503, failing), (500, failing))
    start = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _emit(w)
        db_session.commit()
        assert send_event("payment_recorded:1")["retrying"] == 1
    delivery = _rows(db_session, Delivery, event_key="payment_recorded:1", channel="line")[0]
    db_session.refresh(delivery)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("pending", 1, start + timedelta(seconds=60))
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        assert send_due()["retrying"] == 0  # not before its back-off
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert send_due()["retrying"] == 1
    db_session.refresh(delivery)
    assert delivery.next_attempt_at == start + timedelta(seconds=61 + 120)  # doubled
    with time_machine.travel(start + timedelta(seconds=61 + 121), tick=False):
        assert send_due()["failed"] == 1
    db_session.refresh(delivery)
    assert delivery.state == "failed" and delivery.attempts == 3 and "500" in (delivery.last_error or "")
    assert len(line.requests) == 3
    # The same retry key on every attempt (LINE drops a repeat of an accepted one).
    assert len({r["retry_key"] for r in line.requests}) == 1

    login(client, w["admin"])
    page = client.get("/admin/notifications/failed")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "บันทึกการชำระเงิน 1,250.50 บาทแล้ว" in html and w["leader1"].name in html
    login(client, w["leader1"])
    assert client.get("/admin/notifications/failed").status_code == 403


def test_a_user_who_blocked_the_line_account_is_switched_to_in_app(outside, make_network, make_group, make_user,
                                                                  db_session):
    from notifications.models import Delivery, Notification, NotificationSettings
    from notifications.sending import send_event

    line, box = outside
    w = _world(make_network, make_group, make_user, db_session)
    line.answer(LINE_A, (403, {"message": "The user has blocked the account or is not a friend"}))
    with time_machine.travel(datetime(2026, 12, 2, 3, 0, tzinfo=UTC), tick=False):
        _emit(w)
        db_session.commit()
        report = send_event("payment_recorded:1")
    assert report["skipped"] == 1 and report["sent"] == 1  # e-mail still went
    settings = db_session.get(NotificationSettings, w["leader1"].id)
    db_session.refresh(settings)
    assert settings.line is False and settings.line_blocked_at is not None
    told = _rows(db_session, Notification, user_id=w["leader1"].id, kind="line_blocked")
    assert len(told) == 1 and "LINE" in told[0].title
    # The next event goes in-app (and by e-mail), never to LINE.
    _emit(w, key="payment_recorded:9")
    db_session.commit()
    assert {d.channel for d in _rows(db_session, Delivery, event_key="payment_recorded:9")} == {"email"}
    assert len(line.requests) == 1 and len(box.received()) == 1


def test_api_lists_own_notifications_and_refuses_anothers(outside, make_network, make_group, make_user, db_session,
                                                         client, token_for):
    w = _world(make_network, make_group, make_user, db_session)
    _emit(w, key="payment_recorded:1")
    _emit(w, key="payment_recorded:2")
    db_session.commit()
    mine, theirs = token_for(w["leader1"]), token_for(w["leader2"])
    listed = client.get("/api/v1/notifications", headers=mine)
    assert listed.status_code == 200
    items = listed.json
    assert [set(i) for i in items] == [{"id", "kind", "title", "body", "link", "created_at", "read_at"}] * 2
    assert items[0]["id"] > items[1]["id"] and all(i["read_at"] is None for i in items)
    assert items[0]["title"] == "บันทึกการชำระเงิน 1,250.50 บาทแล้ว"
    assert client.get("/api/v1/notifications", headers=theirs).json == []
    # Another user's notification: 404, and it stays unread.
    assert client.post(f"/api/v1/notifications/{items[0]['id']}/read", headers=theirs).status_code == 404
    assert client.get("/api/v1/notifications?unread=true", headers=mine).json[0]["id"] == items[0]["id"]
    read = client.post(f"/api/v1/notifications/{items[0]['id']}/read", headers=mine)
    assert read.status_code == 200 and read.json["read_at"] is not None
    again = client.post(f"/api/v1/notifications/{items[0]['id']}/read", headers=mine)
    assert again.json["read_at"] == read.json["read_at"]
    assert [i["id"] for i in client.get("/api/v1/notifications?unread=true", headers=mine).json] == [items[1]["id"]]
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/999999/read", headers=mine).status_code == 404


def test_settings_api_validates_and_round_trips(client, make_network, make_group, make_user, token_for, db_session):
    network = make_network()
    user = make_user(network, "leader", make_group(network))
    auth = token_for(user)
    got = client.get("/api/v1/me/notification-settings", headers=auth)
    assert got.json == {"email": True, "line": False, "line_user_id": None, "quiet_from": "21:00",
                        "quiet_until": "07:00", "line_blocked_at": None}
    bad = client.put("/api/v1/me/notification-settings", headers=auth, json={"email": True, "line": True})
    assert bad.status_code == 422 and "line_user_id" in bad.json["error"]["fields"]
    bad = client.put("/api/v1/me/notification-settings", headers=auth,
                     json={"email": "yes", "line": False, "quiet_from": "25:00", "line_user_id": "nope"})
    assert bad.status_code == 422 and {"email", "quiet_from"} <= set(bad.json["error"]["fields"])
    bad = client.put("/api/v1/me/notification-settings", headers=auth,
                     json={"email": True, "line": False, "line_user_id": "nope"})
    assert bad.status_code == 422 and "line_user_id" in bad.json["error"]["fields"]
    assert client.get("/api/v1/me/notification-settings", headers=auth).json == got.json  # nothing written
    put = client.put("/api/v1/me/notification-settings", headers=auth,
                     json={"email": False, "line": True, "line_user_id": LINE_B, "quiet_from": "22:00",
                           "quiet_until": "06:30"})
    assert put.status_code == 200
    assert client.get("/api/v1/me/notification-settings", headers=auth).json == {
        "email": False, "line": True, "line_user_id": LINE_B, "quiet_from": "22:00", "quiet_until": "06:30",
        "line_blocked_at": None}
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/notifications", "/api/v1/notifications/{notification_id}/read",
                 "/api/v1/me/notification-settings"):
        assert path in spec["paths"], path


def test_pages_bell_list_read_and_settings(outside, make_network, make_group, make_user, db_session, client):
    from tests.integration.pages_helpers import csrf as csrf_of
    from tests.integration.pages_helpers import login

    w = _world(make_network, make_group, make_user, db_session)
    _emit(w)
    db_session.commit()
    login(client, w["leader1"])
    home = client.get("/").get_data(as_text=True)
    assert 'id="bell"' in home and '<span class="count">1</span>' in home
    page = client.get("/notifications")
    html = page.get_data(as_text=True)
    assert "บันทึกการชำระเงิน 1,250.50 บาทแล้ว" in html
    from notifications.models import Notification

    note = _rows(db_session, Notification, user_id=w["leader1"].id)[0]
    opened = client.post(f"/notifications/{note.id}/read", data={"csrf_token": csrf_of(html), "open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/invoices/7")
    assert '<span class="count">' not in client.get("/notifications").get_data(as_text=True)
    # Someone else's notification cannot be marked from the page either.
    login(client, w["leader2"])
    html = client.get("/notifications").get_data(as_text=True)
    assert client.post(f"/notifications/{note.id}/read", data={"csrf_token": csrf_of(html)}).status_code == 404
    # Settings page: LINE without an id is refused in Thai, nothing saved; with one it is saved.
    form = client.get("/notifications/settings").get_data(as_text=True)
    refused = client.post("/notifications/settings", data={"csrf_token": csrf_of(form), "email": "y", "line": "y",
                                                           "line_user_id": "", "quiet_from": "21:00",
                                                           "quiet_until": "07:00"})
    assert refused.status_code == 422 and "ต้องกรอกรหัสผู้ใช้ LINE" in refused.get_data(as_text=True)
    saved = client.post("/notifications/settings", data={"csrf_token": csrf_of(form), "line": "y",
                                                         "line_user_id": LINE_B, "quiet_from": "20:00",
                                                         "quiet_until": "06:00"})
    assert saved.status_code == 302
    from notifications.models import NotificationSettings

    settings = db_session.get(NotificationSettings, w["leader2"].id)
    assert (settings.email, settings.line, settings.line_user_id, settings.quiet_from) == (False, True, LINE_B,
                                                                                           time(20, 0))
