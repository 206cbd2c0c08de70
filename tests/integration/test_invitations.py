"""Invitations: POST /api/v1/users/<id>/invitation, one use, expiry, the page that sets a password and logs
in, the printed sheet; the same one-time link mechanism as a password reset (network.access)."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from network.models import NO_PASSWORD, AccessLink, ApiToken, User
from tests.integration.pages_helpers import csrf, login


@pytest.fixture
def ctx(make_network, make_user, make_group, token_for, db_session):
    network = make_network()
    admin = make_user(network, "admin")
    group = make_group(network, name="สหกรณ์บ้านนา")
    invitee = User(network_id=network.id, email=f"somchai-{network.id}@example.org", name="สมชาย ใจดี",
                   role="leader", group_id=group.id, password_hash=NO_PASSWORD, session_version=0, active=True)
    db_session.add(invitee)
    db_session.commit()
    return {"network": network, "admin": admin, "h": token_for(admin), "invitee": invitee, "group": group}


def invite(client, ctx, user=None):
    response = client.post(f"/api/v1/users/{(user or ctx['invitee']).id}/invitation", headers=ctx["h"])
    assert response.status_code == 201, response.json
    return response.json


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def set_password(client, url, password="new-secret-42", again=None):
    page = client.get(path_of(url))
    assert page.status_code == 200, page.status_code
    return client.post(path_of(url), data={"password": password, "again": again or password,
                                           "csrf_token": csrf(page.get_data(as_text=True))})


def test_invitation_answers_a_link_and_its_expiry(client, ctx):
    body = invite(client, ctx)
    assert re.match(r"^http://[^/]+/welcome/rs_[A-Za-z0-9_-]{40,}$", body["url"]), body["url"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=13) < expires - datetime.now(expires.tzinfo) <= timedelta(days=14)


def test_opening_the_link_sets_the_password_and_logs_in_once(client, db_session, ctx):
    url = invite(client, ctx)["url"]
    page = client.get(path_of(url))
    assert "สมชาย ใจดี" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    response = set_password(client, url)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "สมชาย ใจดี" in home.get_data(as_text=True)
    token = client.post("/api/v1/tokens", json={"email": ctx["invitee"].email, "password": "new-secret-42"})
    assert token.status_code == 201
    # Used once: the same link now says it is no longer valid and changes nothing.
    other = client.application.test_client()
    again = other.get(path_of(url))
    assert again.status_code == 404
    assert "ใช้ไม่ได้แล้ว" in again.get_data(as_text=True)
    assert other.post(path_of(url), data={"password": "another-one-99", "again": "another-one-99"}).status_code \
        in (400, 404)
    assert client.post("/api/v1/tokens", json={"email": ctx["invitee"].email,
                                                "password": "new-secret-42"}).status_code == 201


def test_an_expired_link_is_refused(client, ctx):
    url = invite(client, ctx)["url"]
    with time_machine.travel(datetime.now() + timedelta(days=14, minutes=1), tick=False):
        page = client.get(path_of(url))
    assert page.status_code == 404
    with time_machine.travel(datetime.now() + timedelta(days=13), tick=False):
        assert client.get(path_of(url)).status_code == 200


def test_a_short_password_is_refused_and_the_link_still_works(client, db_session, ctx):
    url = invite(client, ctx)["url"]
    response = set_password(client, url, password="short")
    assert response.status_code == 422
    assert "อย่างน้อย 8 ตัวอักษร" in response.get_data(as_text=True)
    assert set_password(client, url, password="long-enough-1", again="long-enough-2").status_code == 422
    db_session.refresh(ctx["invitee"])
    assert ctx["invitee"].password_hash == NO_PASSWORD
    assert set_password(client, url).status_code == 302


def test_using_one_link_voids_the_others_and_ends_old_tokens(client, db_session, ctx, token_for):
    first, second = invite(client, ctx)["url"], invite(client, ctx)["url"]
    old = token_for(ctx["invitee"])
    assert set_password(client, second).status_code == 302
    assert client.application.test_client().get(path_of(first)).status_code == 404
    assert client.get("/api/v1/network", headers=old).status_code == 401
    links = db_session.scalars(select(AccessLink).where(AccessLink.user_id == ctx["invitee"].id)).all()
    assert len(links) == 2 and all(link.used_at is not None for link in links)
    assert db_session.scalars(select(ApiToken).where(ApiToken.user_id == ctx["invitee"].id,
                                                     ApiToken.revoked_at.is_(None))).all() == []


def test_only_the_admin_of_the_same_network_invites(client, ctx, make_network, make_user, token_for):
    for role in ("committee", "leader"):
        someone = make_user(ctx["network"], role, ctx["group"] if role == "leader" else None)
        response = client.post(f"/api/v1/users/{ctx['invitee'].id}/invitation", headers=token_for(someone))
        assert response.status_code == 403
    stranger = make_user(make_network(), "admin")
    response = client.post(f"/api/v1/users/{ctx['invitee'].id}/invitation", headers=token_for(stranger))
    assert response.status_code == 404
    assert client.post("/api/v1/users/2147483647/invitation", headers=ctx["h"]).status_code == 404


def test_only_the_hash_of_the_token_is_stored(client, db_session, ctx):
    url = invite(client, ctx)["url"]
    token = url.rsplit("/", 1)[1]
    stored = db_session.scalars(select(AccessLink.token_hash)).all()
    assert token not in stored and len(stored[0]) == 64


def test_the_admin_page_shows_the_link_with_line_and_copy_buttons(client, ctx):
    login(client, ctx["admin"])
    users = client.get("/users")
    html = users.get_data(as_text=True)
    assert "ยังไม่ได้ตั้งรหัสผ่าน" in html
    response = client.post(f"/users/{ctx['invitee'].id}/invitation", data={"csrf_token": csrf(html)})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    url = re.search(r'id="invitation-url"[^>]*value="([^"]+)"', page).group(1)
    assert "https://line.me/R/share?text=" in page
    line = re.search(r'href="(https://line\.me/R/share\?text=[^"]+)"', page).group(1)
    from urllib.parse import unquote

    assert url in unquote(line)
    assert 'data-copy="invitation-url"' in page
    assert client.application.test_client().get(path_of(url)).status_code == 200


def test_the_printed_sheet_lists_everyone_still_waiting(client, db_session, ctx, make_user):
    make_user(ctx["network"], "committee")  # has a password: not on the sheet
    login(client, ctx["admin"])
    html = client.get("/users").get_data(as_text=True)
    response = client.post("/users/invitations", data={"csrf_token": csrf(html)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(r'class="link-cell" translate="no">([^<]+)<', page)
    assert len(rows) == 1
    # Each link also as a QR code to scan from paper: the very link, drawn by the same generator.
    import segno

    drawn = re.findall(r'<svg[^>]*class="qr".*?</svg>', page, re.S)
    assert len(drawn) == 1
    assert drawn[0] == segno.make(rows[0], error="m").svg_inline(
        scale=3, border=2, svgclass="qr", lineclass=None, omitsize=True, title="คิวอาร์โค้ดของลิงก์เชิญ")
    assert "สมชาย ใจดี" in page and "สหกรณ์บ้านนา" in page
    assert client.application.test_client().get(path_of(rows[0])).status_code == 200


def test_imported_users_then_invited_log_in(client, db_session, ctx):
    content = f"อีเมล,ชื่อ,บทบาท,กลุ่ม\nnew-{ctx['network'].id}@example.org,มาลี,ผู้ขาย,สหกรณ์บ้านนา\n".encode()
    response = client.post("/api/v1/imports", headers=ctx["h"], content_type="multipart/form-data",
                           data={"kind": "users", "dry_run": "false", "file": (io.BytesIO(content), "u.csv")})
    assert response.json["created"] == 1
    user = db_session.scalar(select(User).where(User.email == f"new-{ctx['network'].id}@example.org"))
    assert set_password(client, invite(client, ctx, user)["url"]).status_code == 302
    assert client.get("/").status_code == 200
