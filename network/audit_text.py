"""The network's audit events as sentences (registered with ``core.audit_text``)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import format as fmt
from core.audit_text import Event, _, describer, quoted, subject_ids, subject_label
from core.db import db
from core.pages import KIND_LABELS
from network.models import Group, User

subject_label("network", _l("เครือข่าย"))
subject_label("group", _l("กลุ่ม"))
subject_label("user", _l("ผู้ใช้"))

FIELDS: dict[str, Any] = {"name": _l("ชื่อ"), "kind": _l("ประเภทกลุ่ม"), "district": _l("อำเภอ"), "subdistrict": _l("ตำบล"),
                          "members": _l("จำนวนสมาชิก"), "registered_poor_members": _l("สมาชิกผู้มีบัตรสวัสดิการแห่งรัฐ"),
                          "timezone": _l("เขตเวลา"), "fee_percent": _l("ค่าบริการเครือข่าย"),
                          "promptpay_id": _l("พร้อมเพย์")}


def _value(key: str, value: Any) -> str:
    if value in (None, "", "None"):  # the network's "before" is kept as text: str(None)
        return "–"
    if key == "promptpay_id":
        return fmt.promptpay(str(value))
    if key == "fee_percent":
        return f"{fmt.baht(value)}%"
    if key in ("members", "registered_poor_members"):
        return fmt.number(value)
    if key == "kind":
        return str(KIND_LABELS.get(str(value), value))
    return str(value)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    return ", ".join(_("%(field)s จาก %(old)s เป็น %(new)s", field=str(FIELDS.get(k, k)), old=_value(k, before.get(k)),
                       new=_value(k, v)) for k, v in after.items())


@describer("network.update")
def _network(events: list[Event]) -> dict[int, str]:
    return {e["id"]: _("แก้ไขข้อมูลเครือข่าย: %(changes)s", changes=_changes(e.get("before") or {}, e.get("after") or {}))
            for e in events}


@describer("group.create", "group.update")
def _groups(events: list[Event]) -> dict[int, str]:
    wanted = subject_ids(events)
    groups = {g.id: g for g in db.session.scalars(select(Group).where(Group.id.in_(wanted)))} if wanted else {}
    out = {}
    for e in events:
        after = e.get("after") or {}
        group = groups.get(int(e["subject_id"]))
        name = quoted(group.name if group else after.get("name"))
        if e["action"] == "group.create":
            out[e["id"]] = _("เพิ่มกลุ่ม %(name)s (%(kind)s) สมาชิก %(members)s คน", name=name,
                             kind=_value("kind", after.get("kind")), members=fmt.number(after.get("members") or 0))
        else:
            out[e["id"]] = _("แก้ไขข้อมูลกลุ่ม %(name)s: %(changes)s", name=name,
                             changes=_changes(e.get("before") or {}, after))
    return out


subject_label("user", _l("ผู้ใช้"))


@describer("import.groups", "import.users")
def _imports(events: list[Event]) -> dict[int, str]:
    what = {"import.groups": _l("กลุ่ม"), "import.users": _l("ผู้ใช้")}
    return {e["id"]: _("นำเข้า%(what)sจากไฟล์ %(rows)s แถว: เพิ่มใหม่ %(created)s แก้ไข %(updated)s",
                       what=str(what[e["action"]]), rows=fmt.number((e.get("after") or {}).get("rows") or 0),
                       created=fmt.number((e.get("after") or {}).get("created") or 0),
                       updated=fmt.number((e.get("after") or {}).get("updated") or 0)) for e in events}


@describer("user.invitation", "user.reset", "user.invitation_used", "user.reset_used")
def _links(events: list[Event]) -> dict[int, str]:
    wanted = subject_ids(events)
    users = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}
    texts = {"user.invitation": _l("สร้างลิงก์เชิญสำหรับ %(name)s"),
             "user.reset": _l("สร้างลิงก์ตั้งรหัสผ่านใหม่สำหรับ %(name)s"),
             "user.invitation_used": _l("%(name)s เปิดลิงก์เชิญและตั้งรหัสผ่านแล้ว"),
             "user.reset_used": _l("%(name)s ตั้งรหัสผ่านใหม่จากลิงก์แล้ว")}
    line = {"user.invitation_used": _l("%(name)s เปิดลิงก์เชิญและเชื่อมต่อ LINE แล้ว"),
            "user.reset_used": _l("%(name)s เข้าสู่ระบบจากลิงก์ด้วย LINE แล้ว")}
    return {e["id"]: str((line if (e.get("after") or {}).get("by") == "line" else texts)[e["action"]])
            % {"name": quoted(users.get(int(e["subject_id"]), "–"))} for e in events}


@describer("user.password_change")
def _passwords(events: list[Event]) -> dict[int, str]:
    from network.models import User

    wanted = subject_ids(events)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}
    out = {}
    for e in events:
        user = users.get(int(e["subject_id"]))
        name = quoted(user.name if user else e["subject_id"])
        if e["action"] == "user.password_change":
            out[e["id"]] = _("%(name)s เปลี่ยนรหัสผ่าน เครื่องอื่นทุกเครื่องต้องเข้าสู่ระบบใหม่", name=name)
        elif e["action"] == "user.password_reset":
            out[e["id"]] = _("%(name)s ตั้งรหัสผ่านใหม่ด้วยลิงก์ เครื่องอื่นทุกเครื่องต้องเข้าสู่ระบบใหม่", name=name)
        else:
            out[e["id"]] = _("ออกลิงก์ตั้งรหัสผ่านใหม่ให้ %(name)s (ใช้ได้ครั้งเดียว ภายใน 24 ชั่วโมง)", name=name)
    return out
