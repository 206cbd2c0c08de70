"""Log in with LINE: the real Authlib client against an OpenID Connect stand-in on 127.0.0.1 that issues
signed ID tokens (tests/oidc_support.py). A connected user signs in; a tampered, expired or misaddressed
ID token, a replayed or forged state, and a LINE account connected to nobody sign nobody in (and make no
account); the settings page connects the signed-in user's LINE the same way. Real PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from tests.integration.pages_helpers import csrf, login
from tests.oidc_support import Provider, line_login_provider, settings

LINE_A = "U" + "a" * 32
LINE_B = "U" + "b" * 32


class Phone:
    """A test client whose requests each start with an empty ``g`` (the test's app context is shared)."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()

    def get(self, url: str, **kwargs: Any) -> Any:
        from flask import g

        for name in list(g):
            g.pop(name, None)
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        from flask import g

        for name in list(g):
            g.pop(name, None)
        return self.client.post(url, **kwargs)


@pytest.fixture
def provider(app: Any, db_session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    with line_login_provider() as stand_in:
        for key, value in settings(stand_in).items():
            monkeypatch.setitem(app.config, key, value)
        yield stand_in


@pytest.fixture
def leader(make_network: Any, make_group: Any, make_user: Any, db_session: Any) -> Any:
    from notifications.models import NotificationSettings

    network = make_network()
    user = make_user(network, "leader", make_group(network))
    db_session.add(NotificationSettings(user_id=user.id, line=True, line_user_id=LINE_A))
    db_session.commit()
    return user


def line_login(phone: Phone, provider: Provider, who: str, start: Any = None) -> Any:
    """Tap "log in with LINE", log in at the stand-in as ``who``, come back: the callback's answer."""
    provider.user = who
    first = start() if start else phone.get("/login/line")
    assert first.status_code == 302, first.get_data(as_text=True)[:300]
    authorize = first.headers["Location"]
    assert authorize.startswith(provider.url + "/oauth2/v2.1/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    back = requests.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    target = urlsplit(back.headers["Location"])
    assert target.path == "/login/line/callback"
    return phone.get(f"{target.path}?{target.query}")


def signed_in(phone: Phone) -> bool:
    return phone.get("/").status_code == 200


def test_a_connected_user_logs_in_with_line(app, provider, leader):  # type: ignore[no-untyped-def]
    phone = Phone(app)
    assert not signed_in(phone)
    page = phone.get("/login").get_data(as_text=True)
    assert 'id="line-login"' in page and "เข้าสู่ระบบด้วย LINE" in page
    answer = line_login(phone, provider, LINE_A)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")
    assert signed_in(phone)
    assert provider.problems == [] and provider.tokens_issued == 1


def test_an_id_token_signed_with_the_channel_secret_is_accepted(app, provider, leader):  # type: ignore[no-untyped-def]
    provider.algorithm = "HS256"  # how LINE signs a web app's ID token
    phone = Phone(app)
    assert line_login(phone, provider, LINE_A).status_code == 302
    assert signed_in(phone)


@pytest.mark.parametrize("tamper", ["signature", "nonce", "audience", "issuer", "expired", "hs256_wrong_secret"])
def test_a_tampered_id_token_signs_nobody_in(app, provider, leader, tamper):  # type: ignore[no-untyped-def]
    phone = Phone(app)
    provider.tamper = tamper
    answer = line_login(phone, provider, LINE_A)
    assert answer.status_code == 400
    assert "ยืนยันตัวตนกับ LINE ไม่สำเร็จ จึงยังไม่ได้เข้าสู่ระบบ" in answer.get_data(as_text=True)
    assert not signed_in(phone)
    assert provider.tokens_issued == 1 and provider.problems == []  # the provider answered; we refused the token


def test_a_replayed_or_forged_state_signs_nobody_in(app, provider, leader):  # type: ignore[no-untyped-def]
    phone = Phone(app)
    provider.user = LINE_A
    authorize = phone.get("/login/line").headers["Location"]
    back = urlsplit(requests.get(authorize, allow_redirects=False, timeout=10).headers["Location"])
    query = parse_qs(back.query)
    forged = phone.get(f"/login/line/callback?code={query['code'][0]}&state=forged-state")
    assert forged.status_code == 400 and not signed_in(phone)
    # Someone else's browser with the code and state: no state of its own, refused.
    stranger = Phone(app)
    assert stranger.get(f"{back.path}?{back.query}").status_code == 400
    assert not signed_in(stranger)
    # Cancelled at LINE: said so.
    cancelled = phone.get("/login/line/callback?error=access_denied&state=x")
    assert cancelled.status_code == 400 and "ยกเลิกการเข้าสู่ระบบด้วย LINE แล้ว" in cancelled.get_data(as_text=True)


def test_a_line_account_connected_to_nobody_is_told_to_ask_the_leader(app, provider, leader, db_session):  # type: ignore[no-untyped-def]
    from network.models import User

    users = db_session.scalar(select(func.count()).select_from(User))
    phone = Phone(app)
    answer = line_login(phone, provider, LINE_B)
    assert answer.status_code == 403
    assert "กรุณาขอให้ผู้นำกลุ่มหรือผู้ดูแลระบบเพิ่มคุณเป็นผู้ใช้" in answer.get_data(as_text=True)
    assert not signed_in(phone)
    assert db_session.scalar(select(func.count()).select_from(User)) == users


def test_the_settings_page_connects_line_with_line_login(app, provider, make_network, make_group, make_user):  # type: ignore[no-untyped-def]
    network = make_network()
    user = make_user(network, "leader", make_group(network))
    phone = Phone(app)
    login(phone, user)
    page = phone.get("/notifications/settings").get_data(as_text=True)
    assert 'id="line-connect-login"' in page
    answer = line_login(phone, provider, LINE_B,
                        start=lambda: phone.post("/notifications/line/connect", data={"csrf_token": csrf(page)}))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/notifications/settings")
    settings_page = phone.get("/notifications/settings").get_data(as_text=True)
    assert "เชื่อมต่อ LINE แล้ว" in settings_page
    # Now the same LINE account logs this user in.
    other = Phone(app)
    assert line_login(other, provider, LINE_B).status_code == 302 and signed_in(other)


def test_line_login_is_off_without_its_channel(app, client, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "LINE_LOGIN_CHANNEL_ID", "")
    assert client.get("/login/line").status_code == 404
    assert client.get("/login/line/callback?code=x&state=y").status_code == 404
    assert 'id="line-login"' not in client.get("/login").get_data(as_text=True)


def test_line_unreachable_is_said_in_thai_as_a_503_page(app, client, monkeypatch):  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # nothing listens here once the socket is closed
    for key, value in {"LINE_LOGIN_CHANNEL_ID": "1", "LINE_LOGIN_CHANNEL_SECRET": "s",
                       "LINE_LOGIN_METADATA_URL": f"http://127.0.0.1:{closed}/.well-known/openid-configuration"}.items():
        monkeypatch.setitem(app.config, key, value)
    answer = client.get("/login/line")
    assert answer.status_code == 503
    assert "ติดต่อ LINE ไม่ได้ในขณะนี้" in answer.get_data(as_text=True)


def _invited(make_network: Any, make_group: Any, make_user: Any, db_session: Any) -> tuple[Any, str]:
    from network import access
    from network.models import NO_PASSWORD

    network = make_network()
    admin = make_user(network, "admin")
    user = make_user(network, "leader", make_group(network))
    user.password_hash = NO_PASSWORD  # imported: no password until the invitation is opened
    issued = access.issue_for(admin, user, "invitation")
    db_session.commit()
    return user, issued.token


def test_an_invitation_opened_by_connecting_line(app, provider, make_network, make_group, make_user, db_session):  # type: ignore[no-untyped-def]
    """Issue 29: opening an invitation connects LINE instead of setting a password, logs the user in and uses the
    invitation up; from then on the same LINE account logs this user in."""
    from core.models import AuditEvent
    from network.models import NO_PASSWORD, User
    from notifications.models import NotificationSettings

    user, token = _invited(make_network, make_group, make_user, db_session)
    phone = Phone(app)
    page = phone.get(f"/welcome/{token}").get_data(as_text=True)
    assert 'id="welcome-line"' in page and "เชื่อมต่อ LINE และเข้าสู่ระบบ" in page
    starting: list[Any] = []

    def start() -> Any:
        starting.append(phone.post(f"/welcome/{token}/line", data={"csrf_token": csrf(page)}))
        return starting[0]

    answer = line_login(phone, provider, LINE_B, start=start)
    assert starting[0].headers["Referrer-Policy"] == "no-referrer"
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/"), answer.get_data(as_text=True)[:300]
    home = phone.get("/")
    assert home.status_code == 200 and "เชื่อมต่อ LINE แล้ว ยินดีต้อนรับ" in home.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(NotificationSettings, user.id).line_user_id == LINE_B
    assert db_session.get(User, user.id).password_hash == NO_PASSWORD  # no password was set
    used = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "user.invitation_used",
                                                       AuditEvent.subject_id == str(user.id))).all()
    assert [e.after for e in used] == [{"by": "line"}]
    # The invitation is used up: the page and the LINE button both say so.
    assert phone.get(f"/welcome/{token}").status_code == 404
    assert phone.post(f"/welcome/{token}/line", data={"csrf_token": csrf(page)}).status_code == 404
    # The same LINE account logs this user in from another phone.
    other = Phone(app)
    assert line_login(other, provider, LINE_B).status_code == 302 and signed_in(other)


def test_an_invitation_used_meanwhile_signs_nobody_in_by_line(app, provider, make_network, make_group, make_user,  # type: ignore[no-untyped-def]
                                                              db_session):
    from network import access
    from notifications.models import NotificationSettings

    user, token = _invited(make_network, make_group, make_user, db_session)
    phone = Phone(app)
    page = phone.get(f"/welcome/{token}").get_data(as_text=True)

    def start() -> Any:
        answer = phone.post(f"/welcome/{token}/line", data={"csrf_token": csrf(page)})
        access.redeem(token, "a-long-enough-password-1")  # opened elsewhere with a password meanwhile
        return answer

    answer = line_login(phone, provider, LINE_B, start=start)
    assert answer.status_code == 404 and "ลิงก์นี้ถูกใช้ไปแล้วหรือหมดอายุ" in answer.get_data(as_text=True)
    assert not signed_in(phone)
    db_session.expire_all()
    assert db_session.get(NotificationSettings, user.id) is None
    # Without the CSRF token, or with LINE Login off, the button does nothing.
    assert phone.post(f"/welcome/{token}/line").status_code in (400, 404)
