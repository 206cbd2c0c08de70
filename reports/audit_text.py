"""The reports domain's audit events as sentences (registered with ``core.audit_text``)."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import format as fmt
from core.audit_text import Event, _, describer, subject_label
from core.db import db
from reports.models import MonthlySummary

subject_label("monthly_summary", _l("สรุปรายเดือน"))


@describer("summary.rebuild")
def _rebuild(events: list[Event]) -> dict[int, str]:
    return {e["id"]: _("สั่งสร้างสรุปเดือน%(month)s ใหม่จากข้อมูลล่าสุด", month=fmt.month(str(e["subject_id"])))
            for e in events}


@describer("summary.review")
def _review(events: list[Event]) -> dict[int, str]:
    out = {}
    for e in events:
        after = e.get("after") or {}
        month = after.get("month")
        if month is None:
            found = db.session.scalar(select(MonthlySummary.month).where(MonthlySummary.id == int(e["subject_id"])))
            month = found or ""
        try:
            meeting = fmt.day(date.fromisoformat(str(after.get("meeting_date"))))
        except ValueError:
            meeting = "–"
        out[e["id"]] = _("รับรองสรุปเดือน%(month)s ฉบับที่ %(v)s ในการประชุมวันที่ %(day)s มีผู้เข้าประชุม %(n)s คน",
                         month=fmt.month(str(month)), v=after.get("version", "–"), day=meeting,
                         n=fmt.number(after.get("attendance")))
    return out
