"""The households domain's audit events as sentences (registered with ``core.audit_text``).

The audit trail never holds a household's name or phone (PDPA): sentences name the group and the id."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import format as fmt
from core.audit_text import Event, _, by_id, describer, ids, quoted, subject_ids, subject_label
from network.models import Group
from orders.models import BuyingRound

subject_label("household", _l("ครัวเรือน"))


@describer("household.create", "household.update", "household.remove")
def _households(events: list[Event]) -> dict[int, str]:
    groups = by_id(Group, ids(events, "group_id"))
    out = {}
    for e in events:
        after = e.get("after") or {}
        group = groups.get(int(after["group_id"])) if after.get("group_id") is not None else None
        name = quoted(group.name if group else "")
        number = fmt.number(int(e["subject_id"]))
        poor = _("ผู้มีบัตรสวัสดิการแห่งรัฐ") if after.get("registered_poor") else _("ไม่ได้ลงทะเบียนบัตรสวัสดิการ")
        if e["action"] == "household.create":
            out[e["id"]] = _("เพิ่มครัวเรือนหมายเลข %(n)s ในกลุ่ม %(group)s (%(poor)s)", n=number, group=name, poor=poor)
        elif e["action"] == "household.update":
            out[e["id"]] = _("แก้ข้อมูลครัวเรือนหมายเลข %(n)s ในกลุ่ม %(group)s (%(poor)s)", n=number, group=name, poor=poor)
        else:
            out[e["id"]] = _("ลบครัวเรือนหมายเลข %(n)s ออกจากกลุ่ม %(group)s ตามที่ขอ (ลบชื่อและเบอร์โทรแล้ว บิลเก่ายังอยู่)",
                             n=number, group=name)
    return out


@describer("sheet.open", "sheet.revoke")
def _sheets(events: list[Event]) -> dict[int, str]:
    groups = by_id(Group, ids(events, "group_id"))
    rounds = by_id(BuyingRound, subject_ids(events))
    out = {}
    for e in events:
        after = e.get("after") or {}
        group = groups.get(int(after["group_id"])) if after.get("group_id") is not None else None
        rnd = rounds.get(int(e["subject_id"]))
        values = {"group": quoted(group.name if group else ""), "round": quoted(rnd.name if rnd else "")}
        out[e["id"]] = (_("เปิดลิงก์ให้ครัวเรือนของกลุ่ม %(group)s สั่งในรอบ %(round)s", **values)
                        if e["action"] == "sheet.open"
                        else _("ปิดลิงก์ของครัวเรือนกลุ่ม %(group)s ในรอบ %(round)s (ลิงก์ใช้ไม่ได้แล้ว)", **values))
    return out
