"""Pages of the network: log in, log out, home, language, groups, users, job progress.

Also the small helpers every domain's pages share (error display, role checks, the menu).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Regexp, InputRequired, Length, NumberRange, Optional

from core.errors import (Conflict, DeadlinePassed, DomainError, Forbidden, InvalidInput, NotAuthenticated,
                         NotFound, OutOfStock)
from core.fields import MAX_INT, MAX_QUANTITY, FieldError, parse_int
from core.web import LOCALES, limiter
from network import permissions, services
from network.models import GROUP_KINDS, ROLES

bp = Blueprint("network_views", __name__, template_folder="templates")

# --- shared helpers for every domain's pages -------------------------------------------------------

ROLE_LABELS = {"admin": _l("ผู้ดูแลระบบ"), "committee": _l("คณะกรรมการเครือข่าย"),
               "leader": _l("ผู้นำกลุ่ม"), "seller": _l("ผู้ขาย")}
KIND_LABELS = {"cooperative": _l("สหกรณ์"), "community_enterprise": _l("วิสาหกิจชุมชน"),
               "savings_group": _l("กลุ่มออมทรัพย์"), "farmers_group": _l("กลุ่มเกษตรกร"),
               "womens_group": _l("กลุ่มแม่บ้าน"), "other": _l("อื่น ๆ")}
STATE_LABELS = {"draft": _l("ร่าง"), "open": _l("เปิดรับคำสั่งซื้อ"), "closed": _l("ปิดรับแล้ว กำลังรวมยอด"),
                "combined": _l("รวมยอดแล้ว รอส่งของ"), "delivered": _l("ส่งของแล้ว"), "settled": _l("ชำระครบแล้ว"),
                "active": _l("เปิดขาย"), "paused": _l("หยุดขายชั่วคราว"), "placed": _l("รอยืนยัน"),
                "confirmed": _l("ยืนยันแล้ว"), "cancelled": _l("ยกเลิกแล้ว")}
JOB_LABELS = {"pending": _l("รอคิว"), "running": _l("กำลังทำงาน"), "succeeded": _l("เสร็จแล้ว"),
              "failed": _l("ล้มเหลว")}

# Messages of the services (English) shown in the user's language.
KNOWN_MESSAGES: dict[str, Any] = {
    "The deadline must be in the future.": _l("กำหนดปิดรับต้องเป็นเวลาในอนาคต"),
    "Add at least one offer before opening the round.": _l("เพิ่มข้อเสนออย่างน้อยหนึ่งรายการก่อนเปิดรอบ"),
    "The deadline has passed; set a new one first.": _l("เลยกำหนดปิดรับแล้ว"),
    "The deadline has passed; orders can no longer change.": _l("เลยกำหนดปิดรับแล้ว แก้ไขคำสั่งซื้อไม่ได้"),
    "Some lines name offers that are not in this round.": _l("มีรายการที่ไม่อยู่ในรอบนี้"),
    "A supplier of that name exists already.": _l("มีผู้ขายส่งชื่อนี้อยู่แล้ว"),
    "That product exists already.": _l("มีสินค้านี้อยู่แล้ว"),
    "A group of that name exists already.": _l("มีกลุ่มชื่อนี้อยู่แล้ว"),
    "That e-mail is already used.": _l("อีเมลนี้ถูกใช้แล้ว"),
    "Registered-poor members cannot outnumber the members.": _l("จำนวนสมาชิกผู้มีบัตรสวัสดิการต้องไม่มากกว่าจำนวนสมาชิก"),
    "This delivery has been recorded already.": _l("บันทึกการรับของนี้ไปแล้ว"),
    "Some receipt lines are not valid.": _l("จำนวนที่รับบางรายการไม่ถูกต้อง"),
    "A payment is more than 0 baht.": _l("ยอดชำระต้องมากกว่า 0 บาท"),
    "A delivery cannot be received in the future.": _l("วันที่รับของต้องไม่เป็นวันในอนาคต"),
    "The round has not been combined yet.": _l("รอบนี้ยังไม่ได้รวมยอด"),
}
KNOWN_FIELD_MESSAGES: dict[str, Any] = {
    "Already taken.": _l("มีชื่อนี้อยู่แล้ว"),
    "Already used.": _l("ถูกใช้แล้ว"),
    "Must be in the future.": _l("ต้องเป็นเวลาในอนาคต"),
    "Not found.": _l("ไม่พบข้อมูลนี้"),
    "No such group.": _l("ไม่พบกลุ่มนี้"),
    "Cannot be more than the members.": _l("ต้องไม่มากกว่าจำนวนสมาชิก"),
    "Must be more than 0.": _l("ต้องมากกว่า 0"),
    "In the future.": _l("ต้องไม่เป็นวันในอนาคต"),
    "Not an offer of this round.": _l("ไม่ใช่ข้อเสนอของรอบนี้"),
    "Too large for this price.": _l("มากเกินไปสำหรับราคานี้"),
    "Too large.": _l("มากเกินไป"),
    "Must not be in the future.": _l("ต้องไม่เป็นวันในอนาคต"),
    "Must be 0 or more.": _l("ต้องไม่ติดลบ"),
}
GENERIC: list[tuple[type[DomainError], Any]] = [
    (DeadlinePassed, _l("เลยกำหนดปิดรับแล้ว แก้ไขคำสั่งซื้อไม่ได้")),
    (OutOfStock, _l("สินค้าในสต็อกไม่พอ")),
    (InvalidInput, _l("ข้อมูลไม่ถูกต้อง กรุณาตรวจสอบ")),
    (Conflict, _l("ทำรายการนี้ไม่ได้ในสถานะปัจจุบัน")),
    (Forbidden, _l("คุณไม่มีสิทธิ์ทำรายการนี้")),
    (NotFound, _l("ไม่พบข้อมูล")),
    (DomainError, _l("ทำรายการไม่สำเร็จ")),
]


def _english() -> bool:
    return str(get_locale() or "th").startswith("en")


def error_text(exc: DomainError) -> str:
    """A service's message in the user's language (Thai for the known ones, English as is)."""
    known = KNOWN_MESSAGES.get(exc.message)
    if known is not None:
        return str(known)
    if _english():
        return exc.message
    for cls, text in GENERIC:
        if isinstance(exc, cls):
            return str(text)
    return str(GENERIC[-1][1])


def field_text(message: str) -> str:
    known = KNOWN_FIELD_MESSAGES.get(message)
    if known is not None:
        return str(known)
    match = re.match(r"At most ([\d.]+)\.", message)
    if match:
        return _("ไม่เกิน %(amount)s บาท", amount=match.group(1))
    match = re.match(r"Only (\d+) left\.", message)
    if match:
        return _("เหลือเพียง %(n)s", n=match.group(1))
    match = re.match(r"More than the (\d+) ordered\.", message)
    if match:
        return _("มากกว่าที่สั่ง %(n)s", n=match.group(1))
    return message if _english() else _("ค่าไม่ถูกต้อง")


def apply_domain_error(form: FlaskForm, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Show a refused service call on the form: field messages next to their fields, the rest on top.

    The form keeps what the user typed (it is re-rendered from the request)."""
    placed = False
    for name, messages in (exc.fields or {}).items():
        target = getattr(form, (field_map or {}).get(name, name), None)
        if target is not None and hasattr(target, "errors") and isinstance(messages, list):
            target.errors = list(target.errors or []) + [field_text(str(m)) for m in messages]
            placed = True
    top = error_text(exc)
    if not placed or isinstance(exc, (Conflict, DeadlinePassed)):
        form.form_errors.append(top)


def roles_required(*roles: str) -> Callable[..., Any]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return decorate


COMMITTEE = ("committee", "admin")
# A plain shape check (email_validator is not a dependency); the service is the real judge.
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class IntField(IntegerField):
    """A whole number read by the one field module (Thai digits, thousands commas), bounded to what its
    column holds, with messages in our catalogues (WTForms has no Thai)."""

    def __init__(self, *args: Any, maximum: int = MAX_QUANTITY, **kwargs: Any) -> None:
        self.maximum = maximum
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0])
        if not text.strip():
            self.data = None
            return
        try:
            self.data = parse_int(text, minimum=-MAX_INT, maximum=self.maximum, grouping=True)
        except FieldError as exc:
            self.data = None
            if exc.code == "too_large":
                raise ValueError(_l("ต้องไม่เกิน %(n)s", n=f"{self.maximum:,}")) from exc
            raise ValueError(_l("ต้องเป็นจำนวนเต็ม")) from exc


class LocalDateTimeField(DateTimeLocalField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("วันเวลาไม่ถูกต้อง")) from exc


def page_error_handlers(blueprint: Blueprint) -> None:
    """A service refusing a page request: an HTML page with the right status, not JSON."""

    def _render(exc: DomainError):  # type: ignore[no-untyped-def]
        status = exc.status if exc.status in (403, 404, 409) else 400
        return render_template("error.html", message=error_text(exc), status=status), status

    blueprint.register_error_handler(DomainError, _render)


def _nav_links() -> list[tuple[str, Any]]:
    if not current_user.is_authenticated:
        return []
    role = current_user.role
    wanted: list[tuple[str, Any]] = [("network_views.home", _l("หน้าแรก"))]
    if role == "leader":
        wanted += [("orders_views.rounds", _l("รอบสั่งซื้อ")), ("orders_views.my_invoices", _l("ใบแจ้งหนี้")),
                   ("market_views.browse", _l("ตลาด")), ("market_views.my_purchases", _l("ที่ซื้อในตลาด")),
                   ("reports_views.group_savings", _l("เงินที่ประหยัด"))]
    elif role == "seller":
        wanted += [("market_views.my_listings", _l("สินค้าของฉัน")), ("market_views.sales", _l("คำสั่งซื้อที่ได้รับ")),
                   ("market_views.browse", _l("ตลาด")), ("reports_views.group_savings", _l("รายได้เพิ่ม"))]
    else:
        wanted += [("orders_views.rounds", _l("รอบสั่งซื้อ")), ("orders_views.suppliers", _l("ผู้ขายส่งและสินค้า")),
                   ("network_views.groups", _l("กลุ่ม"))]
        if role == "admin":
            wanted.append(("network_views.users", _l("ผู้ใช้")))
        wanted += [("market_views.browse", _l("ตลาด")), ("reports_views.summaries", _l("สรุปรายเดือน")),
                   ("network_views.audit", _l("บันทึกการเปลี่ยนแปลง"))]
    views = current_app.view_functions
    return [(endpoint, label) for endpoint, label in wanted if endpoint in views]


@bp.app_context_processor
def _page_helpers() -> dict[str, Any]:
    return {
        "nav_links": _nav_links,
        "role_label": lambda role: ROLE_LABELS.get(role, role),
        "kind_label": lambda kind: KIND_LABELS.get(kind, kind),
        "state_label": lambda state: STATE_LABELS.get(state, state),
        "job_state_label": lambda state: JOB_LABELS.get(state, state),
    }


@bp.before_app_request
def _fresh_translations() -> None:
    """Load the catalogue of this request's language (a reused app context may hold another one)."""
    from flask_babel import refresh

    refresh()


@bp.app_template_filter("iso")
def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


# --- log in and out --------------------------------------------------------------------------------

class LoginForm(FlaskForm):
    email = EmailField(_l("อีเมล"), validators=[DataRequired(_l("กรุณากรอกอีเมล")), Regexp(EMAIL_RE, message=_l("อีเมลไม่ถูกต้อง"))])
    password = PasswordField(_l("รหัสผ่าน"), validators=[DataRequired(_l("กรุณากรอกรหัสผ่าน"))])


def _login_limit() -> str:
    return str(current_app.config.get("LOGIN_RATE_LIMIT", "10 per minute"))


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "-").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "")
        except NotAuthenticated:
            form.password.errors = [_("อีเมลหรือรหัสผ่านไม่ถูกต้อง")]
        else:
            login_user(user)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("network_views.home")
            return redirect(target)
    return render_template("network/login.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    services.end_sessions(current_user)
    logout_user()
    return redirect(url_for("network_views.login"))


@bp.route("/lang/<code>")
def language(code: str):  # type: ignore[no-untyped-def]
    if code in LOCALES:
        session["lang"] = code
    target = request.referrer or url_for("network_views.home")
    return redirect(target if target.startswith(request.host_url) or target.startswith("/") else "/")


# --- home: what needs attention --------------------------------------------------------------------

def _attention() -> dict[str, Any]:
    """What this user should look at now, read through the services."""
    from orders import combine
    from orders import services as orders_services

    rounds = orders_services.list_rounds(current_user)
    data: dict[str, Any] = {"rounds": rounds, "open_rounds": [r for r in rounds if r.state == "open"],
                            "unpaid": [], "to_open": [], "to_deliver": [], "combining": [], "ordered": {}}
    role = current_user.role
    if role in ("leader", "seller") or role in COMMITTEE:
        for rnd in rounds:
            if rnd.state in ("combined", "delivered"):
                try:
                    invoices = combine.list_invoices(current_user, rnd.id)
                except DomainError:
                    continue
                data["unpaid"] += [(rnd, inv) for inv in invoices if inv.paid < inv.total]
    if role == "leader" and current_user.group_id:
        for rnd in data["open_rounds"]:
            order = orders_services.get_group_order(current_user, rnd.id, current_user.group_id)
            data["ordered"][rnd.id] = bool(order["lines"])
    if role in COMMITTEE:
        data["to_open"] = [r for r in rounds if r.state == "draft"]
        data["combining"] = [r for r in rounds if r.state == "closed"]
        data["to_deliver"] = [r for r in rounds if r.state == "combined"]
    data["market"] = _market_attention()
    data["summary"] = _summary_attention() if role in COMMITTEE else None
    return data


def _summary_attention() -> dict[str, Any] | None:
    """Last month's summary, when it waits to be built or signed off by the committee."""
    from zoneinfo import ZoneInfo

    from core.clock import utcnow

    try:
        from reports import periods
        from reports import services as report_services
    except ImportError:
        return None
    local = utcnow().astimezone(ZoneInfo(current_user.network.timezone))
    month = periods.label(*periods.add_months(local.year, local.month, -1))
    try:
        summary = report_services.get_summary(current_user, month)
    except NotFound:
        return {"month": month, "built": False}
    except DomainError:
        return None
    return None if summary.get("reviewed_at") else {"month": month, "built": True}


def _market_attention() -> list[Any]:
    try:
        from market import services as market_services
    except ImportError:
        return []
    fn = getattr(market_services, "list_sales", None) or getattr(market_services, "seller_purchases", None)
    if current_user.role not in ("seller", "leader") or fn is None:
        return []
    try:
        return [p for p in fn(current_user) if getattr(p, "state", None) == "placed"]
    except (DomainError, TypeError):
        return []


@bp.route("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    return render_template("network/home.html", **_attention())


@bp.route("/jobs/<job_id>.json")
@login_required
def job_status(job_id: str):  # type: ignore[no-untyped-def]
    """Progress of a background job for the page that started it (session auth; the API is bearer-only)."""
    from core.jobs import get_job

    try:
        job = get_job(current_user, job_id)
    except NotFound:
        return jsonify({"error": {"code": "not_found"}}), 404
    response = jsonify({"id": job.id, "state": job.state, "result": job.result if job.state == "succeeded" else None})
    response.headers["Cache-Control"] = "no-store"
    return response


# --- groups ----------------------------------------------------------------------------------------

class GroupForm(FlaskForm):
    name = StringField(_l("ชื่อกลุ่ม"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    kind = SelectField(_l("ประเภทกลุ่ม"), choices=[(k, KIND_LABELS[k]) for k in GROUP_KINDS])
    district = StringField(_l("อำเภอ"), validators=[Optional(), Length(max=100)])
    subdistrict = StringField(_l("ตำบล"), validators=[Optional(), Length(max=100)])
    members = IntField(_l("จำนวนสมาชิก"), default=0,
                           validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                       NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
    registered_poor_members = IntField(_l("สมาชิกผู้มีบัตรสวัสดิการแห่งรัฐ"), default=0,
                                           validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                                       NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])

    def values(self) -> dict[str, Any]:
        return {"name": self.name.data.strip(), "kind": self.kind.data, "district": self.district.data or "",
                "subdistrict": self.subdistrict.data or "", "members": self.members.data,
                "registered_poor_members": self.registered_poor_members.data}


@bp.route("/groups", methods=["GET", "POST"])
@roles_required(*COMMITTEE)
def groups():  # type: ignore[no-untyped-def]
    form = GroupForm()
    status = 200
    if request.method == "POST":
        if current_user.role != "admin":
            abort(403)
        if form.validate_on_submit():
            try:
                group = services.create_group(current_user, form.values())
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                flash(_("เพิ่มกลุ่ม %(name)s แล้ว", name=group.name), "ok")
                return redirect(url_for("network_views.groups"))
        status = 422
    return render_template("network/groups.html", groups=services.list_groups(current_user), form=form), status


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@login_required
def edit_group(group_id: int):  # type: ignore[no-untyped-def]
    group = services.get_group(current_user, group_id)
    if not permissions.can_edit_group(current_user, group):
        abort(403)
    form = GroupForm(obj=group)
    status = 200
    if current_user.role != "admin":
        del form.name, form.kind  # a leader keeps the counts and place of the group up to date
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in ("district", "subdistrict", "members",
                                                     "registered_poor_members")}
        values["district"] = values["district"] or ""
        values["subdistrict"] = values["subdistrict"] or ""
        if current_user.role == "admin":
            values.update(name=form.name.data.strip(), kind=form.kind.data)
        try:
            services.update_group(current_user, group_id, values)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            flash(_("บันทึกแล้ว"), "ok")
            return redirect(url_for("network_views.groups") if current_user.role in COMMITTEE
                            else url_for("network_views.home"))
    if request.method == "POST":
        status = 422
    return render_template("network/group_edit.html", group=group, form=form), status


# --- users -----------------------------------------------------------------------------------------

class UserForm(FlaskForm):
    name = StringField(_l("ชื่อ"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    email = EmailField(_l("อีเมล"), validators=[DataRequired(_l("กรุณากรอกอีเมล")), Regexp(EMAIL_RE, message=_l("อีเมลไม่ถูกต้อง"))])
    password = PasswordField(_l("รหัสผ่าน"), validators=[DataRequired(_l("กรุณากรอกรหัสผ่าน")),
                                                         Length(min=8, message=_l("อย่างน้อย 8 ตัวอักษร"))])
    role = SelectField(_l("บทบาท"), choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    group_id = SelectField(_l("กลุ่ม"), coerce=int, choices=[])

    def validate_group_id(self, field: Any) -> None:
        from wtforms.validators import ValidationError

        if self.role.data in ("leader", "seller") and not field.data:
            raise ValidationError(_l("ผู้นำกลุ่มและผู้ขายต้องมีกลุ่ม"))


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():  # type: ignore[no-untyped-def]
    form = UserForm()
    groups_list = services.list_groups(current_user)
    form.group_id.choices = [(0, _("— ไม่มี —"))] + [(g.id, g.name) for g in groups_list]
    status = 200
    if form.validate_on_submit():
        data = {"name": form.name.data.strip(), "email": form.email.data, "password": form.password.data,
                "role": form.role.data, "group_id": form.group_id.data or None}
        try:
            user = services.create_user(current_user, data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            flash(_("เพิ่มผู้ใช้ %(name)s แล้ว", name=user.name), "ok")
            return redirect(url_for("network_views.users"))
    if request.method == "POST":
        status = 422
    names = {g.id: g.name for g in groups_list}
    return render_template("network/users.html", users=services.list_users(current_user), form=form,
                           group_names=names), status


# --- the audit trail (read-only) -------------------------------------------------------------------

AUDIT_PER_PAGE = 50


@bp.route("/audit")
@roles_required(*COMMITTEE)
def audit():  # type: ignore[no-untyped-def]
    """Who changed prices, orders, receipts, payments and reviews: for the committee's meeting."""
    from core.audit_api import list_events

    try:
        page_no = max(1, min(100_000, int(request.args.get("page", "1"))))
    except ValueError:
        page_no = 1
    filters = {k: (request.args.get(k) or "").strip()[:64] or None for k in ("subject", "action")}
    items, total = list_events(current_user, {**filters, "page": page_no, "per_page": AUDIT_PER_PAGE})
    pages = max(1, -(-total // AUDIT_PER_PAGE))
    return render_template("network/audit.html", events=items, page=page_no, pages=pages, total=total,
                           filters=filters)


page_error_handlers(bp)
