"""Report pages: the committee's monthly summary (figures, charts, CSV, rebuild with progress, review
form) and a group's savings and income gain month by month."""
from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.clock import utcnow
from core.errors import DomainError, NotFound
from core.web import THAI_MONTHS
from core.pages import COMMITTEE, IntField, apply_domain_error, error_text, page_error_handlers, roles_required
from reports import charts, export, periods, services

bp = Blueprint("reports_views", __name__, template_folder="templates")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HISTORY = 12


@bp.app_template_filter("month_label")
def month_label(month: str) -> str:
    """'2026-06' -> 'มิ.ย. 2569' (Thai) or 'Jun 2026'."""
    try:
        year, mon = periods.parse_month(month)
    except DomainError:
        return month
    if str(get_locale() or "th").startswith("th"):
        return f"{THAI_MONTHS[mon - 1]} {year + 543}"
    return f"{EN_MONTHS[mon - 1]} {year}"


@bp.app_template_filter("percent")
def percent(value: Any) -> str:
    if value in (None, ""):
        return "–"
    from decimal import Decimal

    return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.1'))}%"


def _months(count: int = HISTORY) -> list[str]:
    tz = ZoneInfo(current_user.network.timezone)
    local = utcnow().astimezone(tz)
    return [periods.label(*periods.add_months(local.year, local.month, -k)) for k in range(count)]


def _month_or_404(month: str) -> str:
    try:
        return periods.label(*periods.parse_month(month))
    except DomainError:
        abort(404)


def _summary(month: str) -> dict[str, Any] | None:
    try:
        return services.get_summary(current_user, month)
    except NotFound:
        return None


class ReviewForm(FlaskForm):
    meeting_date = DateField(_l("วันที่ประชุม"), validators=[DataRequired(_l("กรุณาเลือกวันที่"))])
    attendance = IntField(_l("จำนวนผู้เข้าประชุม"), validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                                                NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
    notes = TextAreaField(_l("บันทึกการประชุม"), validators=[Optional(), Length(max=5000)])

    def validate_meeting_date(self, field: Any) -> None:
        if field.data and field.data > date.today():
            raise ValidationError(_l("ต้องไม่เป็นวันในอนาคต"))


class ActionForm(FlaskForm):
    pass


# --- committee -------------------------------------------------------------------------------------

@bp.route("/summaries")
@roles_required(*COMMITTEE)
def summaries():  # type: ignore[no-untyped-def]
    rows = [(month, _summary(month)) for month in _months()]
    return render_template("reports/summaries.html", rows=rows)


@bp.route("/summaries/<month>", methods=["GET", "POST"])
@login_required
def summary(month: str):  # type: ignore[no-untyped-def]
    month = _month_or_404(month)
    if current_user.role not in COMMITTEE:
        return redirect(url_for("reports_views.group_savings"))
    data = _summary(month)
    form = ReviewForm()
    status = 200
    if request.method == "POST":
        status = 422
        if data is None:
            abort(404)
        if form.validate_on_submit():
            try:
                services.review(current_user, month, form.meeting_date.data, form.attendance.data,
                                form.notes.data or "")
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                apply_domain_error(form, exc)
            else:
                flash(_("ลงนามรับรองสรุปเดือนนี้แล้ว"), "ok")
                return redirect(url_for("reports_views.summary", month=month))
    elif not form.meeting_date.data:
        form.meeting_date.data = date.today()
    job = None
    if request.args.get("job"):
        from core.jobs import get_job

        try:
            job = get_job(current_user, request.args["job"])
        except DomainError:
            job = None
    return render_template("reports/summary.html", month=month, data=data, form=form, job=job), status


@bp.route("/summaries/<month>/rebuild", methods=["POST"])
@roles_required(*COMMITTEE)
def rebuild(month: str):  # type: ignore[no-untyped-def]
    month = _month_or_404(month)
    try:
        job = services.rebuild(current_user, month)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash(error_text(exc), "error")
        return redirect(url_for("reports_views.summary", month=month))
    flash(_("กำลังสร้างสรุปรายเดือน"), "ok")
    return redirect(url_for("reports_views.summary", month=month, job=job.id))


@bp.route("/summaries/<month>.csv")
@roles_required(*COMMITTEE)
def summary_csv(month: str):  # type: ignore[no-untyped-def]
    month = _month_or_404(month)
    data = services.get_summary(current_user, month)
    return Response(export.summary_csv(data), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="summary-{month}.csv"'})


CHART_TITLES = {"savings": _l("เงินที่ประหยัดได้ต่อเดือน (บาท)"),
                "bargaining": _l("ราคาที่ลดลงและขั้นราคาที่ได้ต่อเดือน"),
                "groups": _l("เงินที่ประหยัดได้แยกตามกลุ่ม (บาท)")}


@bp.route("/summaries/<month>/charts/<kind>.png")
@login_required
def chart(month: str, kind: str):  # type: ignore[no-untyped-def]
    month = _month_or_404(month)
    draw = charts.CHARTS.get(kind)
    if draw is None:
        abort(404)
    if kind == "groups" and current_user.role not in COMMITTEE:
        abort(403)
    data = services.get_summary(current_user, month)
    png = draw(data, fmt="png", title=str(CHART_TITLES[kind]))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# --- a group's savings -----------------------------------------------------------------------------

@bp.route("/savings")
@roles_required("leader", "seller")
def group_savings():  # type: ignore[no-untyped-def]
    """The group's savings (and income gain) month by month, from the monthly summaries, and the
    savings of each buying round from its invoices (known as soon as a round is combined)."""
    from orders.invoices import list_invoices
    from orders import services as orders_services

    months = []
    for month in _months():
        data = _summary(month)
        if data is None:
            continue
        mine = next((g for g in data.get("groups", []) if g["group_id"] == current_user.group_id), None)
        months.append({"month": month, "group": mine, "reviewed_at": data.get("reviewed_at")})
    rounds = []
    for rnd in orders_services.list_rounds(current_user):
        if rnd.state in ("combined", "delivered", "settled"):
            for inv in list_invoices(current_user, rnd.id):
                rounds.append((rnd, inv))
    return render_template("reports/savings.html", months=months, rounds=rounds)


page_error_handlers(bp)


def _home_attention() -> str:
    """Last month's summary, when it waits to be built or signed off by the committee."""
    if current_user.role not in COMMITTEE:
        return ""
    local = utcnow().astimezone(ZoneInfo(current_user.network.timezone))
    month = periods.label(*periods.add_months(local.year, local.month, -1))
    try:
        found = services.get_summary(current_user, month)
    except NotFound:
        return render_template("reports/_home_attention.html", summary={"month": month, "built": False})
    except DomainError:
        return ""
    if found.get("reviewed_at"):
        return ""
    return render_template("reports/_home_attention.html", summary={"month": month, "built": True})


def register_pages() -> None:
    """What the reports domain adds to the shared page registries (core.pages)."""
    from core.pages import home_item, nav_link

    nav_link("reports_views.group_savings", _l("เงินที่ประหยัด"), ("leader",), 60)
    nav_link("reports_views.group_savings", _l("รายได้เพิ่ม"), ("seller",), 60)
    nav_link("reports_views.summaries", _l("สรุปรายเดือน"), COMMITTEE, 70)
    home_item("reports", _home_attention, order=30)
