"""The quotes domain's audit events as sentences (registered with ``core.audit_text``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import format as fmt
from core.audit_text import Event, _, by_id, describer, ids, quoted, subject_ids, subject_label, when
from orders.models import BuyingRound, Supplier
from quotes.models import Rfq

subject_label("rfq", _l("คำขอใบเสนอราคา"))


@describer("rfq.create", "rfq.award", "rfq.reissue_link", "quote.submit")
def _rfqs(events: list[Event]) -> dict[int, str]:
    rfqs = by_id(Rfq, subject_ids(events))
    supplier_ids = ids(events, "supplier_id") | {int(s) for e in events if e["action"] == "rfq.create"
                                                 for s in (e.get("after") or {}).get("supplier_ids") or []}
    suppliers = by_id(Supplier, supplier_ids)
    rounds = by_id(BuyingRound, ids(events, "round_id"))
    out = {}
    for e in events:
        after = e.get("after") or {}
        rfq = rfqs.get(int(e["subject_id"]))
        name = quoted(rfq.name if rfq else after.get("name"))
        supplier = suppliers.get(int(after["supplier_id"])) if after.get("supplier_id") is not None else None
        if e["action"] == "rfq.create":
            asked = ", ".join(quoted(suppliers[int(s)].name) for s in after.get("supplier_ids") or []
                              if int(s) in suppliers)
            out[e["id"]] = _("ขอใบเสนอราคา %(rfq)s จากผู้ขายส่ง %(n)s ราย (%(suppliers)s) รับใบเสนอราคาถึง %(when)s",
                             rfq=name, n=fmt.number(len(after.get("supplier_ids") or [])), suppliers=asked,
                             when=when(after.get("closes_at")))
        elif e["action"] == "rfq.award":
            rnd = rounds.get(int(after["round_id"])) if after.get("round_id") is not None else None
            text = _("เลือกผู้ขายส่งตามคำขอใบเสนอราคา %(rfq)s รวม %(total)s บาท และสร้างรอบสั่งซื้อ %(round)s",
                     rfq=name, total=fmt.baht(after.get("total")), round=quoted(rnd.name if rnd else ""))
            if after.get("best_total") is not None and fmt.baht(after.get("total")) != fmt.baht(after["best_total"]):
                text += " " + _("(ชุดที่ถูกที่สุดรวม %(best)s บาท)", best=fmt.baht(after["best_total"]))
            out[e["id"]] = text
        elif e["action"] == "rfq.reissue_link":
            out[e["id"]] = _("ออกลิงก์ใหม่ให้ %(supplier)s สำหรับคำขอใบเสนอราคา %(rfq)s (ลิงก์เดิมใช้ไม่ได้แล้ว)",
                             supplier=quoted(supplier.name if supplier else ""), rfq=name)
        else:
            who = quoted(supplier.name if supplier else "")
            out[e["id"]] = (_("%(supplier)s ส่งใบเสนอราคาสำหรับ %(rfq)s", supplier=who, rfq=name) if e.get("before") is None
                            else _("%(supplier)s แก้ใบเสนอราคาสำหรับ %(rfq)s", supplier=who, rfq=name))
    return out
