"""Importing a network's households from a spreadsheet (registered with ``core.imports``).

Rows match stored households by (group, name); the same field rules as the API (``households.services._values``:
the name's length, the phone's shape) plus the sheet's rule that a cell must not start like a formula. PDPA: the
audit trail gets counts only, never a name or a phone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from core.clock import utcnow
from core.db import db
from core.errors import DomainError, Msg
from core.fields import thai_text
from core.imports import ImportKind, ImportResult, ImportRow, count, finish, register_kind
from core.tables import Column, Table
from households.models import Household
from households.services import MAX_HOUSEHOLDS, NAME_LENGTH, _values
from network.models import Group
from network.permissions import is_admin

COLUMNS = (
    Column("group", ("กลุ่ม", "ชื่อกลุ่ม", "group name"), True,
           "The name of a group already in the network; rows match stored households by group and name."),
    Column("name", ("ชื่อครัวเรือน", "ครัวเรือน", "ชื่อ", "บ้านเลขที่", "household"), True,
           "The household's name or house number, at most 120 characters."),
    Column("registered_poor", ("ผู้มีบัตรสวัสดิการแห่งรัฐ", "บัตรสวัสดิการแห่งรัฐ", "ยากจน", "registered poor"), False,
           "ใช่ / ไม่ใช่ (also มี / ไม่มี, 1 / 0, yes / no, ✓); blank keeps what is stored (no for a new one)."),
    Column("phone", ("เบอร์โทรศัพท์", "โทรศัพท์", "เบอร์โทร", "telephone", "mobile"), False, "Optional."),
)
YES = {"ใช่", "มี", "1", "y", "yes", "true", "✓", "x"}
NO = {"ไม่ใช่", "ไม่มี", "0", "n", "no", "false", "-"}


def import_households(actor: Any, table: Table, dry_run: bool) -> ImportResult:
    result = ImportResult(kind="households", dry_run=dry_run, rows=len(table.rows))
    # Names as the field module reads them (core.fields.thai_text): a name stored with the other sara am matches.
    groups = {thai_text(g.name): g.id for g in db.session.scalars(select(Group).where(Group.network_id == actor.network_id))}
    stored = {(h.group_id, thai_text(h.name or "")): h for h in db.session.scalars(
        select(Household).where(Household.network_id == actor.network_id, Household.removed_at.is_(None)))}
    sizes: dict[int, int] = {int(gid): int(n) for gid, n in db.session.execute(
        select(Household.group_id, func.count()).where(Household.network_id == actor.network_id,
                                                       Household.removed_at.is_(None)).group_by(Household.group_id))}
    plan: list[tuple[Household | None, dict[str, Any]]] = []
    seen: dict[tuple[int, str], int] = {}
    for number, values in table.rows:
        row = ImportRow(number, result)
        group_name = row.text(values, "group", 200, required=True)
        group_id = groups.get(group_name or "")
        if group_name and group_id is None:
            row.problem("group", Msg("No group of that name: import the groups first.", "import_no_group"))
        name = row.text(values, "name", NAME_LENGTH, required=True)
        data: dict[str, Any] = {"name": name}
        poor = values.get("registered_poor", "").strip().lower()
        if poor:
            if poor not in YES | NO:
                row.problem("registered_poor", Msg("Yes or no.", "import_yes_no"))
            data["registered_poor"] = poor in YES
        if values.get("phone", "").strip():
            data["phone"] = values["phone"]
        key = (group_id or 0, name or "")
        if not row.bad and key in seen:
            row.problem("name", Msg(f"The same household as row {seen[key]}.", "import_duplicate", row=seen[key]))
        if row.bad or group_id is None or name is None:
            result.outcomes.append((number, "error", values.get("name", "")))
            continue
        household = stored.get(key)
        try:
            checked = _values(data, partial=household is not None)
        except DomainError as exc:
            row.refused(exc)
            result.outcomes.append((number, "error", name))
            continue
        seen[key] = number
        changes = {k: v for k, v in checked.items() if household is None or getattr(household, k) != v}
        if household is None:
            sizes[group_id] = sizes.get(group_id, 0) + 1
            if sizes[group_id] > MAX_HOUSEHOLDS:
                row.problem("group", Msg(f"A group has at most {MAX_HOUSEHOLDS:,} households.", "import_too_many"))
                continue
        count(result, number, f"{group_name}: {name}", changes, household)
        plan.append((household, {"group_id": group_id, **checked} if household is None else changes))

    def apply() -> None:
        now = utcnow()
        new = [{"network_id": actor.network_id, "registered_poor": False, "phone": None, "created_at": now, **c}
               for h, c in plan if h is None]
        if new:
            db.session.execute(insert(Household), new)
        for household, changes in plan:
            if household is not None:
                for key, value in changes.items():
                    setattr(household, key, value)

    return finish(actor, result, "import.households", apply)


def init_app() -> None:
    register_kind(ImportKind("households", COLUMNS, import_households, is_admin))
