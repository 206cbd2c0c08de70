"""Each event end to end through the real API and a real Celery worker: the in-app rows (read through
the API by each recipient), the LINE pushes the real SDK sent to the stand-in, and the e-mails read back
from aiosmtpd. Nobody outside the audience hears anything; running the jobs again sends nothing twice."""
from __future__ import annotations

import time as clock
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.conftest import PASSWORD, wait_for_job
from tests.notify_support import NotifyWorld, notify_worker, wipe

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def world(database: str, worker_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotifyWorld]:
    with notify_worker(database, worker_app, tmp_path_factory.mktemp("events") / "worker.log") as w:
        yield w


def _line_id(n: int) -> str:
    return "U" + f"{n:032x}"


@pytest.fixture
def net(world: NotifyWorld) -> Iterator[dict[str, Any]]:
    """A network with three groups (A, B buy; S sells), their leaders and a seller, the committee and
    an admin, every one on LINE and e-mail with no quiet hours; and a second network with a leader."""
    from core.db import db
    from network.models import Group, Network, User
    from notifications.models import NotificationSettings

    tag = uuid.uuid4().hex[:6]
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    people: dict[str, Any] = {}
    with world.app.app_context():
        networks = [Network(name=f"เครือข่าย {tag}", timezone="Asia/Bangkok"), Network(name=f"อื่น {tag}")]
        db.session.add_all(networks)
        db.session.flush()
        groups = {key: Group(network_id=networks[0].id, name=name, members=10, registered_poor_members=1)
                  for key, name in (("A", "กลุ่มเอ"), ("B", "กลุ่มบี"), ("S", "โรงสีชุมชน"))}
        groups["X"] = Group(network_id=networks[1].id, name="กลุ่มเอ็กซ์", members=5, registered_poor_members=0)
        db.session.add_all(groups.values())
        db.session.flush()
        spec = {"leaderA": ("leader", "A"), "leaderB": ("leader", "B"), "leaderS": ("leader", "S"),
                "sellerS": ("seller", "S"), "committee": ("committee", None), "admin": ("admin", None),
                "outsider": ("leader", "X")}
        for n, (key, (role, group)) in enumerate(spec.items(), start=1):
            network_id = networks[1].id if key == "outsider" else networks[0].id
            user = User(network_id=network_id, email=f"{key.lower()}-{tag}@example.org", name=key, role=role,
                        group_id=groups[group].id if group else None, password_hash=hashed, active=True,
                        session_version=0, locale="en" if key == "leaderB" else "th")
            db.session.add(user)
            db.session.flush()
            db.session.add(NotificationSettings(user_id=user.id, email=True, line=True, line_user_id=_line_id(n),
                                                quiet_from=time(0, 0), quiet_until=time(0, 0)))
            people[key] = {"id": user.id, "email": user.email, "line": _line_id(n)}
        db.session.commit()
        ids = {"network_id": networks[0].id, "groups": {k: g.id for k, g in groups.items()}, "people": people}
        db.session.remove()
    client = world.app.test_client()
    for person in people.values():
        token = client.post("/api/v1/tokens", json={"email": person["email"], "password": PASSWORD}).json["token"]
        person["auth"] = {"Authorization": f"Bearer {token}"}
    ids["client"] = client
    yield ids
    wipe(world.app)


def settle(world: NotifyWorld, prefix: str, timeout: float = 60) -> list[Any]:
    """Wait until every delivery of events whose key starts with ``prefix`` has been dealt with."""
    from core.db import db
    from notifications.models import Delivery

    deadline = clock.monotonic() + timeout
    with world.app.app_context():
        while clock.monotonic() < deadline:
            rows = list(db.session.scalars(select(Delivery).where(Delivery.event_key.like(prefix + "%"))))
            db.session.remove()
            if rows and all(d.state in ("sent", "failed", "skipped") for d in rows):
                return rows
            clock.sleep(0.2)
    raise AssertionError(f"deliveries of {prefix} not settled")


def inbox(net: dict[str, Any], who: str, kind: str) -> list[dict[str, Any]]:
    response = net["client"].get("/api/v1/notifications", headers=net["people"][who]["auth"])
    assert response.status_code == 200
    return [n for n in response.json if n["kind"] == kind]


def pushes_to(world: NotifyWorld, net: dict[str, Any], who: str, contains: str = "") -> list[str]:
    return [p["body"]["messages"][0]["text"] for p in world.line.pushes()
            if p["body"]["to"] == net["people"][who]["line"] and contains in p["body"]["messages"][0]["text"]]


def mails_to(world: NotifyWorld, net: dict[str, Any], who: str, contains: str = "") -> list[Any]:
    return [m for m in world.mail.received()
            if m["To"] == net["people"][who]["email"] and contains in str(m["Subject"])]


def assert_heard_once(world: NotifyWorld, net: dict[str, Any], who: str, kind: str, title: str) -> dict[str, Any]:
    rows = inbox(net, who, kind)
    assert [r["title"] for r in rows] == [title], (who, kind, rows)
    assert len(pushes_to(world, net, who, title)) == 1, (who, title)
    mails = mails_to(world, net, who, title)
    assert len(mails) == 1 and str(mails[0]["Subject"]).strip() == title
    return rows[0]


def assert_heard_nothing(world: NotifyWorld, net: dict[str, Any], who: str, kind: str) -> None:
    assert inbox(net, who, kind) == []


def _round(net: dict[str, Any], closes_in: timedelta = timedelta(days=3)) -> dict[str, Any]:
    c, committee = net["client"], net["people"]["committee"]["auth"]
    supplier = c.post("/api/v1/suppliers", headers=committee, json={"name": f"ผู้ขาย {uuid.uuid4().hex[:4]}"}).json
    product = c.post("/api/v1/products", headers=committee,
                     json={"name": f"ปุ๋ยยูเรีย {uuid.uuid4().hex[:4]}", "unit": "กระสอบ"}).json
    closes_at = (datetime.now(UTC) + closes_in).isoformat()
    rnd = c.post("/api/v1/rounds", headers=committee, json={"name": "รอบปุ๋ยนาปี", "closes_at": closes_at}).json
    offer = c.post(f"/api/v1/rounds/{rnd['id']}/offers", headers=committee, json={
        "product_id": product["id"], "supplier_id": supplier["id"], "pack_size": 1, "min_quantity": 0,
        "reference_price": "900.00", "delivery_fee": "0",
        "tiers": [{"min_quantity": 0, "unit_price": "860.00"}, {"min_quantity": 100, "unit_price": "825.00"}]}).json
    return {"id": rnd["id"], "offer_id": offer["id"], "product": product["name"]}


def _order(net: dict[str, Any], rnd: dict[str, Any], group: str, quantity: int) -> None:
    put = net["client"].put(f"/api/v1/rounds/{rnd['id']}/orders/{net['groups'][group]}",
                            headers=net["people"][f"leader{group}"]["auth"],
                            json={"lines": [{"offer_id": rnd["offer_id"], "quantity": quantity, "tolerance": 0}]})
    assert put.status_code == 200, put.json


def _open(net: dict[str, Any], rnd: dict[str, Any]) -> None:
    opened = net["client"].post(f"/api/v1/rounds/{rnd['id']}/open", headers=net["people"]["committee"]["auth"])
    assert opened.status_code == 200, opened.json


def test_round_opened_reaches_every_leader_of_the_network(world, net):
    rnd = _round(net)
    _open(net, rnd)
    settle(world, f"round_opened:{rnd['id']}")
    row = assert_heard_once(world, net, "leaderA", "round_opened", "เปิดรับคำสั่งซื้อแล้ว: รอบปุ๋ยนาปี")
    assert row["link"] == f"/rounds/{rnd['id']}" and rnd["product"] in row["body"]
    assert_heard_once(world, net, "leaderB", "round_opened", "Open for orders: รอบปุ๋ยนาปี")  # chose English
    assert_heard_once(world, net, "leaderS", "round_opened", "เปิดรับคำสั่งซื้อแล้ว: รอบปุ๋ยนาปี")
    for who in ("sellerS", "committee", "admin", "outsider"):
        assert_heard_nothing(world, net, who, "round_opened")
    assert world.line.problems == []


def test_closing_soon_reminds_only_groups_without_an_order_once(world, net):
    rnd = _round(net, closes_in=timedelta(hours=20))
    _open(net, rnd)
    _order(net, rnd, "A", 10)
    celery = world.app.extensions["celery"]
    for _ in range(2):  # the periodic work, twice, on the worker
        celery.send_task("ruamsue.remind_closing_rounds", queue=world.queue)
    settle(world, f"round_closing_soon:{rnd['id']}")
    clock.sleep(1)
    title = "อีกไม่ถึง 24 ชั่วโมงจะปิดรับคำสั่งซื้อ: รอบปุ๋ยนาปี"
    assert_heard_once(world, net, "leaderS", "round_closing_soon", title)
    assert_heard_once(world, net, "leaderB", "round_closing_soon", "Orders close within 24 hours: รอบปุ๋ยนาปี")
    for who in ("leaderA", "sellerS", "committee", "outsider"):
        assert_heard_nothing(world, net, who, "round_closing_soon")


def _combined_round(world: NotifyWorld, net: dict[str, Any]) -> dict[str, Any]:
    rnd = _round(net, closes_in=timedelta(days=2))
    _open(net, rnd)
    _order(net, rnd, "A", 60)
    _order(net, rnd, "B", 50)
    close = net["client"].post(f"/api/v1/rounds/{rnd['id']}/close", headers=net["people"]["committee"]["auth"])
    assert close.status_code == 202
    assert wait_for_job(world.app, close.json["job_id"]) == "succeeded"
    settle(world, f"round_combined:{rnd['id']}:")
    invoices = net["client"].get(f"/api/v1/rounds/{rnd['id']}/invoices",
                                 headers=net["people"]["committee"]["auth"]).json
    rnd["invoices"] = {inv["group_id"]: inv for inv in invoices}
    return rnd


def test_round_combined_tells_each_group_what_it_gets_pays_and_saves(world, net):
    from core import jobs

    rnd = _combined_round(world, net)
    invoice_a = rnd["invoices"][net["groups"]["A"]]
    assert invoice_a["total"] == "49500.00" and invoice_a["savings"] == "4500.00"  # 60 x 825; 60 x (900 - 825)
    row = assert_heard_once(world, net, "leaderA", "round_combined", "รวมยอดแล้ว: รอบปุ๋ยนาปี")
    assert f"{rnd['product']} 60 กระสอบ" in row["body"]
    assert "ยอดชำระ 49,500.00 บาท ประหยัดได้ 4,500.00 บาท" in row["body"]
    assert row["link"] == f"/invoices/{invoice_a['id']}"
    english = assert_heard_once(world, net, "leaderB", "round_combined", "Combined: รอบปุ๋ยนาปี")
    assert "pays 41,250.00 baht and saves 3,750.00 baht" in english["body"]
    for who in ("leaderS", "sellerS", "committee", "outsider"):
        assert_heard_nothing(world, net, who, "round_combined")
    # The combine job and every send job handed to the worker again: nothing is sent twice.
    from core.db import db
    from core.models import Job

    with world.app.app_context():
        # The groups are told by a job of its own after the combine commits, not inside the combine.
        announced = db.session.scalars(select(Job.state).where(
            Job.kind == "orders.announce_combined", Job.payload["round_id"].as_integer() == rnd["id"])).all()
        assert announced == ["succeeded"], announced
        job_ids = list(db.session.scalars(select(Job.id).where(Job.network_id == net["network_id"])))
        db.session.remove()
        for job_id in job_ids:
            jobs.send(world.app, job_id)
    marker = _round(net)
    _open(net, marker)  # queued behind them on the one worker process
    settle(world, f"round_opened:{marker['id']}")
    assert len(pushes_to(world, net, "leaderA", "รวมยอดแล้ว")) == 1
    assert len(mails_to(world, net, "leaderA", "รวมยอดแล้ว")) == 1
    assert len(inbox(net, "leaderA", "round_combined")) == 1


def test_delivery_shortage_and_payment(world, net):
    rnd = _combined_round(world, net)
    c, committee = net["client"], net["people"]["committee"]["auth"]
    po = c.get(f"/api/v1/rounds/{rnd['id']}/purchase-orders", headers=committee).json[0]
    receipt = c.post(f"/api/v1/purchase-orders/{po['id']}/receipt", headers=committee,
                     json={"lines": [{"offer_id": rnd["offer_id"], "received_quantity": 99}]})
    assert receipt.status_code == 200, receipt.json
    settle(world, f"delivery_shortage:{po['id']}:")
    from core.db import db
    from core.models import Job

    with world.app.app_context():
        # Told by a job of its own after the receipt commits, not inside the receipt.
        announced = db.session.scalars(select(Job.state).where(
            Job.kind == "orders.announce_shortage", Job.payload["purchase_order_id"].as_integer() == po["id"])).all()
        db.session.remove()
    assert announced == ["succeeded"], announced
    invoices = {inv["group_id"]: inv for inv in c.get(f"/api/v1/rounds/{rnd['id']}/invoices", headers=committee).json}
    # 110 ordered, 99 received: A 60 -> 54, B 50 -> 45 (largest remainder), the price stays 825.00.
    assert invoices[net["groups"]["A"]]["total"] == "44550.00"
    row = assert_heard_once(world, net, "leaderA", "delivery_shortage", "ของมาไม่ครบ: รอบปุ๋ยนาปี")
    assert row["body"] == f"กลุ่มเอ ได้รับ {rnd['product']} 54 กระสอบ ยอดชำระใหม่ 44,550.00 บาท"
    english = assert_heard_once(world, net, "leaderB", "delivery_shortage", "Delivery short: รอบปุ๋ยนาปี")
    assert english["body"] == f"กลุ่มบี now gets {rnd['product']} 45 กระสอบ. New bill: 37,125.00 baht."
    for who in ("leaderS", "sellerS", "committee", "outsider"):
        assert_heard_nothing(world, net, who, "delivery_shortage")

    invoice = invoices[net["groups"]["A"]]
    paid = c.post(f"/api/v1/invoices/{invoice['id']}/payments", headers=committee, json={"amount": "12000.50"})
    assert paid.status_code == 201, paid.json
    settle(world, f"payment_recorded:{paid.json['id']}")
    row = assert_heard_once(world, net, "leaderA", "payment_recorded", "บันทึกการชำระเงิน 12,000.50 บาทแล้ว")
    assert "ชำระแล้ว 12,000.50 บาท" in row["body"]
    for who in ("leaderB", "leaderS", "sellerS", "committee", "outsider"):
        assert_heard_nothing(world, net, who, "payment_recorded")


def test_marketplace_purchase_placed_confirmed_delivered(world, net):
    c, people = net["client"], net["people"]
    listing = c.post("/api/v1/listings", headers=people["sellerS"]["auth"], json={
        "name": "ข้าวหอมมะลิ", "unit": "กก.", "category": "rice", "price": "35.00", "stock": 500}).json
    bought = c.post(f"/api/v1/listings/{listing['id']}/purchases", headers=people["leaderA"]["auth"],
                    json={"group_id": net["groups"]["A"], "quantity": 120})
    assert bought.status_code == 201, bought.json
    pid = bought.json["id"]
    settle(world, f"purchase_placed:{pid}")
    row = assert_heard_once(world, net, "sellerS", "purchase_placed", "มีคำสั่งซื้อใหม่: ข้าวหอมมะลิ")
    assert row["body"] == "กลุ่มเอ สั่ง 120 กก. รวม 4,200.00 บาท กรุณายืนยัน"
    for who in ("leaderA", "leaderS", "leaderB", "committee", "outsider"):
        assert_heard_nothing(world, net, who, "purchase_placed")
    assert c.post(f"/api/v1/purchases/{pid}/confirm", headers=people["sellerS"]["auth"]).status_code == 200
    assert c.post(f"/api/v1/purchases/{pid}/confirm", headers=people["sellerS"]["auth"]).status_code == 200  # again
    settle(world, f"purchase_confirmed:{pid}")
    assert_heard_once(world, net, "leaderA", "purchase_confirmed", "ผู้ขายยืนยันคำสั่งซื้อ ข้าวหอมมะลิ แล้ว")
    assert c.post(f"/api/v1/purchases/{pid}/deliver", headers=people["sellerS"]["auth"], json={}).status_code == 200
    settle(world, f"purchase_delivered:{pid}")
    assert_heard_once(world, net, "leaderA", "purchase_delivered", "ส่งสินค้า ข้าวหอมมะลิ แล้ว")
    for who in ("leaderB", "leaderS", "sellerS", "committee", "outsider"):
        assert_heard_nothing(world, net, who, "purchase_confirmed")
        assert_heard_nothing(world, net, who, "purchase_delivered")


def test_summary_ready_for_the_committee(world, net):
    from zoneinfo import ZoneInfo

    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok"))
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    label = f"{year:04d}-{month:02d}"
    c = net["client"]
    rebuild = c.post(f"/api/v1/summaries/{label}", headers=net["people"]["committee"]["auth"])
    assert rebuild.status_code == 202, rebuild.json
    assert wait_for_job(world.app, rebuild.json["job_id"]) == "succeeded"
    settle(world, f"summary_ready:{net['network_id']}:{label}")
    thai_month = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")[month - 1]
    title = f"สรุปเดือน {thai_month} {year + 543} พร้อมให้ตรวจแล้ว"
    assert_heard_once(world, net, "committee", "summary_ready", title)
    assert_heard_once(world, net, "admin", "summary_ready", title)
    for who in ("leaderA", "leaderB", "sellerS", "outsider"):
        assert_heard_nothing(world, net, who, "summary_ready")
