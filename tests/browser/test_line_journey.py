"""Issue 26 end to end, in Chromium at 360 px on a live server (gunicorn) with a real Celery worker: a leader
connects LINE with a one-time code sent through a signed webhook call, receives the next round's message
on LINE (the LINE stand-in sees the push), unfollows and gets the following one in the app only; then
logs in with LINE through an OpenID Connect stand-in. LINE and LINE Login are stand-ins on 127.0.0.1."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.browser.live import Journey, harness, live_server
from tests.integration.test_line_webhook import SECRET, event, sign
from tests.notify_support import LINE_TOKEN, LineStandIn, line_stand_in
from tests.oidc_support import Provider, line_login_provider, settings

pytestmark = [pytest.mark.browser, pytest.mark.worker]
LINE_USER = "U" + "5" * 32


def _until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture
def outside() -> Iterator[tuple[LineStandIn, Provider]]:
    with line_stand_in() as line, line_login_provider() as provider:
        yield line, provider


@pytest.fixture
def server(database: str, outside: tuple[LineStandIn, Provider], tmp_path: Any) -> Iterator[str]:  # type: ignore[no-untyped-def]
    h = harness()
    line, provider = outside
    env = {"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_API_ENDPOINT": line.url,
           "LINE_BOT_BASIC_ID": "@ruamsue", **settings(provider)}
    queue = f"ruamsue-line-{uuid.uuid4().hex[:8]}"
    worker = h.start_worker(database, extra_env=env, log=tmp_path / "worker.log", queue=queue)
    try:
        with live_server(database, tmp_path / "gunicorn.log", extra_env=env, queue=queue) as url:
            yield url
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except Exception:  # noqa: BLE001
            worker.kill()


def _world(session: Any) -> dict[str, Any]:
    from werkzeug.security import generate_password_hash

    from network.models import Group, Network, User
    from notifications.models import NotificationSettings

    h = harness()
    # No quiet hours (from 00:00 until 00:00): the message goes out whenever the test runs.
    network = Network(name="เครือข่ายหนองคาย", timezone="Asia/Bangkok")
    session.add(network)
    session.flush()
    group = Group(network_id=network.id, name="กลุ่มแม่บ้านบ้านหม้อ", members=40, registered_poor_members=12)
    session.add(group)
    session.flush()
    hashed = generate_password_hash(h.PASSWORD)
    leader = User(network_id=network.id, email="leader@line.test", name="คุณสมศรี", role="leader", group_id=group.id,
                  password_hash=hashed, session_version=0, active=True)
    committee = User(network_id=network.id, email="committee@line.test", name="คุณกรรมการ", role="committee",
                     password_hash=hashed, session_version=0, active=True)
    session.add_all([leader, committee])
    session.flush()
    from datetime import time as clock

    session.add(NotificationSettings(user_id=leader.id, email=False, line=False, quiet_from=clock(0, 0),
                                     quiet_until=clock(0, 0)))
    session.commit()
    return {"leader": leader, "committee": committee}


def _open_round(base: str, name: str) -> int:
    h = harness()
    token = requests.post(f"{base}/api/v1/tokens", json={"email": "committee@line.test", "password": h.PASSWORD},
                          timeout=30).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:4]
    supplier = requests.post(f"{base}/api/v1/suppliers", headers=auth, json={"name": f"ผู้ขาย {tag}"}, timeout=30).json()
    product = requests.post(f"{base}/api/v1/products", headers=auth, json={"name": f"ปุ๋ยยูเรีย {tag}", "unit": "กระสอบ"},
                            timeout=30).json()
    closes_at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    rnd = requests.post(f"{base}/api/v1/rounds", headers=auth, json={"name": name, "closes_at": closes_at},
                        timeout=30).json()
    offer = requests.post(f"{base}/api/v1/rounds/{rnd['id']}/offers", headers=auth, timeout=30, json={
        "product_id": product["id"], "supplier_id": supplier["id"], "pack_size": 1, "min_quantity": 0,
        "reference_price": "900.00", "delivery_fee": "0", "tiers": [{"min_quantity": 0, "unit_price": "860.00"}]})
    assert offer.status_code == 201, offer.text
    opened = requests.post(f"{base}/api/v1/rounds/{rnd['id']}/open", headers=auth, timeout=30)
    assert opened.status_code == 200, opened.text
    return int(rnd["id"])


def _webhook(base: str, *events: dict[str, Any]) -> None:
    body = json.dumps({"destination": "U" + "f" * 32, "events": list(events)}, ensure_ascii=False).encode()
    answer = requests.post(f"{base}/line/webhook", data=body, timeout=30,
                           headers={"Content-Type": "application/json", "X-Line-Signature": sign(body)})
    assert answer.status_code == 200, answer.text


def test_a_leader_connects_line_with_a_code_hears_on_line_and_falls_back_to_the_app(  # type: ignore[no-untyped-def]
        browser, server, outside, committed):
    line, provider = outside
    _world(committed)
    phone = Journey(browser, server, "line")
    try:
        phone.login("leader@line.test", harness().PASSWORD)
        phone.go("/notifications/settings")
        page = phone.page
        assert "ยังไม่ได้เชื่อมต่อ LINE" in page.locator("#line-status").inner_text()
        assert page.locator("#line-add-friend").get_attribute("href") == "https://line.me/R/ti/p/%40ruamsue"
        assert page.locator("svg.qr").count() == 1
        phone.shot("settings-before")
        page.get_by_role("button", name="ขอรหัสเชื่อมต่อ LINE").click()
        page.wait_for_selector("#line-code")
        code = page.locator("#line-code").inner_text().replace(" ", "")
        assert len(code) == 8 and code.isdigit()
        assert page.locator("#line-send-code").get_attribute("href").endswith(f"?{code}")
        phone.shot("settings-code")

        # On the phone's LINE: add the account as a friend, send the code. LINE signs the webhook calls.
        _webhook(server, event("follow", LINE_USER))
        _webhook(server, event("message", LINE_USER, code))
        replies = [r["body"]["messages"][0]["text"] for r in line.replies()]
        assert replies[-1] == "เชื่อมต่อ LINE กับบัญชี คุณสมศรี ในรวมซื้อแล้ว จากนี้จะได้รับการแจ้งเตือนทาง LINE นี้"
        phone.go("/notifications/settings")
        assert "เชื่อมต่อ LINE แล้ว" in page.locator("#line-status").inner_text()
        phone.shot("settings-connected")

        # The next round: its message reaches the leader's LINE (the worker pushes it through the SDK).
        first = _open_round(server, "รอบปุ๋ยนาปี")
        push = _until(lambda: [p for p in line.pushes() if p["body"]["to"] == LINE_USER])
        assert push[0]["body"]["messages"][0]["text"].startswith("เปิดรับคำสั่งซื้อแล้ว: รอบปุ๋ยนาปี")
        assert f"/rounds/{first}" in push[0]["body"]["messages"][0]["text"]

        # Blocked on LINE: the next round comes in the app only.
        _webhook(server, event("unfollow", LINE_USER))
        phone.go("/notifications/settings")
        assert page.locator("#line-status").inner_text().startswith("LINE ของคุณเชื่อมต่อไว้แล้ว แต่หยุดส่งอยู่")
        assert page.locator(".error.box").count() == 1  # says LINE stopped, and how to turn it back on
        phone.shot("settings-blocked")
        second = _open_round(server, "รอบเมล็ดพันธุ์")
        phone.go("/notifications")
        _until(lambda: phone.go("/notifications") and page.locator("#notifications li", has_text="รอบเมล็ดพันธุ์").count())
        phone.shot("in-app")
        time.sleep(1.0)
        assert not [p for p in line.pushes() if f"/rounds/{second}" in p["body"]["messages"][0]["text"]]
        assert len([p for p in line.pushes() if p["body"]["to"] == LINE_USER]) == 1
        assert line.problems == []

        # Added as a friend again: LINE is back on by itself.
        _webhook(server, event("follow", LINE_USER))
        phone.go("/notifications/settings")
        assert "เชื่อมต่อ LINE แล้ว" in page.locator("#line-status").inner_text()
        phone.logout()

        # One tap on "log in with LINE" signs the leader in.
        provider.user = LINE_USER
        phone.go("/login")
        page.locator("#line-login").click()
        try:
            page.wait_for_url(server + "/")
        except Exception as exc:  # noqa: BLE001 - seen once in CI, never here: say where the phone was
            raise AssertionError(f"not logged in with LINE: at {page.url} ({page.evaluate('document.readyState')}), "
                                 f"stand-in saw {provider.problems}: {page.locator('body').inner_text()[:300]!r}") from exc
        phone.shot("logged-in-with-line")
        assert provider.problems == []
    finally:
        phone.close()
