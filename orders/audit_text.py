"""The orders domain's audit events as sentences (registered with ``core.audit_text``)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import format as fmt
from core.audit_text import Event, _, by_id, describer, ids, quoted, subject_ids, subject_label, when
from core.db import db
from network.models import Group
from orders.models import BuyingRound, GroupOrder, Invoice, Offer, Product, PurchaseOrder, Supplier

for _subject, _label in (("round", _l("รอบสั่งซื้อ")), ("offer", _l("ข้อเสนอ")), ("group_order", _l("คำสั่งซื้อของกลุ่ม")),
                         ("supplier", _l("ผู้ขายส่ง")), ("purchase_order", _l("ใบสั่งซื้อ")), ("invoice", _l("ใบแจ้งหนี้"))):
    subject_label(_subject, _label)


def _offers(offer_ids: set[int]) -> dict[int, tuple[str, str]]:
    """offer id -> (product name, unit)."""
    if not offer_ids:
        return {}
    rows = db.session.execute(select(Offer.id, Product.name, Product.unit).join(Product, Product.id == Offer.product_id)
                              .where(Offer.id.in_(offer_ids))).all()
    return {offer_id: (name, unit) for offer_id, name, unit in rows}


@describer("round.create", "round.open", "round.close", "round.combine_retry")
def _rounds(events: list[Event]) -> dict[int, str]:
    rounds = by_id(BuyingRound, subject_ids(events))
    out = {}
    for e in events:
        rnd = rounds.get(int(e["subject_id"]))
        name = quoted(rnd.name if rnd else (e.get("after") or {}).get("name"))
        if e["action"] == "round.create":
            out[e["id"]] = _("สร้างรอบสั่งซื้อ %(round)s ปิดรับ %(when)s", round=name, when=when(e["after"]["closes_at"]))
        elif e["action"] == "round.combine_retry":
            out[e["id"]] = _("สั่งรวมยอดรอบ %(round)s อีกครั้ง หลังรวมยอดไม่สำเร็จ", round=name)
        elif e["action"] == "round.open":
            out[e["id"]] = _("เปิดรับคำสั่งซื้อรอบ %(round)s", round=name)
        else:
            out[e["id"]] = _("ปิดรับคำสั่งซื้อรอบ %(round)s และเริ่มรวมยอด", round=name)
    return out


@describer("offer.create")
def _offer_created(events: list[Event]) -> dict[int, str]:
    products = by_id(Product, ids(events, "product_id"))
    suppliers = by_id(Supplier, ids(events, "supplier_id"))
    offers = by_id(Offer, subject_ids(events))
    rounds = by_id(BuyingRound, {o.round_id for o in offers.values()})
    out = {}
    for e in events:
        data = e["after"]
        product = products.get(int(data["product_id"]))
        offer = offers.get(int(e["subject_id"]))
        rnd = rounds.get(offer.round_id) if offer else None
        unit = product.unit if product else ""
        tiers = " · ".join(_("ตั้งแต่ %(n)s %(unit)s ราคา %(price)s บาท", n=fmt.number(t["min_quantity"]), unit=unit,
                             price=fmt.baht(t["unit_price"])) for t in data.get("tiers") or [])
        supplier = suppliers.get(int(data["supplier_id"]))
        out[e["id"]] = _("เพิ่ม %(product)s ของ %(supplier)s ในรอบ %(round)s บรรจุ %(pack)s %(unit)s "
                         "ราคาร้านค้า %(ref)s บาท ขั้นราคา: %(tiers)s",
                         product=quoted(product.name if product else ""), supplier=quoted(supplier.name if supplier else ""),
                         round=quoted(rnd.name if rnd else ""), pack=fmt.number(data.get("pack_size")), unit=unit,
                         ref=fmt.baht(data.get("reference_price")), tiers=tiers)
    return out


def _lines(value: Any) -> dict[int, tuple[int, int]]:
    return {int(line["offer_id"]): (int(line["quantity"]), int(line.get("tolerance") or 0)) for line in value or []}


@describer("order.replace")
def _order_replaced(events: list[Event]) -> dict[int, str]:
    orders = by_id(GroupOrder, subject_ids(events))
    groups = by_id(Group, {o.group_id for o in orders.values()})
    rounds = by_id(BuyingRound, {o.round_id for o in orders.values()})
    offer_ids = {oid for e in events for oid in (*_lines(e.get("before")), *_lines(e.get("after")))}
    products = _offers(offer_ids)
    out = {}
    for e in events:
        order = orders.get(int(e["subject_id"]))
        group = quoted(groups[order.group_id].name if order and order.group_id in groups else "")
        rnd = quoted(rounds[order.round_id].name if order and order.round_id in rounds else "")
        before, after = _lines(e.get("before")), _lines(e.get("after"))
        if not after:
            out[e["id"]] = _("ถอนคำสั่งซื้อทั้งหมดของ %(group)s ในรอบ %(round)s", group=group, round=rnd)
            continue
        parts = []
        for offer_id in sorted(set(before) | set(after)):
            name, unit = products.get(offer_id, ("", ""))
            old, new = before.get(offer_id), after.get(offer_id)
            if old == new:
                continue
            if new is None:
                parts.append(_("ยกเลิก %(product)s", product=name))
            elif old is None:
                parts.append(_("%(product)s %(n)s %(unit)s", product=name, n=fmt.number(new[0]), unit=unit)
                             + (_(" (รับเพิ่มได้ %(t)s)", t=fmt.number(new[1])) if new[1] else ""))
            else:
                parts.append(_("%(product)s จาก %(old)s เป็น %(new)s %(unit)s", product=name, old=fmt.number(old[0]),
                               new=fmt.number(new[0]), unit=unit)
                             + (_(" (รับเพิ่มได้ %(t)s)", t=fmt.number(new[1])) if new[1] else ""))
        verb = _("สั่งซื้อให้ %(group)s ในรอบ %(round)s", group=group, round=rnd) if not before else \
            _("แก้คำสั่งซื้อของ %(group)s ในรอบ %(round)s", group=group, round=rnd)
        out[e["id"]] = verb + ": " + (", ".join(parts) or _("ไม่มีรายการเปลี่ยน"))
    return out


@describer("price_list.import")
def _price_list(events: list[Event]) -> dict[int, str]:
    suppliers = by_id(Supplier, subject_ids(events))
    rounds = by_id(BuyingRound, ids(events, "round_id"))
    out = {}
    for e in events:
        data = e["after"]
        supplier = suppliers.get(int(e["subject_id"]))
        text = _("นำเข้ารายการราคาของ %(supplier)s %(rows)s แถว (สินค้าใหม่ %(products)s รายการ ข้อเสนอ %(offers)s รายการ)",
                 supplier=quoted(supplier.name if supplier else ""), rows=fmt.number(data.get("rows")),
                 products=fmt.number(data.get("products")), offers=fmt.number(data.get("offers")))
        if data.get("round_id") and int(data["round_id"]) in rounds:
            text += " " + _("ในรอบ %(round)s", round=quoted(rounds[int(data["round_id"])].name))
        out[e["id"]] = text
    return out


@describer("purchase_order.receipt")
def _receipt(events: list[Event]) -> dict[int, str]:
    received_orders = by_id(PurchaseOrder, subject_ids(events))
    suppliers = by_id(Supplier, {po.supplier_id for po in received_orders.values()})
    rounds = by_id(BuyingRound, {po.round_id for po in received_orders.values()})
    offer_ids = {int(k) for e in events for k in (e.get("before") or {})}
    products = _offers(offer_ids)
    out = {}
    for e in events:
        po = received_orders.get(int(e["subject_id"]))
        ordered = {int(k): int(v) for k, v in (e.get("before") or {}).items()}
        given = {int(k): int(v) for k, v in ((e.get("after") or {}).get("received") or {}).items()}
        parts = []
        for offer_id, qty in sorted(ordered.items()):
            name, unit = products.get(offer_id, ("", ""))
            got = given.get(offer_id, qty)
            parts.append(_("%(product)s %(got)s จาก %(ordered)s %(unit)s", product=name, got=fmt.number(got),
                           ordered=fmt.number(qty), unit=unit))
        out[e["id"]] = _("บันทึกการรับของจาก %(supplier)s รอบ %(round)s เมื่อ %(when)s: %(lines)s",
                         supplier=quoted(suppliers[po.supplier_id].name if po and po.supplier_id in suppliers else ""),
                         round=quoted(rounds[po.round_id].name if po and po.round_id in rounds else ""),
                         when=when((e.get("after") or {}).get("received_at")), lines=", ".join(parts))
    return out


@describer("invoice.payment")
def _payment(events: list[Event]) -> dict[int, str]:
    invoices = by_id(Invoice, subject_ids(events))
    groups = by_id(Group, {inv.group_id for inv in invoices.values()})
    rounds = by_id(BuyingRound, {inv.round_id for inv in invoices.values()})
    out = {}
    for e in events:
        inv = invoices.get(int(e["subject_id"]))
        after, before = e.get("after") or {}, e.get("before") or {}
        out[e["id"]] = _("บันทึกเงินที่ %(group)s จ่ายค่ารอบ %(round)s %(amount)s บาท (จ่ายแล้ว %(paid)s จาก %(total)s บาท)",
                         group=quoted(groups[inv.group_id].name if inv and inv.group_id in groups else ""),
                         round=quoted(rounds[inv.round_id].name if inv and inv.round_id in rounds else ""),
                         amount=fmt.baht(after.get("amount")), paid=fmt.baht(after.get("paid")),
                         total=fmt.baht(before.get("total")))
    return out


@describer("payment.cancel")
def _payment_cancel(events: list[Event]) -> dict[int, str]:
    out = {}
    for e in events:
        after, before = e.get("after") or {}, e.get("before") or {}
        out[e["id"]] = _("ยกเลิกใบเสร็จเลขที่ %(receipt)s จำนวน %(amount)s บาท ด้วยใบยกเลิกเลขที่ %(number)s เหตุผล: %(reason)s",
                         receipt=before.get("receipt_number") or "–", amount=fmt.baht(after.get("amount")),
                         number=after.get("cancellation_number") or "–", reason=quoted(after.get("reason")))
    return out
