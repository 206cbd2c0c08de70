"""A demo network of Nong Khai province: realistic groups, suppliers, rounds and a marketplace.

An edge package: it imports the domains (nothing imports it); ``demo.app`` adds the CLI.

``flask --app wsgi demo serve`` builds the schema, seeds the demo once, and serves it; ``demo seed`` only seeds.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.clock import utcnow
from core.db import db

DEMO_PASSWORD = "ruamsue-demo"
DEMO_USERS = {  # role: (email, name, group key)
    "admin": ("admin@ruamsue.demo", "สมชาย ผู้ดูแลเครือข่าย", None),
    "committee": ("committee@ruamsue.demo", "นางบุญมี เหรัญญิกเครือข่าย", None),
    "leader": ("leader@ruamsue.demo", "นายทองใบ ประธานกลุ่ม", "tha_bo"),
    "seller": ("seller@ruamsue.demo", "นางสาวมาลี โรงสีชุมชน", "rice_mill"),
}
# key: (name, kind, district, subdistrict, members, registered poor)
GROUPS = {
    "tha_bo": ("สหกรณ์การเกษตรท่าบ่อ จำกัด", "cooperative", "ท่าบ่อ", "ท่าบ่อ", 184, 61),
    "rice_mill": ("วิสาหกิจชุมชนโรงสีข้าวบ้านโคกคอน", "community_enterprise", "ท่าบ่อ", "โคกคอน", 46, 19),
    "weaving": ("กลุ่มทอผ้ามัดหมี่บ้านหนองสองห้อง", "womens_group", "ศรีเชียงใหม่", "พานพร้าว", 32, 14),
    "fish": ("กลุ่มผู้เลี้ยงปลากระชังแม่น้ำโขงสังคม", "farmers_group", "สังคม", "สังคม", 28, 9),
    "savings": ("กลุ่มออมทรัพย์เพื่อการผลิตบ้านเดื่อ", "savings_group", "เมืองหนองคาย", "หาดคำ", 215, 88),
    "phon_phisai": ("กลุ่มเกษตรกรทำนาโพนพิสัย", "farmers_group", "โพนพิสัย", "จุมพล", 97, 40),
    "sakhrai": ("วิสาหกิจชุมชนปลูกผักปลอดภัยสระใคร", "community_enterprise", "สระใคร", "สระใคร", 38, 12),
    "fao_rai": ("สหกรณ์ผู้ใช้น้ำเฝ้าไร่", "cooperative", "เฝ้าไร่", "เฝ้าไร่", 126, 57),
    "rattanawapi": ("กลุ่มแม่บ้านเกษตรกรรัตนวาปี", "womens_group", "รัตนวาปี", "รัตนวาปี", 54, 31),
    "pho_tak": ("กลุ่มเลี้ยงโคพื้นเมืองโพธิ์ตาก", "farmers_group", "โพธิ์ตาก", "โพธิ์ตาก", 41, 16),
}
SUPPLIERS = [("บริษัท หนองคายเกษตรภัณฑ์ จำกัด", "042411234"), ("ร้านวัสดุการเกษตรท่าบ่อ", "042431118"),
             ("สหกรณ์การเกษตรเมืองหนองคาย (คลังสินค้า)", "042412560"), ("หจก. ศรีเชียงใหม่ปิโตรเลียม", "042451077")]
PRODUCTS = [  # name, unit, category
    ("เมล็ดพันธุ์ข้าวหอมมะลิ 105", "กก.", "เมล็ดพันธุ์"), ("ปุ๋ยยูเรีย 46-0-0", "กระสอบ 50 กก.", "ปุ๋ย"),
    ("ปุ๋ยสูตร 16-16-8", "กระสอบ 50 กก.", "ปุ๋ย"), ("อาหารปลาดุก โปรตีน 30%", "กระสอบ 20 กก.", "อาหารสัตว์"),
    ("น้ำมันพืชถั่วเหลือง", "ขวด 1 ลิตร", "น้ำมันพืช"), ("น้ำมันดีเซล B7", "ลิตร", "น้ำมันเชื้อเพลิง"),
    ("สมุดนักเรียน", "โหล", "อุปกรณ์การเรียน"),
]

demo_cli = AppGroup("demo", help="The Nong Khai demo network.")


def demo_calendar(now: datetime, timezone: str) -> dict[str, datetime]:
    """The demo's moments, placed by the calendar of the network's zone so the demo looks the same on any day:
    last month's round delivered in the middle of last month (and summarised), this month's round open
    since the start of this month at the earliest, with orders placed between its opening and now."""
    from reports import periods

    tz = periods.zone(timezone)
    local = now.astimezone(tz)
    month_start = periods.start_of(tz, local.year, local.month)
    last_month_start = periods.start_of(tz, *periods.add_months(local.year, local.month, -1))
    delivered = last_month_start + timedelta(days=14, hours=10)  # every month has a 15th
    opened = max(month_start, now - timedelta(days=2))
    return {"past_opened": delivered - timedelta(days=17), "past_orders": delivered - timedelta(days=15),
            "past_closes": delivered - timedelta(days=7), "delivered": delivered,
            "current_opened": opened, "current_closes": now + timedelta(days=6)}


def seed(timezone: str = "Asia/Bangkok") -> bool:
    """Seed the demo once; returns False when it is there already."""
    from demo.market import seed_market
    from network.models import Group, Network, User
    from network.services import create_network
    from orders.combine import combine_round
    from orders.delivery import record_receipt
    from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

    if db.session.scalar(select(Network).where(Network.name == "เครือข่ายรวมซื้อจังหวัดหนองคาย")) is not None:
        return False
    network = create_network("เครือข่ายรวมซื้อจังหวัดหนองคาย", DEMO_USERS["admin"][0], DEMO_PASSWORD,
                             DEMO_USERS["admin"][1])
    network.fee_percent = Decimal("1.00")
    network.timezone = timezone
    groups = {}
    for key, (name, kind, district, sub, members, poor) in GROUPS.items():
        groups[key] = Group(network_id=network.id, name=name, kind=kind, district=district, subdistrict=sub,
                            members=members, registered_poor_members=poor)
        db.session.add(groups[key])
    db.session.flush()
    from werkzeug.security import generate_password_hash

    users = {"admin": db.session.scalars(select(User).where(User.email == DEMO_USERS["admin"][0])).one()}
    hashed = generate_password_hash(DEMO_PASSWORD)
    for role, (email, name, group_key) in DEMO_USERS.items():
        if role == "admin":
            continue
        users[role] = User(network_id=network.id, email=email, name=name, role=role, password_hash=hashed,
                           group_id=groups[group_key].id if group_key else None, session_version=0, active=True)
        db.session.add(users[role])
    users["leader"].phone = "0812345678"  # whom a seller calls about the group's orders
    users["seller"].phone = "0895550142"
    leaders = {}
    for key, group in groups.items():
        if key in ("tha_bo",):
            leaders[key] = users["leader"]
            continue
        leaders[key] = User(network_id=network.id, email=f"leader.{key}@ruamsue.demo", name=f"ประธาน{group.name}",
                            role="leader", group_id=group.id, password_hash=hashed, session_version=0, active=True,
                            phone=f"08{len(leaders) % 10}{410 + len(leaders):03d}{2000 + 37 * len(leaders):04d}")
        db.session.add(leaders[key])
    suppliers = [Supplier(network_id=network.id, name=n, phone=p) for n, p in SUPPLIERS]
    products = [Product(network_id=network.id, name=n, unit=u, category=c) for n, u, c in PRODUCTS]
    db.session.add_all([*suppliers, *products])
    db.session.flush()

    def offer(rnd: BuyingRound, product: Product, supplier: Supplier, pack: int, minimum: int, reference: str, fee: str,
              tiers: list[tuple[int, str]]) -> Offer:
        o = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=pack,
                  min_quantity=minimum, reference_price=Decimal(reference), delivery_fee=Decimal(fee))
        o.tiers = [PriceTier(min_quantity=q, unit_price=Decimal(p)) for q, p in tiers]
        db.session.add(o)
        return o

    from core.format import THAI_MONTHS_FULL
    from reports import periods

    now = utcnow()
    when = demo_calendar(now, timezone)
    this_month = THAI_MONTHS_FULL[now.astimezone(periods.zone(timezone)).month - 1]
    # A round already delivered last month, so savings and the monthly summary have figures.
    past = BuyingRound(network_id=network.id, name="รอบปุ๋ยต้นฤดูนาปี", state="open",
                       closes_at=when["past_closes"], opened_at=when["past_opened"])
    current = BuyingRound(network_id=network.id, name=f"รอบเมล็ดพันธุ์และอาหารปลา {this_month}", state="open",
                          closes_at=when["current_closes"], opened_at=when["current_opened"])
    db.session.add_all([past, current])
    db.session.flush()
    urea = offer(past, products[1], suppliers[0], 1, 20, "890.00", "600.00",
                 [(0, "860.00"), (100, "825.00"), (300, "790.00")])
    npk = offer(past, products[2], suppliers[1], 1, 0, "950.00", "0", [(0, "930.00"), (150, "880.00")])
    seed_o = offer(current, products[0], suppliers[2], 25, 100, "32.00", "350.00",
                   [(0, "29.00"), (500, "27.50"), (1500, "26.00")])
    feed = offer(current, products[3], suppliers[0], 1, 0, "420.00", "250.00", [(0, "405.00"), (100, "385.00")])
    offer(current, products[4], suppliers[2], 12, 0, "58.00", "0", [(0, "54.00"), (240, "51.00")])
    offer(current, products[5], suppliers[3], 200, 1000, "31.50", "0", [(0, "30.90"), (3000, "30.40")])
    db.session.flush()
    from orders.models import GroupOrder, OrderLine

    def order(rnd: BuyingRound, key: str, lines: list[tuple[Offer, int, int]], at: datetime) -> None:
        go = GroupOrder(round_id=rnd.id, group_id=groups[key].id, placed_by_id=leaders[key].id,
                        created_at=at, updated_at=at)
        go.lines = [OrderLine(offer_id=o.id, quantity=q, tolerance=t, placed_at=at) for o, q, t in lines]
        db.session.add(go)

    base = when["past_orders"]
    order(past, "tha_bo", [(urea, 120, 0), (npk, 60, 0)], base)
    order(past, "phon_phisai", [(urea, 95, 0), (npk, 40, 0)], base + timedelta(hours=3))
    order(past, "fao_rai", [(urea, 70, 0), (npk, 35, 0)], base + timedelta(hours=5))
    order(past, "savings", [(urea, 30, 0)], base + timedelta(days=1))
    order(past, "rattanawapi", [(npk, 25, 0)], base + timedelta(days=2))
    # Orders spread between the round's opening and now (a minute apart on the first minute of a month).
    span = (now - when["current_opened"]) / 5
    at = when["current_opened"]
    order(current, "tha_bo", [(seed_o, 400, 25), (feed, 20, 0)], at + span)
    order(current, "phon_phisai", [(seed_o, 650, 25)], at + span * 2)
    order(current, "fish", [(feed, 60, 5)], at + span * 3)
    order(current, "fao_rai", [(seed_o, 300, 0)], at + span * 4)
    # The demo leader's group orders for its households: urea 120 (118 asked, 2 for the group's own store),
    # NPK 60; this month seed 400 (390 asked) and fish feed 20.
    from demo.households import seed_households

    seed_households(groups["tha_bo"], past, [(urea, [20, 12, 15, 10, 8, 14, 11, 9, 12, 7]),
                                             (npk, [10, 5, 8, 4, 6, 7, 5, 6, 5, 4])],
                    current, [(seed_o, [60, 30, 45, 25, 40, 50, 35, 30, 45, 30]), (feed, [4, 0, 3, 2, 0, 5, 0, 2, 4, 0])])
    db.session.commit()

    past.state = "closed"
    past.closed_at = past.closes_at
    db.session.commit()
    combine_round(past.id)
    # The combine leaves telling the groups to a job after it; the seed tells them now (same event keys).
    from orders.events import delivery_shortage, round_combined

    round_combined(past.id)
    db.session.commit()
    committee = db.session.scalars(select(User).where(User.email == DEMO_USERS["committee"][0])).one()
    from orders.models import PurchaseOrder

    for po in db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.round_id == past.id)).all():
        po.created_at = past.closes_at  # the demo's history: the orders went out when the round closed
        db.session.flush()
        lines = [{"offer_id": ln.offer_id, "received_quantity": ln.ordered_quantity - (5 if ln.offer_id == npk.id else 0)}
                 for ln in po.lines]
        record_receipt(committee, po.id, lines, when["delivered"])
        delivery_shortage(po.id)  # told now too, as the combine's announcement above
        db.session.commit()
    seed_market(network, {g.name: g for g in groups.values()}, users)
    db.session.commit()
    _seed_notifications(network, current, committee, groups["tha_bo"].id)
    return True


def _seed_notifications(network, current, committee, group_id: int) -> None:  # type: ignore[no-untyped-def]
    """What the demo's people find under the bell, besides what seeding already told them (the combined
    round, the short delivery): the open round, a payment, the seller's orders, last month's summary."""
    from market import events as market_events
    from market.models import Purchase
    from orders import events as order_events
    from orders.invoices import record_payment
    from orders.models import Invoice
    from reports import periods
    from reports.services import build_summary

    order_events.round_opened(current)
    db.session.commit()
    invoice = db.session.scalar(select(Invoice).where(Invoice.group_id == group_id).order_by(Invoice.id))
    if invoice is not None and invoice.total - invoice.paid >= Decimal("5000.00"):
        record_payment(committee, invoice.id, Decimal("5000.00"), "เงินสดจากที่ประชุมกลุ่ม")
    for purchase in db.session.scalars(select(Purchase).where(Purchase.network_id == network.id)
                                       .order_by(Purchase.id)):
        market_events.purchase_placed(purchase)
        if purchase.state in ("confirmed", "delivered"):
            market_events.purchase_confirmed(purchase)
        if purchase.state == "delivered":
            market_events.purchase_delivered(purchase)
    db.session.commit()
    local = utcnow().astimezone(periods.zone(network.timezone))
    build_summary(network.id, periods.label(*periods.add_months(local.year, local.month, -1)))


@demo_cli.command("seed")
def seed_command() -> None:
    """Seed the demo network (once)."""
    click.echo("seeded" if seed() else "the demo network is there already")


@demo_cli.command("serve")
@click.option("--port", default=int(os.environ.get("PORT", "5000")))
@click.option("--host", default="127.0.0.1")
def serve_command(host: str, port: int) -> None:
    """Build the schema, seed the demo and serve it with gunicorn (jobs in-process)."""
    from flask_migrate import upgrade

    upgrade(directory=os.path.join(current_app.root_path, "migrations"))
    seed()
    db.engine.dispose()  # the worker opens its own connections
    click.echo(f"Ruamsue demo on http://{host}:{port}/  — log in as {DEMO_USERS['leader'][0]} / {DEMO_PASSWORD}")
    os.environ["RUAMSUE_SCHEDULER"] = "1"  # the embedded beat: a thread of the web worker
    _serve({"bind": f"{host}:{port}", "workers": 1, "threads": 4})


def _serve(options: dict[str, Any]) -> None:
    """gunicorn in this process: its worker forks from it with every module already imported, instead of a
    new interpreter importing the whole app again (seconds of a fresh clone's first start)."""
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    class DemoServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from core import create_app

            return create_app()

    DemoServer().run()
