"""Pages of one's own account: change the password; set a new one through a one-time reset link (no
login); and the admin's or committee's button that issues such a link for a user."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from core.errors import DomainError
from core.pages import COMMITTEE, apply_domain_error, field_check, messages, nav_link, page_error_handlers, roles_required
from core.web import limiter
from network import accounts
from network.passwords import password_problem

bp = Blueprint("account_views", __name__, template_folder="templates")


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(_l("รหัสผ่านใหม่"), validators=[DataRequired(_l("กรุณากรอกรหัสผ่าน"))])
    confirm_password = PasswordField(_l("พิมพ์รหัสผ่านใหม่อีกครั้ง"), validators=[
        DataRequired(_l("กรุณากรอกรหัสผ่าน")), EqualTo("new_password", _l("รหัสผ่านสองช่องไม่ตรงกัน"))])


    def validate_new_password(self, field: Any) -> None:
        email = current_user.email if current_user.is_authenticated else ""
        field_check(password_problem(field.data, email=email))


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("รหัสผ่านปัจจุบัน"), validators=[DataRequired(_l("กรุณากรอกรหัสผ่าน"))])


def _reset_limit() -> str:
    return str(current_app.config.get("LOGIN_RATE_LIMIT", "10 per minute"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(current_user, form.current_password.data or "", form.new_password.data or "")
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            login_user(user)  # this session goes on with the new version; every other one has ended
            flash(_("เปลี่ยนรหัสผ่านแล้ว เครื่องอื่นที่เคยเข้าสู่ระบบไว้ต้องเข้าสู่ระบบใหม่"), "ok")
            return redirect(url_for("network_views.home"))
    return render_template("network/password.html", form=form, reset=False), 200 if request.method == "GET" else 422


@bp.route("/reset/<string:token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit)
def password_reset(token: str) -> ResponseReturnValue:
    user = accounts.reset_user(token)  # 404 page when the link is used or expired
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.new_password.data or "")
        except DomainError as exc:
            if exc.status == 404:
                raise
            apply_domain_error(form, exc)
        else:
            flash(_("ตั้งรหัสผ่านใหม่แล้ว เข้าสู่ระบบด้วยรหัสผ่านใหม่ได้เลย"), "ok")
            return redirect(url_for("network_views.login"))
    return render_template("network/password.html", form=form, reset=True, email=user.email), \
        200 if request.method == "GET" else 422


@bp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@roles_required(*COMMITTEE)
def issue_reset(user_id: int) -> ResponseReturnValue:
    token, expires_at = accounts.issue_reset(current_user, user_id)
    return render_template("network/reset_issued.html", url=url_for("account_views.password_reset", token=token,
                                                                     _external=True), expires_at=expires_at), 201


page_error_handlers(bp)


def register_pages() -> None:
    nav_link("account_views.change_password", _l("เปลี่ยนรหัสผ่าน"), ("leader", "seller", "committee", "admin"), 90)
    messages({
        "password_wrong": _l("รหัสผ่านปัจจุบันไม่ถูกต้อง"),
        "reset_link_dead": _l("ลิงก์นี้ใช้ไปแล้วหรือหมดอายุ ขอลิงก์ใหม่จากผู้ดูแลเครือข่ายหรือคณะกรรมการ"),
    })
    from core.pages import FIELD_MESSAGES

    FIELD_MESSAGES["password_wrong"] = _l("รหัสผ่านปัจจุบันไม่ถูกต้อง")
    FIELD_MESSAGES["password_common"] = _l("รหัสผ่านนี้ใช้กันทั่วไป เดาง่าย กรุณาตั้งรหัสอื่น")
    FIELD_MESSAGES["password_is_email"] = _l("รหัสผ่านต้องไม่ใช่อีเมลของคุณ")
    FIELD_MESSAGES["password_short"] = _l("อย่างน้อย 8 ตัวอักษร")
