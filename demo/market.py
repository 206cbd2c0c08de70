"""Demo marketplace for a Nong Khai network: sellers' listings and purchases in every state.

Called by the demo seed after the network, its groups and users exist::

    from demo.market import seed_market
    seed_market(network, groups_by_name, users_by_role)

Seller groups are matched by name (a rice mill, a weaving group, a fish group, a women's food group);
whatever does not match is given round-robin to the groups passed in. Purchases are back-dated so that
the monthly summary has delivered sales in the current and the previous month (network time zone).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.clock import utcnow
from core.db import db
from market.models import Listing, Purchase
from network.models import Group, Network, User
from pricing.marketplace import buyer_saving, income_gain
from pricing.money import CENT


@dataclass(frozen=True)
class _Spec:
    key: str
    seller_words: tuple[str, ...]
    name: str
    unit: str
    category: str
    price: str
    outside_price: str | None
    reference_price: str | None
    stock: int
    district: str
    description: str
    state: str = "active"


LISTINGS = (
    _Spec("rice", ("โรงสี", "ข้าว", "rice", "mill"), "ข้าวหอมมะลิ 105 (ข้าวสาร)", "กก.", "ข้าว", "38.00", "30.50",
          "45.00", 800, "โพนพิสัย", "ข้าวหอมมะลิปีใหม่ สีจากโรงสีชุมชน บรรจุถุง 5 กก. และกระสอบ 25 กก."),
    _Spec("sticky", ("โรงสี", "ข้าว", "rice", "mill"), "ข้าวเหนียว กข6", "กก.", "ข้าว", "32.00", "26.00",
          "38.00", 500, "โพนพิสัย", "ข้าวเหนียวเขี้ยวงู นึ่งนุ่ม สีใหม่ทุกสัปดาห์"),
    _Spec("mudmee", ("ทอ", "ผ้า", "weav", "silk"), "ผ้าไหมมัดหมี่ทอมือ", "ผืน", "ผ้าทอ", "850.00", "600.00",
          "1200.00", 25, "ท่าบ่อ", "มัดหมี่ลายนาคย้อมสีธรรมชาติ ยาว 2 เมตร ทอโดยสมาชิกกลุ่มสตรี"),
    _Spec("pakaoma", ("ทอ", "ผ้า", "weav", "silk"), "ผ้าขาวม้าทอมือ", "ผืน", "ผ้าทอ", "150.00", None,
          "180.00", 40, "ท่าบ่อ", "ผ้าฝ้ายลายตาราง ใช้ได้ทั้งผู้ชายและผู้หญิง"),
    _Spec("fish", ("ปลา", "ประมง", "fish"), "ปลาแดดเดียวแม่น้ำโขง", "กก.", "อาหารแปรรูป", "220.00", "170.00",
          "280.00", 60, "เมืองหนองคาย", "ปลาเนื้ออ่อนและปลาเพี้ยจากแม่น้ำโขง ตากแดดเดียว แช่แข็งพร้อมส่ง"),
    _Spec("jaew", ("แม่บ้าน", "สตรี", "อาหาร", "women", "food"), "น้ำพริกแจ่วบอง", "กระปุก", "อาหารแปรรูป",
          "45.00", "35.00", None, 120, "ศรีเชียงใหม่", "แจ่วบองปลาร้าสูตรอีสาน กระปุก 200 กรัม ไม่ใส่สารกันบูด"),
    _Spec("chili", ("แม่บ้าน", "สตรี", "อาหาร", "women", "food"), "น้ำพริกเผาพริกแห้ง", "กระปุก", "อาหารแปรรูป",
          "40.00", "32.00", "55.00", 80, "ศรีเชียงใหม่", "พริกแห้งจากแปลงสมาชิก คั่วหอม กระปุก 250 กรัม"),
    _Spec("bamboo", ("แม่บ้าน", "สตรี", "อาหาร", "women", "food"), "หน่อไม้ดอง", "ถุง", "อาหารแปรรูป", "25.00",
          "18.00", "30.00", 0, "สังคม", "หมดฤดู พักการขายไว้ก่อน", state="paused"),
)

# (listing key, quantity, state, when): when = "current" / "previous" month for delivered ones.
PURCHASES = (
    ("rice", 200, "delivered", "previous"),
    ("mudmee", 4, "delivered", "previous"),
    ("fish", 10, "delivered", "previous"),
    ("rice", 150, "delivered", "current"),
    ("sticky", 100, "delivered", "current"),
    ("jaew", 24, "delivered", "current"),
    ("chili", 12, "delivered", "current"),
    ("pakaoma", 10, "confirmed", "current"),
    ("fish", 5, "placed", "current"),
    ("mudmee", 2, "placed", "current"),
    ("rice", 50, "cancelled", "current"),
    ("sticky", 40, "placed", "current"),
)


def _pick_seller(spec: _Spec, groups: list[Group], used: dict[str, Group], fallback: list[Group]) -> Group:
    for word in spec.seller_words:
        for group in groups:
            if word.lower() in group.name.lower():
                return group
    # Listings of the same kind stay with one group even when no name matched.
    family = spec.seller_words[0]
    if family not in used:
        used[family] = fallback[len(used) % len(fallback)]
    return used[family]


def _users(users_by_role: dict[str, Any] | None, network: Network) -> list[User]:
    found: list[User] = []
    for value in (users_by_role or {}).values():
        items = value if isinstance(value, (list, tuple)) else list(value.values()) if isinstance(value, dict) \
            else [value]
        found.extend(u for u in items if isinstance(u, User))
    found.extend(db.session.scalars(select(User).where(User.network_id == network.id, User.active.is_(True))))
    return found


def _month_times(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A moment in this month (not in the future) and one in the previous month, in the network's zone."""
    local = now.astimezone(tz)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elapsed = local - month_start
    current = local - min(timedelta(days=2), elapsed / 2)
    previous = month_start - timedelta(days=9, hours=-10)
    return current.astimezone(now.tzinfo), previous.astimezone(now.tzinfo)


def seed_market(network: Network, groups_by_name: dict[str, Group] | None = None,
                users_by_role: dict[str, Any] | None = None, *, now: datetime | None = None,
                commit: bool = True) -> dict[str, Any]:
    """Write the demo listings and purchases. Does nothing if the network has listings already."""
    existing = db.session.scalar(select(func.count()).select_from(Listing).where(Listing.network_id == network.id))
    if existing:
        return {"listings": [], "purchases": [], "skipped": True}
    groups = sorted((groups_by_name or {}).values(), key=lambda g: g.id) or list(
        db.session.scalars(select(Group).where(Group.network_id == network.id).order_by(Group.id)))
    if len(groups) < 2:
        raise ValueError("The demo market needs at least two groups: a seller and a buyer.")
    users = _users(users_by_role, network)
    now = now or utcnow()
    tz = ZoneInfo(network.timezone or "Asia/Bangkok")
    current, previous = _month_times(now, tz)

    used: dict[str, Group] = {}
    listings: dict[str, Listing] = {}
    for spec in LISTINGS:
        seller = _pick_seller(spec, groups, used, groups)
        creator = next((u for u in users if u.group_id == seller.id and u.role in ("seller", "leader")), None)
        created = previous - timedelta(days=20)
        listing = Listing(
            network_id=network.id, group_id=seller.id, created_by_id=creator.id if creator else None,
            name=spec.name, unit=spec.unit, category=spec.category, price=Decimal(spec.price),
            outside_price=Decimal(spec.outside_price) if spec.outside_price else None,
            reference_price=Decimal(spec.reference_price) if spec.reference_price else None,
            stock=spec.stock, district=seller.district or spec.district, description=spec.description, state=spec.state,
            created_at=created, updated_at=created)
        db.session.add(listing)
        listings[spec.key] = listing
    db.session.flush()

    purchases: list[Purchase] = []
    for i, (key, quantity, state, month) in enumerate(PURCHASES):
        listing = listings[key]
        buyers = [g for g in groups if g.id != listing.group_id]
        buyer = buyers[i % len(buyers)]
        leader = next((u for u in users if u.group_id == buyer.id and u.role == "leader"), None)
        base = current if month == "current" else previous
        placed_at = base - (timedelta(days=3) if month == "previous" else timedelta(hours=6 + i))
        purchase = Purchase(
            network_id=network.id, listing_id=listing.id, buyer_group_id=buyer.id,
            seller_group_id=listing.group_id, placed_by_id=leader.id if leader else None, quantity=quantity,
            unit_price=listing.price, outside_price=listing.outside_price,
            reference_price=listing.reference_price, amount=(quantity * listing.price).quantize(CENT),
            state=state, placed_at=placed_at)
        if state in ("confirmed", "delivered"):
            purchase.confirmed_at = placed_at + timedelta(hours=2)
        if state == "delivered":
            purchase.delivered_at = base
            purchase.income_gain = income_gain(quantity, listing.price, listing.outside_price)
            purchase.buyer_saving = buyer_saving(quantity, listing.price, listing.reference_price)
        if state == "cancelled":
            purchase.cancelled_at = placed_at + timedelta(hours=1)
        else:
            listing.stock = max(0, listing.stock - quantity)
        db.session.add(purchase)
        purchases.append(purchase)
    db.session.flush()
    if commit:
        db.session.commit()
    return {"listings": list(listings.values()), "purchases": purchases, "skipped": False}
