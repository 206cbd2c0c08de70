"""Pages of notifications: the bell in every page's header, the list, mark read, the settings, and the
admin's page of deliveries that failed."""
from __future__ import annotations

from datetime import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length, Optional

from core.datefields import ThaiTimeField
from core.errors import InvalidInput
from core.pages import page_error_handlers, roles_required
from notifications import services

bp = Blueprint("notifications_views", __name__, template_folder="templates")


def bell() -> Markup | None:
    """The header item: a bell with the number of unread notifications."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    return Markup(render_template("notifications/_bell.html", unread=services.unread_count(current_user)))


@bp.route("/notifications")
@login_required
def index():  # type: ignore[no-untyped-def]
    items = services.list_notifications(current_user, limit=100)
    return render_template("notifications/list.html", items=items,
                           unread=sum(1 for n in items if n.read_at is None))


def _safe_path(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") else url_for("notifications_views.index")


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):  # type: ignore[no-untyped-def]
    notification = services.mark_read(current_user, notification_id)
    if request.form.get("open"):
        return redirect(_safe_path(notification.link))
    return redirect(url_for("notifications_views.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():  # type: ignore[no-untyped-def]
    count = services.mark_all_read(current_user)
    flash(_("ทำเครื่องหมายว่าอ่านแล้ว %(n)s รายการ", n=f"{count:,}"), "ok")
    return redirect(url_for("notifications_views.index"))


class SettingsForm(FlaskForm):
    email = BooleanField(_l("รับทางอีเมล"))
    line = BooleanField(_l("รับทาง LINE"))
    line_user_id = StringField(_l("รหัสผู้ใช้ LINE"), validators=[Optional(), Length(max=64)])
    quiet_from = ThaiTimeField(_l("งดส่งตั้งแต่"), validators=[InputRequired(_l("กรุณากรอกเวลา เช่น 21:00"))])
    quiet_until = ThaiTimeField(_l("ถึง"), validators=[InputRequired(_l("กรุณากรอกเวลา เช่น 07:00"))])


FIELD_TEXT = {
    "A LINE user id is U followed by 32 hexadecimal digits.": _l("รหัสผู้ใช้ LINE ขึ้นต้นด้วย U ตามด้วยตัวเลขและตัวอักษร a-f 32 ตัว"),
    "Required to receive LINE messages.": _l("ต้องกรอกรหัสผู้ใช้ LINE จึงจะรับทาง LINE ได้"),
}


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():  # type: ignore[no-untyped-def]
    current = services.get_settings(current_user)
    form = SettingsForm(data={"email": current.email, "line": current.line, "line_user_id": current.line_user_id,
                              "quiet_from": current.quiet_from, "quiet_until": current.quiet_until})
    status = 200
    if form.validate_on_submit():
        quiet_from: time = form.quiet_from.data or current.quiet_from
        quiet_until: time = form.quiet_until.data or current.quiet_until
        try:
            services.update_settings(current_user, {
                "email": bool(form.email.data), "line": bool(form.line.data),
                "line_user_id": (form.line_user_id.data or "").strip() or None,
                "quiet_from": quiet_from, "quiet_until": quiet_until})
        except InvalidInput as exc:
            for name, messages in exc.fields.items():
                target = getattr(form, name, None)
                if target is not None:
                    target.errors = [str(FIELD_TEXT.get(m, m)) for m in messages]
        else:
            flash(_("บันทึกการตั้งค่าการแจ้งเตือนแล้ว"), "ok")
            return redirect(url_for("notifications_views.settings"))
    if request.method == "POST":
        status = 422
    return render_template("notifications/settings.html", form=form, current=current, line=_line_connect()), status


def _line_connect() -> dict[str, object]:
    """What the settings page offers to connect LINE: the code just asked for (until it expires), the
    official account's add-friend button and QR code, and LINE Login."""
    from datetime import datetime

    from flask import current_app

    from core.clock import utcnow
    from notifications import line_link, line_login

    code, expires = None, None
    kept = session.get(LINE_CODE)
    if isinstance(kept, list) and len(kept) == 2:
        expires = datetime.fromisoformat(str(kept[1]))
        if expires > utcnow() and line_link.is_live(current_user, str(kept[0])):
            code = str(kept[0])
        else:
            session.pop(LINE_CODE, None)
    links = line_link.friend_links(code)
    qr = None
    if "add_friend_url" in links:
        import segno

        qr = Markup(segno.make(links["add_friend_url"], error="m").svg_inline(
            scale=4, border=2, svgclass="qr", lineclass=None, omitsize=True, title=_("คิวอาร์โค้ดเพิ่มเพื่อน LINE")))
    return {"enabled": bool(current_app.config.get("LINE_CHANNEL_SECRET")), "login": line_login.enabled(),
            "code": code, "code_shown": f"{code[:4]} {code[4:]}" if code else None, "expires": expires if code else None,
            "qr": qr, **links}


LINE_CODE = "line_link_code"


@bp.route("/notifications/line-link", methods=["POST"])
@login_required
def line_link_code():  # type: ignore[no-untyped-def]
    """Ask for a code to send to the network's LINE account (shown on the settings page for 15 minutes)."""
    from notifications import line_link

    made = line_link.new_code(current_user)
    session[LINE_CODE] = [made.code, made.expires_at.isoformat()]
    flash(_("ได้รหัสเชื่อมต่อ LINE แล้ว ส่งรหัสนี้ในแชตกับบัญชี LINE ของเครือข่ายภายใน 15 นาที"), "ok")
    return redirect(url_for("notifications_views.settings") + "#line-connect")


@bp.route("/admin/notifications/failed")
@roles_required("admin")
def failed():  # type: ignore[no-untyped-def]
    rows = services.failed_deliveries(current_user)
    return render_template("notifications/failed.html", rows=rows)


@bp.route("/admin/notifications/deliveries/<int:delivery_id>/retry", methods=["POST"])
@roles_required("admin")
def retry(delivery_id: int):  # type: ignore[no-untyped-def]
    services.retry_delivery(current_user, delivery_id)
    flash(_("จะลองส่งใหม่ภายในหนึ่งนาที"), "ok")
    return redirect(url_for("notifications_views.failed"))


page_error_handlers(bp)


def register_pages() -> None:
    """What notifications add to the shared page registries (core.pages): the bell, the admin's page."""
    from core.pages import header_item, login_option, nav_link, welcome_option
    from notifications.line_login import login_button, welcome_button

    header_item("notifications", bell)
    login_option("line", login_button)
    welcome_option("line", welcome_button)  # an invitation opened by connecting LINE instead of a password
    nav_link("notifications_views.failed", _l("การแจ้งเตือนที่ส่งไม่สำเร็จ"), ("admin",), 90)
