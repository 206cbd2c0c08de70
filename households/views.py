"""Pages of households: the household's sheet behind the round's link (no account, Thai, a 360 px phone),
and the leader's pages: the household list, the households' orders in a round, and the household bills."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from core.errors import DomainError, Msg
from core.fields import FieldError, parse_int
from core.pages import confirmation, error_text, field_text, page_error_handlers, refused
from core.web import limiter
from households import bills, services, sheets
from orders import services as order_services

bp = Blueprint("households_views", __name__, template_folder="templates")
page_error_handlers(bp)


class ActionForm(FlaskForm):
    """Buttons that only need the CSRF token."""


def _sheet_limit() -> str:
    return str(current_app.config.get("SHEET_RATE_LIMIT", current_app.config.get("QUOTE_RATE_LIMIT", "30 per minute")))


def line_share_url(text: str) -> str:
    """LINE's share link: opens LINE with the text ready to send to a chat (the group's)."""
    return "https://line.me/R/share?text=" + quote(text, safe="")


def _quantities(form: Any, offer_ids: list[int]) -> tuple[list[dict[str, int]], dict[int, str]]:
    """The quantities typed (Thai digits and thousands commas accepted; blank is 0), and errors by offer."""
    lines, errors = [], {}
    for offer_id in offer_ids:
        raw = (form.get(f"q-{offer_id}") or "").strip()
        if not raw:
            continue
        try:
            quantity = parse_int(raw, minimum=0, maximum=100_000_000, grouping=True)
        except FieldError as exc:
            errors[offer_id] = field_text(Msg(exc.message, f"field_{exc.code}", **exc.params))
            continue
        lines.append({"offer_id": offer_id, "quantity": quantity})
    return lines, errors


@bp.route("/h/<string:sheet_token>", methods=["GET", "POST"])
@limiter.limit(_sheet_limit)
def sheet(sheet_token: str) -> ResponseReturnValue:
    token = sheet_token
    view = sheets.sheet_view(token)
    form = ActionForm()
    chosen = request.values.get("h", type=int)
    mine: dict[str, Any] | None = None
    errors: dict[int, str] = {}
    typed: dict[int, str] = {}
    message = ""
    status = 200
    if chosen is not None:
        try:
            mine = sheets.household_lines(token, chosen)
        except DomainError:
            chosen, mine = None, None
    if request.method == "POST" and chosen is not None and mine is not None:
        typed = {o["id"]: request.form.get(f"q-{o['id']}", "") for o in view["offers"]}
        if not form.validate_on_submit():
            message = _("หน้านี้หมดอายุ กรุณาโหลดหน้าใหม่แล้วส่งอีกครั้ง")
        else:
            lines, errors = _quantities(request.form, [o["id"] for o in view["offers"]])
            if not errors:
                try:
                    sheets.replace_household_lines(token, chosen, lines)
                except DomainError as exc:
                    message = error_text(exc)
                else:
                    flash(_("บันทึกรายการของครัวเรือนแล้ว แก้ได้จนถึงเวลาปิดรับ"), "ok")
                    return redirect(url_for("households_views.sheet", sheet_token=token, h=chosen))
        status = 409 if message and view["round"]["state"] != "open" else 422
    quantities = {ln["offer_id"]: ln["quantity"] for ln in (mine or {}).get("lines", [])}
    # The page's one error summary (base.html): each box by its id, with the product's name, or the message.
    summary: dict[str, str] = {f"q-{oid}": text for oid, text in errors.items()}
    if message:
        summary["_"] = message
    labels = {f"q-{o['id']}": o["product_name"] for o in view["offers"]}
    return render_template("households/sheet.html", view=view, chosen=chosen, mine=mine, quantities=quantities,
                           typed=typed, box_errors=errors, errors=summary, error_labels=labels, form=form,
                           token=token, open=view["round"]["state"] == "open"), status


def _leader_round(round_id: int) -> Any:
    return order_services.get_round(current_user, round_id)


_HOUSEHOLD_LABELS = {"name": _l("ชื่อหรือบ้านเลขที่"), "phone": _l("เบอร์โทร (ไม่บังคับ)")}


@bp.route("/groups/<int:group_id>/households", methods=["GET", "POST"])
@login_required
def household_list(group_id: int) -> ResponseReturnValue:
    form = ActionForm()
    errors: dict[str, str] = {}
    values = {"name": "", "phone": "", "registered_poor": False}
    status = 200
    households = services.list_households(current_user, group_id)  # may the user see this list at all
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["_"] = _("หน้านี้หมดอายุ กรุณาโหลดหน้าใหม่แล้วส่งอีกครั้ง")
        else:
            remove = request.form.get("remove", type=int)
            try:
                if remove is not None:
                    asked = confirmation(_("ลบครัวเรือนนี้?"),
                                         _("ชื่อและเบอร์โทรจะถูกลบ บิลของรอบที่ผ่านมายังอยู่ในบิลของกลุ่มเป็น “ครัวเรือนที่ลบแล้ว”"),
                                         url_for("households_views.household_list", group_id=group_id),
                                         _("ลบครัวเรือนนี้"))
                    if asked is not None:
                        return asked
                    services.remove_household(current_user, remove)
                    flash(_("ลบครัวเรือนแล้ว ชื่อและเบอร์โทรถูกลบ บิลเก่ายังนับรวมในบิลของกลุ่มเป็น “ครัวเรือนที่ลบแล้ว”"), "ok")
                else:
                    values = {"name": request.form.get("name", ""), "phone": request.form.get("phone", ""),
                              "registered_poor": request.form.get("registered_poor") == "1"}
                    added = services.create_household(current_user, group_id, values)
                    flash(_("เพิ่มครัวเรือน %(name)s แล้ว", name=added["name"] or ""), "ok")
                return redirect(url_for("households_views.household_list", group_id=group_id))
            except DomainError as exc:
                refused(exc)
                errors = {name: field_text(found[0]) for name, found in exc.fields.items()
                          if isinstance(found, list) and found and name in _HOUSEHOLD_LABELS}
                if not errors:  # one message per problem: on its box, or (about no box) at the top
                    errors["_"] = error_text(exc)
        status = 422
    # The page's one error summary (base.html) lists each box with a link to it.
    labels = {key: str(label) for key, label in _HOUSEHOLD_LABELS.items()}
    return render_template("households/list.html", households=households, group_id=group_id, form=form,
                           errors=errors, error_labels=labels, values=values), status


@bp.route("/rounds/<int:round_id>/groups/<int:group_id>/households", methods=["GET", "POST"])
@login_required
def round_households(round_id: int, group_id: int) -> ResponseReturnValue:
    rnd = order_services.load_round(current_user, round_id)
    data = sheets.households_for_round(current_user, round_id, group_id)  # may the user see this page at all
    form = ActionForm()
    link: str | None = None
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("หน้านี้หมดอายุ กรุณาโหลดหน้าใหม่แล้วส่งอีกครั้ง"), "error")
        else:
            action = request.form.get("action")
            try:
                if action == "open":
                    token = sheets.open_sheet(current_user, round_id, group_id)
                    link = url_for("households_views.sheet", sheet_token=token, _external=True)
                    flash(_("เปิดลิงก์ใหม่แล้ว ส่งลิงก์นี้ในกลุ่มไลน์ของกลุ่ม ลิงก์เดิม (ถ้ามี) ใช้ไม่ได้แล้ว"), "ok")
                elif action == "revoke":
                    sheets.revoke_sheet(current_user, round_id, group_id)
                    flash(_("ปิดลิงก์แล้ว ครัวเรือนเปิดลิงก์เดิมไม่ได้อีก"), "ok")
                elif action == "fill":
                    sheets.fill_order_from_households(current_user, round_id, group_id)
                    flash(_("ใส่ยอดรวมของครัวเรือนเป็นคำสั่งซื้อของกลุ่มแล้ว แก้ต่อได้ที่หน้าคำสั่งซื้อจนถึงเวลาปิดรับ"), "ok")
            except DomainError as exc:
                flash(error_text(exc), "error")
        if link is None:
            return redirect(url_for("households_views.round_households", round_id=round_id, group_id=group_id))
        data = sheets.households_for_round(current_user, round_id, group_id)
    offers = {o.id: o for o in rnd.offers}
    share = line_share_url(_("สั่งของรอบ %(round)s ได้ที่ลิงก์นี้ เลือกชื่อบ้านของท่านแล้วใส่จำนวน: %(url)s",
                             round=rnd.name, url=link)) if link else None
    return render_template("households/round.html", rnd=rnd, data=data, offers=offers, form=form, link=link,
                           share=share, group_id=group_id), 201 if link else 200


@bp.route("/rounds/<int:round_id>/groups/<int:group_id>/household-bills")
@login_required
def household_bills(round_id: int, group_id: int) -> ResponseReturnValue:
    rnd = order_services.load_round(current_user, round_id)
    data = bills.household_bills(current_user, round_id, group_id)
    offers = {o.id: o for o in rnd.offers}
    return render_template("households/bills.html", rnd=rnd, data=data, offers=offers,
                           per_page=request.args.get("print") == "each")


def register_pages() -> None:
    """What the households domain adds to the shared page registries (core.pages)."""
    from flask_babel import lazy_gettext as _l

    from core.pages import FIELD_MESSAGES, home_item, messages
    from households.home import leader_households

    home_item("households", leader_households, order=30, slot="section")

    messages({
        "household_name_taken": _l("กลุ่มมีครัวเรือนชื่อนี้แล้ว เพิ่มบ้านเลขที่ต่อท้ายชื่อ"),
        "tolerance_without_demand": _l("ไม่มีครัวเรือนใดสั่งสินค้านี้"),
        "no_household_lines": _l("ยังไม่มีครัวเรือนสั่ง คำสั่งซื้อของกลุ่มยังเหมือนเดิม"),
    })
    FIELD_MESSAGES.update({
        "household_name_taken": _l("มีชื่อนี้ในกลุ่มแล้ว เพิ่มบ้านเลขที่ต่อท้าย"),
        "field_boolean": _l("ต้องเป็นใช่หรือไม่ใช่"),
    })
