"""Pages of the first day: import groups and users from a spreadsheet (upload, dry-run preview, confirm),
invitation links (one, shared by LINE or copied; all, printed for a meeting) and the page an invitation opens.

All thin: the work is in ``core.imports`` (with ``network.imports``) and ``network.access``.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo

from core.errors import DomainError, InvalidInput, NotFound
from core.imports import KINDS, ImportResult, run_import
from core.pages import (
    apply_domain_error,
    error_text,
    field_messages,
    field_text,
    line_share_url,
    messages,
    nav_link,
    roles_required,
)
from core.web import limiter
from network import access, services
from network.views import bp

KIND_TITLES = {"groups": _l("กลุ่มสมาชิก"), "users": _l("ผู้ใช้ (ผู้นำกลุ่ม ผู้ขาย คณะกรรมการ)"),
               "households": _l("ครัวเรือนสมาชิก")}
# The page keeps the checked file in the confirm form (no server-side copy); larger files go through the API.
PAGE_FILE_BYTES = 350_000


class ImportForm(FlaskForm):
    kind = SelectField(_l("ข้อมูลที่จะนำเข้า"), choices=[])
    file = FileField(_l("ไฟล์ตารางคำนวณ"))


class ConfirmImportForm(FlaskForm):
    kind = HiddenField()
    filename = HiddenField()
    content = HiddenField()


def _page(**context: Any) -> str:
    return render_template("network/imports.html", titles=KIND_TITLES, **context)


def _kinds() -> list[tuple[str, str]]:
    return [(name, str(KIND_TITLES.get(name, name))) for name in ("groups", "users", "households") if name in KINDS]


def _problems(result: ImportResult, kind: str) -> list[dict[str, Any]]:
    english = str(get_locale() or "th").startswith("en")  # the column as the page's reader names it
    headers = {c.key: c.key if english else c.headers[0] for c in KINDS[kind].columns}
    return [{"row": p.row, "column": headers.get(p.column, p.column), "message": field_text(p.message)}
            for p in result.errors]


def _preview(form: ImportForm, kind: str, filename: str, content: bytes, status: int = 200) -> ResponseReturnValue:
    try:
        result = run_import(current_user, kind, filename, content, dry_run=True)
    except DomainError as exc:
        apply_domain_error(form, exc)
        if not form.file.errors and not form.kind.errors:
            form.file.errors = [error_text(exc)]
        return _page(form=form, kinds=KINDS), 422
    confirm = ConfirmImportForm(formdata=None, kind=kind, filename=filename,
                                content=base64.b64encode(content).decode())
    return _page(form=form, kinds=KINDS, result=result, confirm=confirm,
                           problems=_problems(result, kind), kind=kind,
                           too_big=len(content) > PAGE_FILE_BYTES), status


@bp.route("/imports", methods=["GET", "POST"])
@roles_required("admin")
def imports() -> ResponseReturnValue:
    form = ImportForm()
    form.kind.choices = _kinds()
    if request.method == "GET":
        form.kind.data = request.args.get("kind") or "groups"
        return _page(form=form, kinds=KINDS)
    if not form.validate_on_submit():
        return _page(form=form, kinds=KINDS), 422
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("กรุณาเลือกไฟล์")]
        return _page(form=form, kinds=KINDS), 422
    return _preview(form, form.kind.data or "", upload.filename, upload.read(PAGE_FILE_BYTES * 8))


@bp.route("/imports/confirm", methods=["POST"])
@roles_required("admin")
def confirm_import() -> ResponseReturnValue:
    confirm = ConfirmImportForm()
    form = ImportForm(formdata=None)
    form.kind.choices = _kinds()
    if not confirm.validate_on_submit():
        abort(400)
    kind = confirm.kind.data or ""
    form.kind.data = kind
    try:
        content = base64.b64decode(confirm.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        abort(400)
    try:
        result = run_import(current_user, kind, confirm.filename.data or "", content, dry_run=False)
    except InvalidInput:
        return _preview(form, kind, confirm.filename.data or "", content, 422)
    if result.errors:  # someone changed the same records since the check: show the file's rows again
        return _preview(form, kind, confirm.filename.data or "", content, 422)
    flash(_("นำเข้าแล้ว %(rows)s แถว: เพิ่มใหม่ %(created)s แก้ไข %(updated)s ไม่เปลี่ยน %(unchanged)s",
            rows=f"{result.rows:,}", created=f"{result.created:,}", updated=f"{result.updated:,}",
            unchanged=f"{result.unchanged:,}"), "ok")
    if kind == "users":
        return redirect(url_for("network_views.users"))
    return redirect(url_for("network_views.groups" if kind == "groups" else "network_views.imports"))


@bp.route("/imports/<kind>.csv")
@roles_required("admin")
def import_template(kind: str) -> ResponseReturnValue:
    """An empty sheet with the Thai headers of a kind (with the BOM, so Excel opens it as UTF-8)."""
    found = KINDS.get(kind)
    if found is None:
        abort(404)
    header = ",".join(c.headers[0] for c in found.columns)
    return ("\ufeff" + header + "\r\n").encode(), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f"attachment; filename={kind}.csv"}


# --- invitations -----------------------------------------------------------------------------------

def _link(token: str) -> str:
    return url_for("network_views.welcome", token=token, _external=True)


def qr_code(url: str) -> Markup:
    """The link as a QR code (inline SVG: no script, no request): a phone's camera or LINE opens it from paper."""
    import segno

    return Markup(segno.make(url, error="m").svg_inline(scale=3, border=2, svgclass="qr", lineclass=None,
                                                        omitsize=True, title=_("คิวอาร์โค้ดของลิงก์เชิญ")))


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@roles_required("admin")
def invite(user_id: int) -> ResponseReturnValue:
    try:
        issued = access.issue_link(current_user, user_id, "invitation")
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("network_views.users"))
    url = _link(issued.token)
    text = _("%(name)s ได้รับเชิญเข้าใช้รวมซื้อ เปิดลิงก์นี้เพื่อตั้งรหัสผ่าน (ใช้ได้ครั้งเดียว): %(url)s",
             name=issued.user.name, url=url)
    response = render_template("network/invitation.html", issued=issued, url=url, qr=qr_code(url),
                               line_url=line_share_url(text))
    return response, 201, {"Cache-Control": "no-store"}


@bp.route("/users/invitations", methods=["POST"])
@roles_required("admin")
def invite_all() -> ResponseReturnValue:
    issued = access.invite_everyone_waiting(current_user)
    groups = {g.id: g.name for g in services.list_groups(current_user)}
    return render_template("network/invitations_print.html", links=[(i, _link(i.token), qr_code(_link(i.token))) for i in issued],
                           group_names=groups), 200, {"Cache-Control": "no-store"}


class WelcomeForm(FlaskForm):
    password = PasswordField(_l("รหัสผ่านใหม่ (อย่างน้อย 8 ตัวอักษร)"), validators=[DataRequired(_l("กรุณากรอกรหัสผ่าน"))])
    again = PasswordField(_l("พิมพ์รหัสผ่านอีกครั้ง"),
                          validators=[DataRequired(_l("กรุณากรอกรหัสผ่าน")), EqualTo("password", _l("รหัสผ่านไม่ตรงกัน"))])


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def welcome(token: str) -> ResponseReturnValue:
    """The page an invitation (or a reset) opens: the user sets a password and is logged in."""
    headers = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    try:
        link = access.peek(token)
    except NotFound:
        return render_template("network/welcome.html", link=None), 404, headers
    form = WelcomeForm()
    if form.validate_on_submit():
        try:
            user = access.redeem(token, form.password.data or "")
        except NotFound:
            return render_template("network/welcome.html", link=None), 404, headers
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            login_user(user)
            flash(_("ตั้งรหัสผ่านแล้ว ยินดีต้อนรับ %(name)s ครั้งหน้าเข้าสู่ระบบด้วยอีเมล %(email)s",
                    name=user.name, email=user.email), "ok")
            return redirect(url_for("network_views.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("network/welcome.html", link=link, form=form, token=token), status, headers


def register_import_pages() -> None:
    nav_link("network_views.imports", _l("นำเข้าจากไฟล์"), ("admin",), 36)
    messages({
        "import_kind_unavailable": _l("ยังนำเข้าข้อมูลชนิดนี้ไม่ได้ในรุ่นนี้"),
        "link_invalid": _l("ลิงก์นี้ใช้ไม่ได้แล้ว (ใช้ไปแล้วหรือหมดอายุ) ขอลิงก์ใหม่จากผู้ดูแลเครือข่าย"),
        "user_inactive": _l("ผู้ใช้นี้ถูกปิดการใช้งานอยู่"),
        "password_short": _l("รหัสผ่านต้องมีอย่างน้อย 8 ตัวอักษร"),
        "password_long": _l("รหัสผ่านยาวเกินไป"),
        "file_encoding": _l("ไฟล์ไม่ได้บันทึกเป็น UTF-8: ใน Excel เลือกบันทึกเป็น \"CSV UTF-8\" หรือ .xlsx"),
        "file_xlsx": _l("อ่านไฟล์ Excel (.xlsx) นี้ไม่ได้"),
        "file_empty": _l("ไฟล์ว่างเปล่า"),
        "file_no_header": _l("แถวแรกของไฟล์ต้องเป็นชื่อคอลัมน์"),
        "file_missing": _l("กรุณาเลือกไฟล์"),
    })
    field_messages({
        "password_short": _l("อย่างน้อย 8 ตัวอักษร"),
        "password_long": _l("ยาวเกินไป"),
        "import_kind_of_group": _l("ไม่รู้จักประเภทกลุ่มนี้: ใช้ สหกรณ์ วิสาหกิจชุมชน กลุ่มออมทรัพย์ กลุ่มเกษตรกร "
                                   "กลุ่มแม่บ้าน หรือ อื่น ๆ"),
        "import_duplicate": lambda p: _("ซ้ำกับแถวที่ %(row)s ในไฟล์เดียวกัน", row=p["row"]),
        "import_email": _l("อีเมลไม่ถูกต้อง"),
        "import_admin": _l("ผู้ดูแลระบบแก้ไขผ่านไฟล์ไม่ได้ ให้แก้ในหน้าผู้ใช้"),
        "import_role": _l("บทบาทต้องเป็น ผู้นำกลุ่ม ผู้ขาย หรือ คณะกรรมการเครือข่าย"),
        "import_no_group": _l("ไม่พบกลุ่มชื่อนี้ ให้นำเข้ากลุ่มก่อน"),
        "import_group_needed": _l("ผู้นำกลุ่มและผู้ขายต้องระบุกลุ่ม"),
        "email_used": _l("อีเมลนี้ถูกใช้แล้ว"),
        "import_kind_unavailable": _l("ยังนำเข้าข้อมูลชนิดนี้ไม่ได้ในรุ่นนี้"),
        "import_kind_unknown": _l("ไม่รู้จักข้อมูลชนิดนี้"),
        "import_yes_no": _l("ใส่ ใช่ หรือ ไม่ใช่"),
        "import_too_many": _l("กลุ่มหนึ่งมีครัวเรือนได้ไม่เกิน 2,000 ครัวเรือน"),
        "file_encoding": _l("ไฟล์ไม่ได้บันทึกเป็น UTF-8: ใน Excel เลือกบันทึกเป็น \"CSV UTF-8\" หรือ .xlsx"),
        "file_xlsx": _l("อ่านไฟล์ Excel (.xlsx) นี้ไม่ได้"),
        "file_empty": _l("ไฟล์ว่างเปล่า"),
        "file_no_header": _l("แถวแรกของไฟล์ต้องเป็นชื่อคอลัมน์"),
        "file_missing": _l("กรุณาเลือกไฟล์"),
        "file_csv": lambda p: _("อ่านไฟล์ CSV ไม่ได้ที่บรรทัด %(line)s (เครื่องหมายคำพูดไม่ครบ หรือช่องยาวเกินไป)",
                                line=p["line"]),
        "file_too_big": lambda p: _("ไฟล์ใหญ่เกิน %(n)s MB", n=p["n"]),
        "file_too_many_rows": lambda p: _("ไฟล์หนึ่งมีได้ไม่เกิน %(n)s แถว", n=p["n"]),
        "file_column_twice": lambda p: _("มีคอลัมน์ %(column)s สองคอลัมน์", column=p["column"]),
        "file_columns_missing": lambda p: _("ไม่มีคอลัมน์ที่ต้องมี: %(columns)s", columns=p["columns"]),
    })
