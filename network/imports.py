"""Importing the groups and users a network keeps in a spreadsheet (registered with ``core.imports``).

Each row goes through the same checks as the API and the pages (``network.services.group_values``,
``core.fields.require_phone``, the one field module), plus the one rule of sheets: a cell must not start like a formula.
Rows match what is stored by the group's name or the user's e-mail; a blank cell keeps what is stored (a new
record gets the default). One function, one transaction: a dry run, or a file with any bad row, writes
nothing; otherwise every row is written together.
"""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validate
from sqlalchemy import insert, select

from core.clock import utcnow
from core.db import db
from core.errors import DomainError, Msg
from core.fields import require_phone, thai_text
from core.imports import ImportKind, ImportResult, ImportRow, count, finish, register_kind
from core.tables import Column, Table
from network import permissions
from network.models import GROUP_KINDS, NO_PASSWORD, Group, User
from network.services import group_values

GROUP_COLUMNS = (
    Column("name", ("ชื่อกลุ่ม", "กลุ่ม", "group", "group name"), True, "The group's name; rows match stored groups by it."),
    Column("kind", ("ประเภท", "ประเภทกลุ่ม", "type"), False,
           "สหกรณ์, วิสาหกิจชุมชน, กลุ่มออมทรัพย์, กลุ่มเกษตรกร, กลุ่มแม่บ้าน, อื่น ๆ (or the English code)."),
    Column("district", ("อำเภอ", "amphoe"), False, "District (อำเภอ), at most 100 characters."),
    Column("subdistrict", ("ตำบล", "tambon", "sub-district"), False, "Subdistrict (ตำบล), at most 100 characters."),
    Column("members", ("จำนวนสมาชิก", "สมาชิก", "member count"), False, "Members, a whole number 0–1,000,000."),
    Column("registered_poor_members", ("สมาชิกยากจน", "สมาชิกผู้มีบัตรสวัสดิการแห่งรัฐ", "ผู้มีบัตรสวัสดิการแห่งรัฐ",
                                       "registered poor"), False,
           "Members holding the state welfare card; not more than the members."),
)
USER_COLUMNS = (
    Column("email", ("อีเมล", "อีเมล์", "e-mail", "mail"), True, "The user's e-mail; rows match stored users by it."),
    Column("name", ("ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อผู้ใช้", "full name"), False,
           "The person's name, at most 200 characters (needed for a new user)."),
    Column("role", ("บทบาท", "ตำแหน่ง"), False,
           "ผู้นำกลุ่ม (leader), ผู้ขาย (seller) or คณะกรรมการเครือข่าย (committee); needed for a new user."),
    Column("group", ("กลุ่ม", "ชื่อกลุ่ม", "group name"), False,
           "The name of a group already in the network; a leader or seller needs one."),
    Column("phone", ("เบอร์โทรศัพท์", "โทรศัพท์", "เบอร์โทร", "มือถือ", "telephone", "mobile"), False,
           "Digits, spaces, + and -, e.g. 081-234-5678."),
)

KIND_NAMES = {"สหกรณ์": "cooperative", "วิสาหกิจชุมชน": "community_enterprise", "กลุ่มออมทรัพย์": "savings_group",
              "กลุ่มเกษตรกร": "farmers_group", "กลุ่มแม่บ้าน": "womens_group", "อื่นๆ": "other", "อื่น": "other",
              "co-operative": "cooperative", "community enterprise": "community_enterprise",
              "savings group": "savings_group", "farmers' group": "farmers_group", "farmers group": "farmers_group",
              "women's group": "womens_group", "womens group": "womens_group", **{k: k for k in GROUP_KINDS}}
ROLE_NAMES = {"ผู้นำกลุ่ม": "leader", "ประธานกลุ่ม": "leader", "ผู้ขาย": "seller", "คณะกรรมการเครือข่าย": "committee",
              "คณะกรรมการ": "committee", "กรรมการ": "committee", "กรรมการเครือข่าย": "committee",
              "leader": "leader", "seller": "seller", "committee": "committee"}
_EMAIL = validate.Email()


def _word(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).lower().replace("อื่น ๆ", "อื่นๆ")


def import_groups(actor: Any, table: Table, dry_run: bool) -> ImportResult:
    result = ImportResult(kind="groups", dry_run=dry_run, rows=len(table.rows))
    # Names as the field module reads them (core.fields.thai_text): a name stored with the other sara am matches.
    stored = {thai_text(g.name): g for g in db.session.scalars(select(Group).where(Group.network_id == actor.network_id))}
    plan: list[tuple[Group | None, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, values in table.rows:
        row = ImportRow(number, result)
        name = row.text(values, "name", 200, required=True)
        data: dict[str, Any] = {}
        for column in ("district", "subdistrict"):
            if values.get(column, "").strip():
                data[column] = row.text(values, column, 100)
        if values.get("kind", "").strip():
            kind = KIND_NAMES.get(_word(values["kind"]))
            if kind is None:
                row.problem("kind", Msg("Unknown kind of group.", "import_kind_of_group"))
            data["kind"] = kind
        for column in ("members", "registered_poor_members"):
            if values.get(column, "").strip():
                data[column] = row.whole(values, column)
        if name is not None and name in seen:
            row.problem("name", Msg(f"The same group as row {seen[name]}.", "import_duplicate", row=seen[name]))
        if row.bad or name is None:
            result.outcomes.append((number, "error", values.get("name", "")))
            continue
        seen[name] = number
        group = stored.get(name)
        try:
            checked = group_values({"name": name, **data}, group, formula=False)
        except DomainError as exc:
            row.refused(exc)
            result.outcomes.append((number, "error", name))
            continue
        changes = {k: v for k, v in checked.items() if group is None or getattr(group, k) != v}
        count(result, number, name, changes, group)
        plan.append((group, checked if group is None else changes))

    def apply() -> None:
        # New groups in one multi-row INSERT (every key given, so each row gets the same columns).
        now = utcnow()
        new = [{"network_id": actor.network_id, "kind": "cooperative", "district": "", "subdistrict": "",
                "members": 0, "registered_poor_members": 0, "created_at": now, **changes}
               for group, changes in plan if group is None]
        if new:
            db.session.execute(insert(Group), new)
        for group, changes in plan:
            if group is not None:
                for key, value in changes.items():
                    setattr(group, key, value)

    return finish(actor, result, "import.groups", apply)


def import_users(actor: Any, table: Table, dry_run: bool) -> ImportResult:
    result = ImportResult(kind="users", dry_run=dry_run, rows=len(table.rows))
    groups = {thai_text(g.name): g.id for g in db.session.scalars(select(Group).where(Group.network_id == actor.network_id))}
    emails = {v.get("email", "").strip().lower() for _n, v in table.rows}
    stored = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))} if emails else {}
    plan: list[tuple[User | None, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, values in table.rows:
        row = ImportRow(number, result)
        email = (row.text(values, "email", 254, required=True) or "").lower()
        if email:
            try:
                _EMAIL(email)
            except ValidationError:
                row.problem("email", Msg("Not a valid e-mail address.", "import_email"))
            if email in seen:
                row.problem("email", Msg(f"The same user as row {seen[email]}.", "import_duplicate", row=seen[email]))
        user = stored.get(email)
        if user is not None and user.network_id != actor.network_id:
            row.problem("email", Msg("That e-mail is already used.", "email_used"))
            user = None
        elif user is not None and user.role == "admin":
            row.problem("email", Msg("An admin is not changed from a file.", "import_admin"))
        data: dict[str, Any] = {}
        if values.get("name", "").strip() or user is None:
            data["name"] = row.text(values, "name", 200, required=True)
        if values.get("role", "").strip() or user is None:
            role = ROLE_NAMES.get(_word(values.get("role", "")))
            if role is None:
                row.problem("role", Msg("One of leader, seller, committee.", "import_role"))
            data["role"] = role
        if values.get("group", "").strip():
            group_name = row.text(values, "group", 200)
            data["group_id"] = groups.get(group_name or "")
            if group_name is not None and data["group_id"] is None:
                row.problem("group", Msg("No group of that name: import the groups first.", "import_no_group"))
        if values.get("phone", "").strip():
            try:
                data["phone"] = require_phone("phone", values["phone"]) or ""  # the one phone rule
            except DomainError as exc:
                row.refused(exc)
        role = data.get("role") or (user.role if user is not None else None)
        if role in ("leader", "seller") and not data.get("group_id", user.group_id if user is not None else None):
            if "group_id" not in data:  # a named group that is not found is already said
                row.problem("group", Msg("A leader or seller belongs to one group.", "import_group_needed"))
        if row.bad:
            result.outcomes.append((number, "error", values.get("email", "")))
            continue
        seen[email] = number
        changes = {k: v for k, v in data.items() if user is None or getattr(user, k) != v}
        count(result, number, f"{data.get('name') or (user.name if user else '')} <{email}>", changes, user)
        plan.append((user, {"email": email, **changes} if user is None else changes))

    def apply() -> None:
        now = utcnow()
        new = [{"network_id": actor.network_id, "password_hash": NO_PASSWORD, "session_version": 0, "active": True,
                "phone": "", "group_id": None, "locale": None, "created_at": now, **changes}
               for user, changes in plan if user is None]
        if new:
            db.session.execute(insert(User), new)
        for user, changes in plan:
            if user is not None:
                for key, value in changes.items():
                    setattr(user, key, value)

    return finish(actor, result, "import.users", apply)


def init_app() -> None:
    register_kind(ImportKind("groups", GROUP_COLUMNS, import_groups, permissions.can_create_groups))
    register_kind(ImportKind("users", USER_COLUMNS, import_users, permissions.can_manage_users))
