"""Report pages: the committee's monthly summary (figures, charts, CSV, rebuild with progress, review
form) and a group's savings and income gain month by month."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core import format as fmt
from core import svgchart
from core.clock import utcnow
from core.csv_export import CONTENT_TYPE as CSV_TYPE
from core.datefields import ThaiDateField
from core.errors import DomainError, NotFound
from core.jobs import job_of_page
from core.pages import (
    COMMITTEE,
    IntField,
    confirmation,
    filled,
    flash_refusal,
    page_error_handlers,
    roles_required,
    show_refusal,
)
from reports import charts, export, periods, services

bp = Blueprint("reports_views", __name__, template_folder="templates")
HISTORY = 12


def _months(count: int = HISTORY) -> list[str]:
    tz = ZoneInfo(current_user.network.timezone)
    local = utcnow().astimezone(tz)
    return [periods.label(*periods.add_months(local.year, local.month, -k)) for k in range(count)]


def _month_or_404(month: str) -> str:
    try:
        return periods.label(*periods.parse_month(month))
    except DomainError:
        abort(404)


def _summary(month: str) -> services.SummaryView | None:
    try:
        return services.get_summary(current_user, month)
    except NotFound:
        return None


FIGURE_LABELS = {"spend": _l("ยอดซื้อ"), "baseline": _l("ถ้าซื้อเองที่ร้าน"), "savings": _l("ประหยัดได้"),
                 "fees": _l("ค่าธรรมเนียม"), "income_gain": _l("รายได้เพิ่มของผู้ขาย"),
                 "registered_poor_savings": _l("ถึงครัวเรือนผู้มีบัตรสวัสดิการ"), "price_reduction": _l("ราคาที่ลดลง"),
                 "tier_attainment": _l("ขั้นราคาที่ได้"), "pooling_gain": _l("ประโยชน์จากการรวมซื้อ")}


# How the registered-poor reach of a group (or the network) was found (reports/group_lines.py, poor_reach).
POOR_BASIS_LABELS = {"households": _l("วัดจากบิลครัวเรือน"), "proportion": _l("ประมาณตามสัดส่วน"),
                     "mixed": _l("บางส่วนวัด บางส่วนประมาณ")}


@bp.app_context_processor
def _report_helpers() -> dict[str, Any]:
    return {"figure_label": lambda key: str(FIGURE_LABELS.get(key, key)),
            "poor_basis_label": lambda key: str(POOR_BASIS_LABELS.get(key, key))}


class ReviewForm(FlaskForm):
    meeting_date = ThaiDateField(_l("วันที่ประชุม"), validators=[DataRequired(_l("กรุณากรอกวันที่"))])
    attendance = IntField(_l("จำนวนผู้เข้าประชุม"), validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                                                NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
    notes = TextAreaField(_l("บันทึกการประชุม"), validators=[Optional(), Length(max=5000)])


class ActionForm(FlaskForm):
    pass


# --- committee -------------------------------------------------------------------------------------

@bp.route("/summaries")
@roles_required(*COMMITTEE)
def summaries() -> ResponseReturnValue:
    # Stored versions only: a list of twelve months never computes (the month in progress opens live).
    months = _months()
    rows = [(month, services.stored_summary(current_user, month)) for month in months]
    return render_template("reports/summaries.html", rows=rows, current=months[0])


@bp.route("/summaries/<month>", methods=["GET", "POST"])
@login_required
def summary(month: str) -> ResponseReturnValue:
    buddhist = re.fullmatch(r"(2[5-9][0-9]{2})-([0-9]{2})", month)
    if buddhist:  # "2569-11" in the address, as a Thai reader writes it: November 2026
        query: dict[str, Any] = dict(request.args.items())
        return redirect(url_for("reports_views.summary", month=f"{int(buddhist[1]) - 543}-{buddhist[2]}", **query))
    month = _month_or_404(month)
    if current_user.role not in COMMITTEE:
        return redirect(url_for("reports_views.group_savings"))
    job = job_of_page(current_user, request.args.get("job"))  # before the month: see job_of_page
    data = _summary(month)
    shown = data
    version = request.args.get("version", "")
    if data is not None and version.isdigit() and int(version) != data.get("version"):
        try:  # an earlier version, e.g. the one the committee signed
            shown = services.get_summary(current_user, month, int(version))
        except NotFound:
            abort(404)
    form = ReviewForm()
    status = 200
    if request.method == "POST":
        status = 422
        if data is None:
            abort(404)
        if form.validate_on_submit():
            try:
                services.review(current_user, month, filled(form.meeting_date.data), filled(form.attendance.data),
                                form.notes.data or "")
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                flash(_("ลงนามรับรองสรุปเดือนนี้แล้ว"), "ok")
                return redirect(url_for("reports_views.summary", month=month))
    elif not form.meeting_date.data:
        form.meeting_date.data = services.network_today(current_user)
    svgs = charts.all_charts(current_user, shown) if shown else {}
    # The version the committee signed stays the official one; a newer one is shown as changed since.
    signed = [v for v in (data["versions"] if data else []) if v.get("reviewed_at")]
    official = signed[-1] if signed else None
    return render_template("reports/summary.html", month=month, data=shown, latest=data, form=form, job=job,
                           official=official, charts={k: Markup(svgchart.inline(v)) for k, v in svgs.items()},
                           in_progress=services.month_in_progress(current_user, month)), status


@bp.route("/summaries/<month>/rebuild", methods=["POST"])
@roles_required(*COMMITTEE)
def rebuild(month: str) -> ResponseReturnValue:
    month = _month_or_404(month)
    data = _summary(month)
    signed = [v for v in (data["versions"] if data else []) if v.get("reviewed_at")]
    if signed:
        asked = confirmation(
            _("สร้างสรุปเดือน%(month)s ใหม่ หลังคณะกรรมการรับรองแล้ว?", month=fmt.month(month)),
            _("ฉบับที่ %(v)s ที่รับรองแล้วจะยังเป็นฉบับทางการ และไม่เปลี่ยนแปลง ระบบจะสร้างฉบับใหม่จากข้อมูลล่าสุด "
              "และแสดงว่า \"เปลี่ยนหลังรับรอง\" ให้คณะกรรมการตรวจในการประชุมครั้งต่อไป", v=signed[-1]["version"]),
            url_for("reports_views.summary", month=month), _("สร้างฉบับใหม่"))
        if asked is not None:
            return asked
    try:
        job = services.rebuild(current_user, month)
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("reports_views.summary", month=month))
    flash(_("กำลังสร้างสรุปรายเดือน"), "ok")
    return redirect(url_for("reports_views.summary", month=month, job=job.id))


@bp.route("/summaries/<month>.csv")
@roles_required(*COMMITTEE)
def summary_csv(month: str) -> ResponseReturnValue:
    month = _month_or_404(month)
    data = services.get_summary(current_user, month)
    return Response(export.summary_csv(data), content_type=CSV_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="summary-{month}.csv"'})


@bp.route("/summaries/<month>/charts/<kind>.svg")
@login_required
def chart(month: str, kind: str) -> ResponseReturnValue:
    """The same SVG as the API's, for the pages' session (committee: the network's; a group: its own)."""
    month = _month_or_404(month)
    if kind not in charts.KINDS:
        abort(404)
    response = Response(charts.chart_for(current_user, month, kind), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Security-Policy"] = svgchart.CSP
    return response


# --- a group's savings -----------------------------------------------------------------------------

@bp.route("/savings")
@roles_required("leader", "seller")
def group_savings() -> ResponseReturnValue:
    """The group's savings (and income gain) month by month, from the monthly summaries, and the
    savings of each buying round from its invoices (known as soon as a round is combined)."""
    from orders import services as orders_services
    from orders.invoices import list_invoices

    months: list[dict[str, Any]] = []
    running = Decimal(0)
    newest = _months()
    for month in reversed(newest):  # oldest first, for the running total
        # The month in progress live (provisional), the others as stored: never twelve computations.
        data = _summary(month) if month == newest[0] else services.stored_summary(current_user, month)
        mine = None if data is None else next(
            (g for g in data.get("groups", []) if g["group_id"] == current_user.group_id), None)
        if mine is None or not charts.has_activity(mine.get("spend"), mine.get("savings"), mine.get("income_gain")):
            continue  # only the months in which the group bought or sold something
        running += Decimal(mine["savings"])
        months.append({"month": month, "group": mine, "running": running,
                       "reviewed_at": data.get("reviewed_at") if data else None})
    chart_svg = charts.group_savings([(m["month"], m["group"]) for m in months], months[-1]["month"] if months else "")
    rounds = []
    for rnd in orders_services.list_rounds(current_user):
        if rnd.state in ("combined", "delivered", "settled"):
            for inv in list_invoices(current_user, rnd.id):
                rounds.append((rnd, inv))
    income = sum((Decimal(m["group"].get("income_gain") or 0) for m in months), Decimal(0))
    return render_template("reports/savings.html", months=months, rounds=rounds, total=running, income=income,
                           chart=Markup(chart_svg) if months else None)


page_error_handlers(bp)


def _home_attention() -> str:
    """Last month's summary, when it waits to be built or signed off by the committee."""
    if current_user.role not in COMMITTEE:
        return ""
    local = utcnow().astimezone(ZoneInfo(current_user.network.timezone))
    month = periods.label(*periods.add_months(local.year, local.month, -1))
    try:
        found = services.stored_summary(current_user, month)
    except DomainError:
        return ""
    if found is None:
        return render_template("reports/_home_attention.html", summary={"month": month, "built": False})
    if found.get("reviewed_at"):
        return ""
    return render_template("reports/_home_attention.html", summary={"month": month, "built": True})


def register_pages() -> None:
    """What the reports domain adds to the shared page registries (core.pages)."""
    from core.pages import home_item, messages, nav_link

    messages({"meeting_in_future": _l("วันที่ประชุมต้องไม่เป็นวันในอนาคต")})
    nav_link("reports_views.group_savings", _l("เงินที่ประหยัด"), ("leader",), 60)
    nav_link("reports_views.group_savings", _l("รายได้เพิ่ม"), ("seller",), 60)
    nav_link("reports_views.summaries", _l("สรุปรายเดือน"), COMMITTEE, 70)
    home_item("reports", _home_attention, order=30)
