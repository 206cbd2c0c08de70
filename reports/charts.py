"""Charts of the monthly summaries as SVG text (core.svgchart): Thai titles, legends and month names
(Buddhist era), every value written out as text with thousands separators.

The committee sees the network's charts; a leader or a seller sees their own group's: its savings per
month, the network's bargaining power (a group's price is the network's), and its own spend against
what it would have paid alone. Permissions are those of ``services.get_summary``.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext

from core import format as fmt
from core.errors import DomainError, NotFound
from core.glossary import known
from core.svgchart import BLUE, GREEN, LIGHT_GREEN, ORANGE, Chart, Row, Series, render, with_note
from network.models import User
from network.permissions import is_committee
from reports import services

KINDS = ("savings", "bargaining", "groups")


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))

GROUP_LIMIT = 25


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _ratio(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def has_activity(spend: Any, savings: Any, income: Any = 0) -> bool:
    return _d(spend) != 0 or _d(savings) != 0 or _d(income) != 0


def _negative_note(values: list[Decimal]) -> str:
    if any(v < 0 for v in values):
        return _("ตัวเลขติดลบ (สีแดง) คือเดือนที่ค่าธรรมเนียมและค่าขนส่งมากกว่าส่วนลดที่ได้")
    return ""


def savings_chart(points: list[tuple[str, Any]], current: str, title: str, uid: str = "savings") -> str:
    """Bars of savings per month, the month shown highlighted; months before any activity left out."""
    rows = [Row(label=fmt.month_short(month), values=[_d(value)], texts=[fmt.baht(value)], highlight=month == current)
            for month, value in points]
    return render(Chart(title=title, series=[Series(_("ประหยัดได้"), GREEN, LIGHT_GREEN)], rows=rows, uid=uid,
                        empty=_("ยังไม่มีการซื้อขายในช่วงนี้"), note=_negative_note([_d(v) for _, v in points])))


def network_savings(summary: Mapping[str, Any], uid: str = "savings") -> str:
    trend = summary.get("trend") or []
    while trend and not has_activity(trend[0].get("spend"), trend[0].get("savings"), trend[0].get("income_gain")):
        trend = trend[1:]
    return savings_chart([(p["month"], p["savings"]) for p in trend], summary.get("month", ""),
                         _("เงินที่ประหยัดได้ต่อเดือน (บาท)"), uid)


def group_savings(months: list[tuple[str, Mapping[str, Any] | None]], current: str, uid: str = "savings") -> str:
    """A group's savings per month: ``months`` is (month, the group's line of that month or None),
    oldest first; only months with activity are drawn."""
    points = [(month, line["savings"]) for month, line in months
              if line is not None and has_activity(line.get("spend"), line.get("savings"), line.get("income_gain"))]
    return savings_chart(points, current, _("เงินที่กลุ่มประหยัดได้ต่อเดือน (บาท)"), uid)


def bargaining_chart(summary: Mapping[str, Any], uid: str = "bargaining") -> str:
    """Price reduction and tier attainment per month, as percentages with one decimal."""
    trend = [p for p in summary.get("trend") or []]
    while trend and trend[0].get("price_reduction") is None and trend[0].get("tier_attainment") is None:
        trend = trend[1:]
    rows = []
    for p in trend:
        reduction, attained = _ratio(p.get("price_reduction")), _ratio(p.get("tier_attainment"))
        rows.append(Row(label=fmt.month_short(p["month"]), values=[reduction, attained],
                        texts=[fmt.percent(reduction), fmt.percent(attained)], highlight=p["month"] == summary.get("month")))
    note = _("ราคาที่ลดลง: ถูกกว่าซื้อเองที่ร้านกี่เปอร์เซ็นต์ · ขั้นราคาที่ได้: ได้ส่วนลดขั้นสูงสุดที่ผู้ขายส่งเสนอไปกี่เปอร์เซ็นต์")
    return render(Chart(title=_("ราคาที่ลดลงและขั้นราคาที่ได้ต่อเดือน"), uid=uid, rows=rows, note=note,
                        series=[Series(_("ราคาที่ลดลง"), BLUE), Series(_("ขั้นราคาที่ได้"), ORANGE)],
                        empty=_("ยังไม่มีการรวมซื้อในช่วงนี้")))


def groups_chart(summary: Mapping[str, Any], uid: str = "groups", limit: int = GROUP_LIMIT) -> str:
    """Each group's savings this month, largest first, the name (and district) above its bar."""
    lines = [g for g in summary.get("groups") or [] if has_activity(g.get("spend"), g.get("savings"), g.get("income_gain"))]
    lines.sort(key=lambda g: _d(g["savings"]), reverse=True)
    rows = [Row(label=" · ".join(part for part in (g["name"], known(g.get("district"))) if part),
                values=[_d(g["savings"])], texts=[fmt.baht(g["savings"])]) for g in lines[:limit]]
    notes = []
    if len(lines) > limit:
        notes.append(_("และอีก %(n)s กลุ่ม (ดูตารางด้านล่าง)", n=fmt.number(len(lines) - limit)))
    negative = _negative_note([_d(g["savings"]) for g in lines])
    if negative:
        notes.append(negative)
    return render(Chart(title=_("เงินที่ประหยัดได้แยกตามกลุ่ม %(month)s (บาท)", month=fmt.month(summary.get("month", ""))),
                        series=[Series(_("ประหยัดได้"), GREEN)], rows=rows, labels_above=True, uid=uid,
                        empty=_("เดือนนี้ยังไม่มีกลุ่มที่ซื้อขาย"), note=" ".join(notes)))


def own_group_chart(line: Mapping[str, Any] | None, month: str, uid: str = "groups") -> str:
    """A group's month: what it paid, what it would have paid alone at the shop, what it saved."""
    rows = []
    if line is not None and has_activity(line.get("spend"), line.get("savings"), line.get("income_gain")):
        for label, key in ((_("ยอดซื้อ"), "spend"), (_("ถ้าซื้อเองที่ร้าน"), "baseline"), (_("ประหยัดได้"), "savings"),
                           (_("รายได้เพิ่ม"), "income_gain")):
            if key in line:
                rows.append(Row(label=label, values=[_d(line[key])], texts=[fmt.baht(line[key])], highlight=key == "savings"))
    name = line["name"] if line else ""
    return render(Chart(title=_("%(name)s เดือน%(month)s (บาท)", name=name, month=fmt.month(month)),
                        series=[Series(_("บาท"), GREEN, LIGHT_GREEN)], rows=rows, uid=uid,
                        empty=_("เดือนนี้กลุ่มยังไม่มีการซื้อขาย"), note=_negative_note([r.values[0] or Decimal(0) for r in rows])))


def _own_line(actor: User, summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((g for g in summary.get("groups") or [] if g["group_id"] == actor.group_id), None)


def group_months(actor: User, summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any] | None]]:
    """The actor's group line in each month of the summary's trend (oldest first)."""
    out: list[tuple[str, Mapping[str, Any] | None]] = []
    for point in summary.get("trend") or []:
        month = point["month"]
        if month == summary.get("month"):
            out.append((month, _own_line(actor, summary)))
            continue
        if not has_activity(point.get("spend"), point.get("savings"), point.get("income_gain")):
            out.append((month, None))  # nothing at all happened in the network that month
            continue
        try:
            out.append((month, _own_line(actor, services.get_summary(actor, month))))
        except NotFound:
            out.append((month, None))
    return out


def chart_for(actor: User, month: str, kind: str) -> str:
    """The chart ``kind`` of ``month`` as the actor may see it (committee: the network's; a group: its own)."""
    if kind not in KINDS:
        raise NotFound(f"No chart called {kind!r}; one of {', '.join(KINDS)}.")
    summary = services.get_summary(actor, month)
    svg = _chart_of(actor, summary, kind)
    if summary.get("changed_since_sign_off"):
        # Opened alone, the chart says what the page says: these figures are not the signed ones.
        svg = with_note(svg, _("เปลี่ยนหลังรับรอง: ฉบับที่ %(v)s นี้ต่างจากฉบับที่ %(o)s ที่คณะกรรมการรับรองแล้ว",
                                        v=summary.get("version"), o=summary.get("signed_version")))
    return svg


def _chart_of(actor: User, summary: Mapping[str, Any], kind: str) -> str:
    committee = is_committee(actor)
    if kind == "bargaining":
        return bargaining_chart(summary)
    if kind == "groups":
        return groups_chart(summary) if committee else own_group_chart(_own_line(actor, summary), summary["month"])
    if committee:
        return network_savings(summary)
    return group_savings(group_months(actor, summary), summary["month"])


def all_charts(actor: User, summary: Mapping[str, Any]) -> dict[str, str]:
    """The three charts of a summary already read (for the summary page), or none when reading fails."""
    try:
        if is_committee(actor):
            return {"savings": network_savings(summary), "bargaining": bargaining_chart(summary),
                    "groups": groups_chart(summary)}
        return {"savings": group_savings(group_months(actor, summary), summary["month"]),
                "bargaining": bargaining_chart(summary),
                "groups": own_group_chart(_own_line(actor, summary), summary["month"])}
    except DomainError:
        return {}
