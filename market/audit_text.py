"""The marketplace's audit events as sentences (registered with ``core.audit_text``)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import format as fmt
from core.audit_text import Event, _, describer, ids, quoted, subject_ids, subject_label
from core.db import db
from core.pages import STATE_LABELS
from market.models import Listing, Purchase
from network.models import Group

subject_label("listing", _l("สินค้าในตลาด"))
subject_label("market_purchase", _l("การซื้อในตลาด"))

FIELDS: dict[str, Any] = {"name": _l("ชื่อ"), "unit": _l("หน่วย"), "category": _l("หมวด"), "price": _l("ราคา"),
                          "stock": _l("สต็อก"), "outside_price": _l("ราคาที่ขายพ่อค้าคนกลาง"),
                          "reference_price": _l("ราคาตลาดทั่วไป"), "district": _l("อำเภอ"),
                          "description": _l("รายละเอียด"), "state": _l("สถานะ")}
MONEY = {"price", "outside_price", "reference_price"}


def _rows(model: Any, wanted: set[int]) -> dict[int, Any]:
    if not wanted:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(wanted)))}


def _value(key: str, value: Any) -> str:
    if value in (None, ""):
        return "–"
    if key in MONEY:
        return _("%(p)s บาท", p=fmt.baht(value))
    if key == "stock":
        return fmt.number(value)
    if key == "state":
        return str(STATE_LABELS.get(str(value), value))
    return str(value)


@describer("listing.create", "listing.update")
def _listings(events: list[Event]) -> dict[int, str]:
    listings = _rows(Listing, subject_ids(events))
    out = {}
    for e in events:
        listing = listings.get(int(e["subject_id"]))
        after, before = e.get("after") or {}, e.get("before") or {}
        name = quoted(listing.name if listing else after.get("name"))
        if e["action"] == "listing.create":
            out[e["id"]] = _("ลงขาย %(name)s ราคา %(price)s บาท ต่อ %(unit)s มีสต็อก %(stock)s %(unit)s", name=name,
                             price=fmt.baht(after.get("price")), unit=after.get("unit") or "",
                             stock=fmt.number(after.get("stock")))
            continue
        changes = [_("%(field)s จาก %(old)s เป็น %(new)s", field=str(FIELDS.get(k, k)), old=_value(k, before.get(k)),
                     new=_value(k, v)) for k, v in after.items()]
        out[e["id"]] = _("แก้ไข %(name)s: %(changes)s", name=name, changes=", ".join(changes))
    return out


@describer("purchase.place", "purchase.confirm", "purchase.deliver", "purchase.cancel")
def _purchases(events: list[Event]) -> dict[int, str]:
    purchases = _rows(Purchase, subject_ids(events))
    listings = _rows(Listing, {p.listing_id for p in purchases.values()} | ids(events, "listing_id"))
    groups = _rows(Group, {p.buyer_group_id for p in purchases.values()} | ids(events, "group_id"))
    out = {}
    for e in events:
        p = purchases.get(int(e["subject_id"]))
        after = e.get("after") or {}
        listing = listings.get(p.listing_id if p else int(after.get("listing_id", 0)))
        group = groups.get(p.buyer_group_id if p else int(after.get("group_id", 0)))
        values = {"listing": quoted(listing.name if listing else ""), "group": quoted(group.name if group else ""),
                  "unit": listing.unit if listing else "", "n": fmt.number(p.quantity if p else after.get("quantity"))}
        if e["action"] == "purchase.place":
            out[e["id"]] = _("%(group)s สั่งซื้อ %(listing)s %(n)s %(unit)s เป็นเงิน %(amount)s บาท",
                             amount=fmt.baht(after.get("amount")), **values)
        elif e["action"] == "purchase.confirm":
            out[e["id"]] = _("ยืนยันคำสั่งซื้อ %(listing)s %(n)s %(unit)s ของ %(group)s", **values)
        elif e["action"] == "purchase.deliver":
            out[e["id"]] = _("ส่ง %(listing)s %(n)s %(unit)s ให้ %(group)s แล้ว (รายได้เพิ่ม %(gain)s บาท กลุ่มผู้ซื้อประหยัด %(saving)s บาท)",
                             gain=fmt.baht(after.get("income_gain")), saving=fmt.baht(after.get("buyer_saving")), **values)
        else:
            out[e["id"]] = _("ยกเลิกคำสั่งซื้อ %(listing)s %(n)s %(unit)s ของ %(group)s และคืนสต็อก", **values)
    return out
