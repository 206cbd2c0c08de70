"""Passwords: any user changes their own; the admin (or the committee) issues a one-time reset link that
expires and works once; both end every other session and API token of that user and are in the audit
trail; a password is at least 8 characters and not a common one, at every entry point."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from tests.api.authz_world import Browser, login_client
from tests.integration.pages_helpers import PASSWORD, csrf

NEW = "kluay-thod-42-ban"


def _session(app: Any, user: Any) -> Any:
    client = login_client(app, user)
    assert client.get("/").status_code == 200
    return client


def _audit(db_session: Any, action: str) -> list[Any]:
    from sqlalchemy import select

    from core.models import AuditEvent

    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_user_changes_their_password_and_every_other_session_and_token_ends(app, db_session, make_network,
                                                                             make_user, token_for):  # type: ignore[no-untyped-def]
    network = make_network()
    leader = make_user(network, "committee")
    other_phone = _session(app, leader)
    api = token_for(leader)
    mine = _session(app, leader)
    page = mine.get("/account/password")
    assert page.status_code == 200
    token = csrf(page.get_data(as_text=True))
    wrong = mine.post("/account/password", data={"csrf_token": token, "current_password": "nope-nope-1",
                                                 "new_password": NEW, "confirm_password": NEW})
    assert wrong.status_code == 422 and "รหัสผ่านปัจจุบันไม่ถูกต้อง" in wrong.get_data(as_text=True)
    weak = mine.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                "new_password": "password1", "confirm_password": "password1"})
    assert weak.status_code == 422 and "ใช้กันทั่วไป" in weak.get_data(as_text=True)
    done = mine.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                "new_password": NEW, "confirm_password": NEW})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert mine.get("/").status_code == 200  # this session goes on
    assert other_phone.get("/").status_code == 302  # every other session ended
    assert Browser(app).get("/api/v1/network", headers=api).status_code == 401  # and every token
    assert Browser(app).post("/api/v1/tokens", json={"email": leader.email, "password": NEW}).status_code == 201
    assert len(_audit(db_session, "user.password_change")) == 1


def test_the_api_changes_the_callers_password(app, db_session, make_network, make_user, token_for):  # type: ignore[no-untyped-def]
    user = make_user(make_network(), "admin")
    keep, other = token_for(user), token_for(user)
    client = Browser(app)
    short = client.post("/api/v1/me/password", headers=keep, json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and "new_password" in short.get_json()["error"]["fields"]
    ok = client.post("/api/v1/me/password", headers=keep, json={"current_password": PASSWORD, "new_password": NEW})
    assert ok.status_code == 204, ok.get_data(as_text=True)
    assert client.get("/api/v1/network", headers=keep).status_code == 200  # the caller's own token goes on
    assert client.get("/api/v1/network", headers=other).status_code == 401


def test_a_reset_link_works_once_and_expires(app, db_session, make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    network = make_network()
    group = make_group(network)
    admin, leader = make_user(network, "admin"), make_user(network, "leader", group)
    outsider = make_user(make_network(), "admin")
    leaders_phone = _session(app, leader)
    leaders_token = token_for(leader)
    client = Browser(app)
    assert client.post(f"/api/v1/users/{leader.id}/password-reset", headers=token_for(outsider)).status_code == 404
    assert client.post(f"/api/v1/users/{admin.id}/password-reset", headers=token_for(leader)).status_code == 403
    issued = client.post(f"/api/v1/users/{leader.id}/password-reset", headers=token_for(admin))
    assert issued.status_code == 201, issued.get_data(as_text=True)
    url = issued.get_json()["url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "ตั้งรหัสผ่านใหม่" in page.get_data(as_text=True)
    token = csrf(page.get_data(as_text=True))
    common = client.post(path, data={"csrf_token": token, "new_password": "12345678", "confirm_password": "12345678"})
    assert common.status_code == 422
    done = client.post(path, data={"csrf_token": token, "new_password": NEW, "confirm_password": NEW})
    assert done.status_code == 302
    assert leaders_phone.get("/").status_code == 302
    assert client.get("/api/v1/network", headers=leaders_token).status_code == 401
    again = client.post(path, data={"csrf_token": token, "new_password": NEW + "x", "confirm_password": NEW + "x"})
    assert again.status_code == 404 and "ใช้ไปแล้วหรือหมดอายุ" in again.get_data(as_text=True)
    assert client.post("/api/v1/tokens", json={"email": leader.email, "password": NEW}).status_code == 201
    assert len(_audit(db_session, "user.reset")) == 1 and len(_audit(db_session, "user.reset_used")) == 1

    late = client.post(f"/api/v1/users/{leader.id}/password-reset", headers=token_for(admin)).get_json()["url"]
    late_path = "/" + late.split("://", 1)[1].split("/", 1)[1]
    with time_machine.travel(issued_time_plus(hours=25), tick=False):
        assert client.get(late_path).status_code == 404


def issued_time_plus(**delta: Any) -> Any:
    from core.clock import utcnow

    return utcnow() + timedelta(**delta)


@pytest.mark.parametrize("password", ["short", "password", "12345678", "qwertyuiop", "aaaaaaaaaa"])
def test_weak_passwords_are_refused_at_every_entry_point(app, db_session, make_network, make_user, token_for,
                                                         password):  # type: ignore[no-untyped-def]
    network = make_network()
    admin = make_user(network, "admin")
    client = Browser(app)
    created = client.post("/api/v1/users", headers=token_for(admin), json={
        "email": f"new-{re.sub(r'[^a-z0-9]', '', password)}@example.org", "password": password, "name": "N",
        "role": "committee"})
    assert created.status_code == 422 and "password" in created.get_json()["error"]["fields"]
    from network.passwords import password_problem

    assert password_problem(password) is not None and password_problem(NEW) is None


def test_the_admin_issues_a_link_from_the_users_page(app, db_session, make_network, make_group, make_user):  # type: ignore[no-untyped-def]
    network = make_network()
    admin, leader = make_user(network, "admin"), make_user(network, "leader", make_group(network))
    browser = login_client(app, admin)
    page = browser.get("/users").get_data(as_text=True)
    assert f"/users/{leader.id}/password-reset" in page
    issued = browser.post(f"/users/{leader.id}/password-reset", data={"csrf_token": csrf(page)})
    html = issued.get_data(as_text=True)
    assert issued.status_code == 201 and "ใช้ได้ครั้งเดียว" in html
    link = re.search(r'value="(http[^"]+/reset/[^"]+)"', html)
    assert link is not None and Browser(app).get(link.group(1)).status_code == 200


def test_the_audit_trail_says_it_in_a_sentence(app, db_session, make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    network = make_network()
    admin, leader = make_user(network, "admin"), make_user(network, "leader", make_group(network))
    assert Browser(app).post(f"/api/v1/users/{leader.id}/password-reset", headers=token_for(admin)).status_code == 201
    page = login_client(app, admin).get("/audit").get_data(as_text=True)
    assert "สร้างลิงก์ตั้งรหัสผ่านใหม่สำหรับ" in page and leader.name in page
