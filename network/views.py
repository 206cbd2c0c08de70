"""Pages of the network: log in, log out, home, language, groups, users, job progress, the audit trail.

The helpers every domain's pages share (error display, role checks, the menu) are in ``core.pages``.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from core.errors import DomainError, Msg, NotAuthenticated, NotFound
from core.fields import promptpay_problem
from core.pages import (
    COMMITTEE,
    EMAIL_RE,
    KIND_LABELS,
    ROLE_LABELS,
    IntField,
    apply_domain_error,
    field_check,
    filled,
    home_html,
    messages,
    nav_link,
    page_error_handlers,
    roles_required,
)
from core.web import LOCALES, limiter, same_site_path
from network import permissions, services
from network.models import GROUP_KINDS, ROLES
from network.passwords import password_problem

bp = Blueprint("network_views", __name__, template_folder="templates")

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
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "")
        except NotAuthenticated:
            form.password.errors = [_("อีเมลหรือรหัสผ่านไม่ถูกต้อง")]
        else:
            login_user(user)
            return redirect(same_site_path(request.args.get("next")) or url_for("network_views.home"))
    return render_template("network/login.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    services.end_sessions(current_user)
    logout_user()
    return redirect(url_for("network_views.login"))


@bp.route("/lang/<code>")
def language(code: str) -> ResponseReturnValue:
    if code in LOCALES:
        session["lang"] = code
    target = request.referrer or ""
    if target.startswith(request.host_url):
        target = "/" + target[len(request.host_url):]
    return redirect(same_site_path(target) or url_for("network_views.home"))


# --- home: what needs attention (each domain registers its items: core.pages.home_item) ------------

@bp.route("/")
@login_required
def home() -> ResponseReturnValue:
    return render_template("network/home.html", attention=home_html("attention"), sections=home_html("section"))


@bp.route("/jobs/<job_id>.json")
@login_required
def job_status(job_id: str) -> ResponseReturnValue:
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
    promptpay_id = StringField(_l("พร้อมเพย์ของกลุ่ม (ให้สมาชิกโอนค่าสินค้า)"), validators=[Optional(), Length(max=40)])

    # The service's checks of these boxes, run with the form's: every wrong box is listed at once.
    def validate_registered_poor_members(self, field: Any) -> None:
        members = self.members.data
        if field.data is not None and members is not None and field.data > members:
            field_check(Msg("Cannot be more than the members.", "more_than_members"))

    def validate_promptpay_id(self, field: Any) -> None:
        field_check(promptpay_problem(field.data))

    def values(self) -> dict[str, Any]:
        return {"name": filled(self.name.data).strip(), "kind": self.kind.data, "district": self.district.data or "",
                "subdistrict": self.subdistrict.data or "", "members": self.members.data,
                "registered_poor_members": self.registered_poor_members.data,
                "promptpay_id": self.promptpay_id.data or ""}


@bp.route("/groups", methods=["GET", "POST"])
@roles_required(*COMMITTEE)
def groups() -> ResponseReturnValue:
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
def edit_group(group_id: int) -> ResponseReturnValue:
    group = services.get_group(current_user, group_id)
    if not permissions.can_edit_group(current_user, group):
        abort(403)
    form = GroupForm(obj=group)
    status = 200
    if current_user.role != "admin":
        del form.name, form.kind  # a leader keeps the counts and place of the group up to date
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in ("district", "subdistrict", "members",
                                                     "registered_poor_members", "promptpay_id")}
        values["promptpay_id"] = values["promptpay_id"] or ""
        values["district"] = values["district"] or ""
        values["subdistrict"] = values["subdistrict"] or ""
        if current_user.role == "admin":
            values.update(name=filled(form.name.data).strip(), kind=form.kind.data)
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
    phone = StringField(_l("เบอร์โทรศัพท์"), validators=[Optional(), Length(max=32)])
    # The least powerful role first and chosen: an admin is made on purpose, never by a missed select.
    role = SelectField(_l("บทบาท"), choices=[(r, ROLE_LABELS[r]) for r in reversed(ROLES)], default="seller")
    group_id = SelectField(_l("กลุ่ม"), coerce=int, choices=[])

    def validate_password(self, field: Any) -> None:
        field_check(password_problem(field.data, email=self.email.data or ""))

    def validate_email(self, field: Any) -> None:
        if field.data and services.email_in_use(field.data):
            field_check(Msg("That e-mail is already used.", "email_used"))

    def validate_group_id(self, field: Any) -> None:
        from wtforms.validators import ValidationError

        if self.role.data in ("leader", "seller") and not field.data:
            raise ValidationError(_l("ผู้นำกลุ่มและผู้ขายต้องมีกลุ่ม"))


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users() -> ResponseReturnValue:
    form = UserForm()
    groups_list = services.list_groups(current_user)
    form.group_id.choices = [(0, _("— ไม่มี —"))] + [(g.id, g.name) for g in groups_list]
    status = 200
    if form.validate_on_submit():
        data = {"name": filled(form.name.data).strip(), "email": form.email.data, "password": form.password.data,
                "role": form.role.data, "group_id": form.group_id.data or None, "phone": form.phone.data or ""}
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
def audit() -> ResponseReturnValue:
    """Who changed prices, orders, receipts, payments and reviews: for the committee's meeting."""
    from network.audit_api import list_events

    try:
        page_no = max(1, min(100_000, int(request.args.get("page", "1"))))
    except ValueError:
        page_no = 1
    from core.audit_text import SUBJECTS, describe

    filters = {k: (request.args.get(k) or "").strip()[:64] or None for k in ("subject", "action")}
    items, total = list_events(current_user, {**filters, "page": page_no, "per_page": AUDIT_PER_PAGE})
    pages = max(1, -(-total // AUDIT_PER_PAGE))
    sentences = describe(items)
    subjects = sorted(((key, str(label)) for key, label in SUBJECTS.items()), key=lambda pair: pair[1])
    return render_template("network/audit.html", events=items, page=page_no, pages=pages, total=total,
                           filters=filters, sentences=sentences, subjects=subjects)


page_error_handlers(bp)


def register_pages() -> None:
    """What the network adds to the shared page registries (core.pages): its menu entries and messages."""
    nav_link("network_views.home", _l("หน้าแรก"), ("leader", "seller", "committee", "admin"), 0)
    nav_link("network_views.groups", _l("กลุ่ม"), COMMITTEE, 30)
    nav_link("network_views.users", _l("ผู้ใช้"), ("admin",), 35)
    nav_link("network_views.audit", _l("บันทึกการเปลี่ยนแปลง"), COMMITTEE, 80)
    messages({
        "group_exists": _l("มีกลุ่มชื่อนี้อยู่แล้ว"),
        "email_used": _l("อีเมลนี้ถูกใช้แล้ว"),
        "poor_exceed_members": _l("จำนวนสมาชิกผู้มีบัตรสวัสดิการต้องไม่มากกว่าจำนวนสมาชิก"),
    })
    from network import settings_views

    settings_views.register_pages()
