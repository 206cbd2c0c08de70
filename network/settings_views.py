"""The network's settings page (admin): where groups pay the network's invoices (its PromptPay id)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from core.errors import DomainError
from core.pages import FIELD_MESSAGES, apply_domain_error, messages, nav_link, roles_required
from network import services
from network.views import bp

PROMPTPAY_HINT = _l("เบอร์มือถือ 10 หลัก เลขบัตรประชาชนหรือเลขผู้เสียภาษี 13 หลัก หรือเลขอีวอลเล็ต 15 หลัก "
                    "เว้นว่างถ้าไม่ใช้")


class NetworkSettingsForm(FlaskForm):
    promptpay_id = StringField(_l("พร้อมเพย์ของเครือข่าย (ให้กลุ่มโอนค่าสินค้า)"), validators=[Optional(), Length(max=40)])


@bp.route("/network/settings", methods=["GET", "POST"])
@roles_required("admin")
def network_settings() -> ResponseReturnValue:
    network = services.get_network(current_user)
    form = NetworkSettingsForm(obj=network)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_network(current_user, {"promptpay_id": form.promptpay_id.data or ""})
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            flash(_("บันทึกแล้ว ใบแจ้งหนี้ที่ยังค้างชำระจะมีคิวอาร์โค้ดพร้อมเพย์ให้สแกนจ่าย") if network.promptpay_id
                  else _("บันทึกแล้ว ใบแจ้งหนี้จะไม่มีคิวอาร์โค้ดพร้อมเพย์จนกว่าจะตั้งเลขพร้อมเพย์"), "ok")
            return redirect(url_for("network_views.network_settings"))
    if request.method == "POST":
        status = 422
    return render_template("network/settings.html", network=network, form=form, hint=PROMPTPAY_HINT), status


def register_pages() -> None:
    nav_link("network_views.network_settings", _l("ตั้งค่าเครือข่าย"), ("admin",), 36)
    why = {
        "promptpay_digits": _l("เลขพร้อมเพย์ใช้ได้เฉพาะตัวเลข (เว้นวรรคหรือขีดได้)"),
        "promptpay_mobile": _l("เบอร์มือถือต้องมี 10 หลักและขึ้นต้นด้วย 0"),
        "promptpay_check_digit": _l("เลข 13 หลักนี้ไม่ถูกต้อง (หลักสุดท้ายไม่ตรงกับหลักอื่น) กรุณาตรวจสอบอีกครั้ง"),
        "promptpay_length": _l("เลขพร้อมเพย์ต้องเป็นเบอร์มือถือ 10 หลัก เลขบัตรประชาชนหรือเลขผู้เสียภาษี 13 หลัก "
                               "หรือเลขอีวอลเล็ต 15 หลัก"),
    }
    FIELD_MESSAGES.update(why)
    messages(why)
