"""Stock is never oversold: 50 concurrent purchases of 1 unit at a listing with stock 20, each from its
own connection, on the real PostgreSQL and on the SQLite embedded default. Also: a cancel sent twice at
once returns the stock once, and the demo seed writes a market that the figures agree with."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT
from tests.race_support import fire_posts

BUYERS = 5
REQUESTS = 50
STOCK = 20


def _seed(session: Any, stock: int = STOCK) -> dict[str, Any]:
    """Commit a network, a selling group, buyer groups with leaders and tokens, and one listing."""
    from werkzeug.security import generate_password_hash

    from core.auth import hash_token, new_token
    from market.models import Listing
    from network.models import ApiToken, Group, Network, User

    tag = uuid.uuid4().hex[:8]
    hashed = generate_password_hash("x-password-1")
    net = Network(name=f"หนองคาย {tag}", timezone="Asia/Bangkok", fee_percent=Decimal(0))
    session.add(net)
    session.flush()
    mill = Group(network_id=net.id, name="สหกรณ์โรงสีข้าวโพนพิสัย", members=80, registered_poor_members=30)
    session.add(mill)
    session.flush()
    seller = User(network_id=net.id, email=f"seller-{tag}@example.org", name="ผู้ขาย", role="seller",
                  group_id=mill.id, password_hash=hashed, session_version=0, active=True)
    session.add(seller)
    buyers = []
    for i in range(BUYERS):
        group = Group(network_id=net.id, name=f"กลุ่มออมทรัพย์ {i}", members=20, registered_poor_members=5)
        session.add(group)
        session.flush()
        leader = User(network_id=net.id, email=f"leader{i}-{tag}@example.org", name=f"ผู้นำ {i}",
                      role="leader", group_id=group.id, password_hash=hashed, session_version=0, active=True)
        session.add(leader)
        session.flush()
        token = new_token()
        session.add(ApiToken(user_id=leader.id, token_hash=hash_token(token)))
        buyers.append((group.id, {"Authorization": f"Bearer {token}"}))
    session.flush()
    seller_token = new_token()
    session.add(ApiToken(user_id=seller.id, token_hash=hash_token(seller_token)))
    listing = Listing(network_id=net.id, group_id=mill.id, created_by_id=seller.id, name="ข้าวหอมมะลิ 105",
                      unit="กก.", category="ข้าว", price=Decimal("38.50"), outside_price=Decimal("30.75"),
                      reference_price=Decimal("45.25"), stock=stock, district="โพนพิสัย", description="",
                      state="active")
    session.add(listing)
    session.commit()
    return {"listing_id": listing.id, "buyers": buyers,
            "seller": {"Authorization": f"Bearer {seller_token}"}}


def _race(app: Any, world: dict[str, Any]) -> list[Any]:
    calls: list[tuple[str, dict[str, Any] | None, dict[str, str]]] = []
    for i in range(REQUESTS):
        group_id, headers = world["buyers"][i % BUYERS]
        calls.append((f"/api/v1/listings/{world['listing_id']}/purchases",
                      {"group_id": group_id, "quantity": 1}, headers))
    return fire_posts(app, calls)


def _assert_never_oversold(app: Any, world: dict[str, Any], results: list[Any]) -> None:
    from core.db import db
    from market.models import Listing, Purchase

    statuses = Counter(r[0] for r in results)
    assert statuses == {201: STOCK, 409: REQUESTS - STOCK}, results
    for status, body in results:
        if status == 201:
            assert body["state"] == "placed" and body["quantity"] == 1 and body["amount"] == "38.50"
        else:
            assert body["error"]["code"] == "out_of_stock" and body["error"]["available"] == 0
    with app.app_context():
        stock = db.session.scalar(select(Listing.stock).where(Listing.id == world["listing_id"]))
        sold = db.session.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                                 .where(Purchase.listing_id == world["listing_id"]))
        count = db.session.scalar(select(func.count()).select_from(Purchase)
                                  .where(Purchase.listing_id == world["listing_id"]))
        db.session.remove()
    assert stock == 0
    assert sold == STOCK and count == STOCK


def test_fifty_concurrent_purchases_on_postgresql(worker_app, committed):  # type: ignore[no-untyped-def]
    assert committed.get_bind().dialect.name == "postgresql"
    world = _seed(committed)
    committed.remove()
    results = _race(worker_app, world)
    _assert_never_oversold(worker_app, world, results)


def test_concurrent_cancels_return_stock_once_on_postgresql(worker_app, committed):  # type: ignore[no-untyped-def]
    from core.db import db
    from market.models import Listing, Purchase

    world = _seed(committed, stock=10)
    committed.remove()
    group_id, leader = world["buyers"][0]
    client = worker_app.test_client()
    res = client.post(f"/api/v1/listings/{world['listing_id']}/purchases", json={"group_id": group_id,
                                                                                "quantity": 4}, headers=leader)
    assert res.status_code == 201, res.get_json()
    pid = res.get_json()["id"]
    calls = [(f"/api/v1/purchases/{pid}/cancel", None, leader if i % 2 else world["seller"]) for i in range(10)]
    results = fire_posts(worker_app, calls)
    assert {r[0] for r in results} == {200}, results
    assert all(r[1]["state"] == "cancelled" for r in results)
    with worker_app.app_context():
        assert db.session.scalar(select(Listing.stock).where(Listing.id == world["listing_id"])) == 10
        assert db.session.scalar(select(Purchase.state).where(Purchase.id == pid)) == "cancelled"
        db.session.remove()


@pytest.fixture
def sqlite_app(tmp_path):  # type: ignore[no-untyped-def]
    """The embedded default: an SQLite file, its schema built by the same migrations."""
    from core import create_app
    from core.db import db

    path = tmp_path / "ruamsue.sqlite3"
    url = f"sqlite:///{path}"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env["DATABASE_URL"] = url
    # The migrations run in their own process, as `flask db upgrade` does (Alembic's logging setup
    # would otherwise reconfigure this test process's loggers).
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    application = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "JOBS_MODE": "manual",
                              "SERVER_NAME": None, "SQLALCHEMY_DATABASE_URI": url})
    yield application
    with application.app_context():
        db.engine.dispose()


def test_fifty_concurrent_purchases_on_sqlite(sqlite_app):  # type: ignore[no-untyped-def]
    from core.db import db

    with sqlite_app.app_context():
        assert db.engine.dialect.name == "sqlite"
        world = _seed(db.session)
        db.session.remove()
    results = _race(sqlite_app, world)
    _assert_never_oversold(sqlite_app, world, results)


def test_demo_market_seed(sqlite_app):  # type: ignore[no-untyped-def]
    from core.db import db
    from demo.market import seed_market
    from market.models import Listing, Purchase
    from market.services import buyer_saving, income_gain
    from network.models import Group, Network, User

    with sqlite_app.app_context():
        net = Network(name="เครือข่ายหนองคาย", timezone="Asia/Bangkok", fee_percent=Decimal("1.50"))
        db.session.add(net)
        db.session.flush()
        names = ["สหกรณ์โรงสีข้าวโพนพิสัย", "กลุ่มทอผ้ามัดหมี่ท่าบ่อ", "กลุ่มประมงพื้นบ้านเมืองหนองคาย",
                 "กลุ่มแม่บ้านเกษตรกรศรีเชียงใหม่", "กลุ่มออมทรัพย์บ้านหม้อ"]
        groups = {}
        for name in names:
            groups[name] = Group(network_id=net.id, name=name, members=30, registered_poor_members=10)
            db.session.add(groups[name])
        db.session.flush()
        leaders = []
        for i, group in enumerate(groups.values()):
            leaders.append(User(network_id=net.id, email=f"demo-leader{i}@example.org", name="ผู้นำ",
                                role="leader", group_id=group.id, password_hash="x", session_version=0))
        db.session.add_all(leaders)
        db.session.commit()
        result = seed_market(net, groups, {"leader": leaders})
        assert not result["skipped"]
        assert seed_market(net, groups, {"leader": leaders})["skipped"]  # running the seed twice is harmless
        listings = list(db.session.scalars(select(Listing).where(Listing.network_id == net.id)))
        purchases = list(db.session.scalars(select(Purchase).where(Purchase.network_id == net.id)))
        assert len(listings) >= 6 and {p.state for p in purchases} == {"placed", "confirmed", "delivered",
                                                                       "cancelled"}
        by_name = {g.id: g.name for g in groups.values()}
        rice = next(x for x in listings if x.name.startswith("ข้าวหอมมะลิ"))
        assert "โรงสี" in by_name[rice.group_id]
        for p in purchases:
            assert p.buyer_group_id != p.seller_group_id
            assert p.amount == p.quantity * p.unit_price
            if p.state == "delivered":
                assert p.delivered_at is not None
                assert p.income_gain == income_gain(p.quantity, p.unit_price, p.outside_price)
                assert p.buyer_saving == buyer_saving(p.quantity, p.unit_price, p.reference_price)
        # Delivered sales in this month and the last (Bangkok time), none in the future.
        from zoneinfo import ZoneInfo

        from core.clock import utcnow

        now = utcnow()
        tz = ZoneInfo("Asia/Bangkok")
        this_month = now.astimezone(tz).strftime("%Y-%m")
        months = {p.delivered_at.astimezone(tz).strftime("%Y-%m") for p in purchases if p.state == "delivered"}
        assert this_month in months and len(months) == 2
        assert all(p.delivered_at <= now for p in purchases if p.delivered_at)
        # The stock left is what was listed less what was not cancelled.
        assert rice.stock == 800 - 200 - 150
        db.session.remove()
