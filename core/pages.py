"""The page toolkit every domain's pages share: role checks, form error display, fields, labels, the menu.

Also the kernel's page registries, which the domains fill from their ``app.py`` (core knows no domain):

* :func:`nav_link` — an entry of the menu, for some roles, at a position;
* :func:`home_item` — something the user must attend to on the home page (or a section below it);
* :func:`messages` — the translation of a domain's error codes (:class:`core.errors.Msg`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, current_app, flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import IntegerField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from core.errors import Conflict, DeadlinePassed, DomainError, Forbidden, InvalidInput, NotFound, OutOfStock, message_code
from core.fields import MAX_INT, MAX_QUANTITY, FieldError, parse_int

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

ROLE_LABELS = {"admin": _l("ผู้ดูแลระบบ"), "committee": _l("คณะกรรมการเครือข่าย"),
               "leader": _l("ผู้นำกลุ่ม"), "seller": _l("ผู้ขาย")}
KIND_LABELS = {"cooperative": _l("สหกรณ์"), "community_enterprise": _l("วิสาหกิจชุมชน"),
               "savings_group": _l("กลุ่มออมทรัพย์"), "farmers_group": _l("กลุ่มเกษตรกร"),
               "womens_group": _l("กลุ่มแม่บ้าน"), "other": _l("อื่น ๆ")}
STATE_LABELS = {"draft": _l("ร่าง"), "open": _l("เปิดรับคำสั่งซื้อ"), "closed": _l("ปิดรับแล้ว กำลังรวมยอด"),
                "combined": _l("รวมยอดแล้ว รอส่งของ"), "delivered": _l("ส่งของแล้ว"), "settled": _l("ชำระครบแล้ว"),
                "combine_failed": _l("รวมยอดไม่สำเร็จ"),
                "active": _l("เปิดขาย"), "paused": _l("หยุดขายชั่วคราว"), "placed": _l("รอยืนยัน"),
                "confirmed": _l("ยืนยันแล้ว"), "cancelled": _l("ยกเลิกแล้ว")}
JOB_LABELS = {"pending": _l("รอคิว"), "running": _l("กำลังทำงาน"), "succeeded": _l("เสร็จแล้ว"),
              "failed": _l("ล้มเหลว")}

COMMITTEE = ("committee", "admin")
# A plain shape check (email_validator is not a dependency); the service is the real judge.
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# --- error codes shown in the user's language ------------------------------------------------------

# Top-level messages by code; each domain adds its own with messages() (see its app.py).
MESSAGES: dict[str, Any] = {}
# Field messages by code: the shapes every domain uses. ``%(name)s`` takes the Msg's parameters.
FIELD_MESSAGES: dict[str, Any] = {
    "taken": _l("มีชื่อนี้อยู่แล้ว"),
    "used": _l("ถูกใช้แล้ว"),
    "must_be_future": _l("ต้องเป็นเวลาในอนาคต"),
    "not_found": _l("ไม่พบข้อมูลนี้"),
    "no_such_group": _l("ไม่พบกลุ่มนี้"),
    "more_than_members": _l("ต้องไม่มากกว่าจำนวนสมาชิก"),
    "must_be_positive": _l("ต้องมากกว่า 0"),
    "in_future": _l("ต้องไม่เป็นวันในอนาคต"),
    "not_in_round": _l("ไม่ใช่ข้อเสนอของรอบนี้"),
    "too_large_for_price": _l("มากเกินไปสำหรับราคานี้"),
    "too_large": _l("มากเกินไป"),
    "must_not_be_future": _l("ต้องไม่เป็นวันในอนาคต"),
    "must_not_be_negative": _l("ต้องไม่ติดลบ"),
}
# The one field module's messages (core.fields), whatever the domain.
FIELD_MESSAGES.update({
    "field_money": _l("ใส่จำนวนเงินเป็นตัวเลข เช่น 1250.50"),
    "field_decimals": _l("ทศนิยมไม่เกิน 2 ตำแหน่ง (สตางค์)"),
    "field_too_large": _l("จำนวนเงินมากเกินไป"),
    "field_negative": _l("ต้องไม่ติดลบ"),
    "field_integer": _l("ต้องเป็นจำนวนเต็ม"),
    "field_text": _l("ต้องเป็นข้อความ"),
    "field_control": _l("มีอักขระที่ใช้ไม่ได้"),
    "field_required": _l("กรุณากรอกช่องนี้"),
    "field_formula": _l("ขึ้นต้นด้วย = + - หรือ @ ไม่ได้ (ตารางคำนวณจะอ่านเป็นสูตร) ให้ใส่เป็นค่าแทน"),
    "field_phone": _l("เบอร์โทรไทย 9 หรือ 10 หลัก ขึ้นต้นด้วย 0 เช่น 081-234-5678"),  # core.fields.parse_phone
})
# Field messages with parameters: rendered at request time (the parameter is formatted in).
_FIELD_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "field_too_small": lambda p: _("อย่างน้อย %(n)s", n=p["n"]),
    "field_too_big": lambda p: _("ต้องไม่เกิน %(n)s", n=p["n"]),
    "field_too_long": lambda p: _("ยาวได้ไม่เกิน %(n)s ตัวอักษร", n=p["n"]),
    "at_most": lambda p: _("ไม่เกิน %(amount)s บาท", amount=p["amount"]),
    "only_left": lambda p: _("เหลือเพียง %(n)s", n=p["n"]),
    "more_than_ordered": lambda p: _("มากกว่าที่สั่ง %(n)s", n=p["n"]),
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


def messages(by_code: Mapping[str, Any]) -> None:
    """Register the translations of a domain's top-level error codes (``Msg(text, code)``)."""
    MESSAGES.update(by_code)


def field_messages(by_code: Mapping[str, Any]) -> None:
    """Register the translations of a domain's field codes: a text, or a function of the Msg's parameters."""
    for code, text in by_code.items():
        if callable(text):  # a function of the parameters (a lazy string is not callable)
            _FIELD_FORMATS[code] = text
        else:
            FIELD_MESSAGES[code] = text


def _english() -> bool:
    return str(get_locale() or "th").startswith("en")


def error_text(exc: DomainError) -> str:
    """A service's message in the user's language (Thai for the known codes, English as is)."""
    code = message_code(exc.message)
    known = MESSAGES.get(code) if code is not None else None
    if known is not None:
        return str(known)
    if _english():
        return exc.message
    for cls, text in GENERIC:
        if isinstance(exc, cls):
            return str(text)
    return str(GENERIC[-1][1])


def field_text(message: object) -> str:
    """A field message in the user's language, by its code."""
    code = message_code(message)
    if code is not None:
        known = FIELD_MESSAGES.get(code)
        if known is not None:
            return str(known)
        fmt = _FIELD_FORMATS.get(code)
        if fmt is not None:
            return fmt(getattr(message, "params", {}))
    return str(message) if _english() else _("ค่าไม่ถูกต้อง")


def apply_domain_error(form: FlaskForm, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Show a refused service call on the form: field messages next to their fields, the rest on top.

    The form keeps what the user typed (it is re-rendered from the request)."""
    placed = False
    # A conflict with a sentence of its own ("that slip was used already") says it on the field itself.
    specific = isinstance(exc, (Conflict, DeadlinePassed)) and message_code(exc.message) in MESSAGES
    for name, found in (exc.fields or {}).items():
        target = getattr(form, (field_map or {}).get(name, name), None)
        if target is not None and hasattr(target, "errors") and isinstance(found, list):
            said = [error_text(exc)] if specific else [field_text(m) for m in found]
            target.errors = list(target.errors or []) + said
            placed = True
    # One message per problem: the field's own, or (about no field) one at the top, never both.
    if not placed:
        form.form_errors.append(error_text(exc))


def refused(exc: DomainError) -> None:
    """Who may not see a thing gets the error page (403/404, raised again); any other refusal is for the page
    to show. Called first in every view's ``except DomainError``."""
    if exc.status in (403, 404):
        raise exc


def flash_refusal(exc: DomainError) -> None:
    """A refused action told at the top of the next page (after a redirect); 403/404 stay error pages."""
    refused(exc)
    flash(error_text(exc), "error")


def show_refusal(form: FlaskForm, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
    """A refused form shown again with its messages beside their fields; 403/404 stay error pages."""
    refused(exc)
    apply_domain_error(form, exc, field_map)


def filled(value: T | None) -> T:
    """A field's value after the form validated it as required (WTForms types every field's data Optional)."""
    if value is None:
        raise ValueError("a required field has no value after validation")
    return value


def field_check(problem: object | None) -> None:
    """In a form's ``validate_<field>``: a service's pure check of that box (``Msg`` or None), run with the
    form's other checks, so a refused page lists every box that is wrong at once, not only those the form
    knows and then, on the next try, the service's (the service stays the judge)."""
    from wtforms.validators import ValidationError

    if problem is not None:
        raise ValidationError(field_text(problem))


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        @wraps(fn)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


class MarkedInput(TextInput):
    """A text box that says it was refused wherever a template draws it (``aria-invalid`` and the id of its
    message), so the pages' script never adds a second message under it."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if field.errors:
            kwargs.setdefault("aria_invalid", "true")
            kwargs.setdefault("aria_describedby", f"{field.id}-error")
        return super().__call__(field, **kwargs)


class IntField(IntegerField):
    """A whole number read by the one field module (Thai digits, thousands commas), bounded to what its
    column holds, with messages in our catalogues (WTForms has no Thai)."""

    # A text box, not <input type=number>: a number input refuses Thai digits (๓๐ leaves it empty, and an
    # empty box reads as "nothing"). The phone still shows its number pad (inputmode).
    widget = MarkedInput()

    def __init__(self, *args: Any, maximum: int = MAX_QUANTITY, **kwargs: Any) -> None:
        self.maximum = maximum
        render_kw = dict(kwargs.pop("render_kw", None) or {})
        render_kw.setdefault("inputmode", "numeric")
        render_kw.setdefault("autocomplete", "off")
        super().__init__(*args, render_kw=render_kw, **kwargs)

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
            if exc.code == "too_big":
                raise ValueError(_l("ต้องไม่เกิน %(n)s", n=f"{self.maximum:,}")) from exc
            raise ValueError(_l("ต้องเป็นจำนวนเต็ม")) from exc

    def pre_validate(self, form: Any) -> None:
        # "abc" is one mistake with one message: the range checks have no number to check. (A blank
        # field goes on to Optional/InputRequired, which clear the "not a number" and decide.)
        if self.process_errors and _typed(self):
            raise StopValidation()


def _typed(field: Any) -> bool:
    raw = getattr(field, "raw_data", None) or []
    return bool(raw) and bool(str(raw[0]).strip())


# --- the error summary at the top of a refused page ------------------------------------------------

@dataclass(frozen=True)
class ErrorItem:
    target: str  # the id of the field to go to ("" for a message about the whole form)
    label: str
    message: str


def error_summary(forms: Iterable[Any]) -> list[ErrorItem]:
    """One line per field in error (its first message) and the form's own messages, in page order."""
    items: list[ErrorItem] = []
    for form in forms:
        for message in getattr(form, "form_errors", []) or []:
            items.append(ErrorItem("", "", str(message)))
        for field in form:
            if field.errors and field.type not in ("CSRFTokenField", "HiddenField"):
                first = field.errors[0]
                text = first if isinstance(first, str) else str(first)
                items.append(ErrorItem(field.id, str(field.label.text), text))
    return items


def _collect_errors(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
    """Every page rendered with a refused form gets ``page_errors`` for the summary in base.html."""
    if "page_errors" in context:
        return
    forms = [value for value in context.values() if isinstance(value, FlaskForm)
             and (value.errors or getattr(value, "form_errors", None))]
    for value in context.values():  # forms kept in a tuple or list (a page with several forms)
        if isinstance(value, (list, tuple)):
            forms += [f for f in value if isinstance(f, FlaskForm) and (f.errors or getattr(f, "form_errors", None))]
    items = error_summary(forms)
    # Pages that check fields of their own (the request for quotation, the supplier's quote) pass
    # ``errors`` {input id: message} and ``error_labels`` {input id: label}: listed too, in page order.
    own = context.get("errors")
    if isinstance(own, dict):
        labels = context.get("error_labels") or {}
        for key, message in own.items():
            label = labels.get(key)
            items.append(ErrorItem(key if label else "", str(label or ""), str(message)))
    context["page_errors"] = items


def page_error_handlers(blueprint: Blueprint) -> None:
    """A service refusing a page request: an HTML page with the right status, not JSON."""

    def _render(exc: DomainError) -> ResponseReturnValue:
        status = exc.status if exc.status in (403, 404, 409) else 400
        return render_template("error.html", message=error_text(exc), status=status), status

    blueprint.register_error_handler(DomainError, _render)


# --- asking before anything destructive -----------------------------------------------------------

def confirmation(question: str, consequence: str, back: str, confirm_label: str) -> ResponseReturnValue | None:
    """None when the posted form says ``confirmed=yes``; otherwise a page that asks first.

    The page repeats the form (same action, same fields, a fresh CSRF token) with ``confirmed=yes`` and
    a way back, so the question is asked without JavaScript too; with it, app.js asks in a <dialog>
    and posts ``confirmed=yes`` itself. Call it after the permission checks, before the change."""
    from flask import request

    if request.form.get("confirmed") == "yes":
        return None
    hidden = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")]
    return render_template("confirm.html", question=question, consequence=consequence, back=back,
                           action=request.path, hidden=hidden, confirm_label=confirm_label), 200


# --- the menu --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: Any
    roles: frozenset[str]
    order: int


NAV_LINKS: dict[tuple[str, frozenset[str]], NavLink] = {}


def nav_link(endpoint: str, label: Any, roles: Iterable[str], order: int) -> None:
    """Add ``endpoint`` to the menu of ``roles`` at position ``order`` (lower first)."""
    link = NavLink(endpoint, label, frozenset(roles), order)
    NAV_LINKS[(endpoint, link.roles)] = link


def nav_links() -> list[tuple[str, Any]]:
    if not current_user.is_authenticated:
        return []
    role = current_user.role
    views = current_app.view_functions
    wanted = sorted((link for link in NAV_LINKS.values() if role in link.roles), key=lambda link: link.order)
    return [(link.endpoint, link.label) for link in wanted if link.endpoint in views]


# --- the home page ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class HomeItem:
    """Something a domain shows on the home page: ``render()`` returns HTML for ``current_user``
    (empty when there is nothing). Slot ``attention``: an ``<li>`` of "what needs doing";
    slot ``section``: a section below it."""

    key: str
    render: Callable[[], str]
    order: int
    slot: str


HOME_ITEMS: dict[str, HomeItem] = {}


def home_item(key: str, render: Callable[[], str], *, order: int = 50, slot: str = "attention") -> None:
    if slot not in ("attention", "section"):
        raise ValueError(f"unknown home slot {slot!r}")
    HOME_ITEMS[key] = HomeItem(key, render, order, slot)


def home_html(slot: str) -> list[Markup]:
    """The non-empty HTML of the home items of ``slot``, in order."""
    items = sorted((item for item in HOME_ITEMS.values() if item.slot == slot), key=lambda item: item.order)
    parts = (item.render() for item in items)
    return [Markup(html) for html in parts if html and html.strip()]


# --- the header of every page ----------------------------------------------------------------------

HEADER_ITEMS: dict[str, Callable[[], Markup | None]] = {}


def header_item(key: str, render: Callable[[], Markup | None]) -> None:
    """Add something to the header of every page (the notification bell): HTML for ``current_user``, or None."""
    HEADER_ITEMS[key] = render


def header_html() -> list[Markup]:
    return [html for html in (render() for render in HEADER_ITEMS.values()) if html]


# --- more ways to log in (LINE Login) -----------------------------------------------------------------

LOGIN_OPTIONS: dict[str, Callable[[], str]] = {}


def login_option(key: str, render: Callable[[], str]) -> None:
    """Add a way to log in below the login form: HTML, or "" when it is switched off."""
    LOGIN_OPTIONS[key] = render


def login_options_html() -> list[Markup]:
    return [Markup(html) for html in (render() for render in LOGIN_OPTIONS.values()) if html and html.strip()]


# key -> render(token): another way than a password to open an invitation (notifications/ adds LINE Login).
WELCOME_OPTIONS: dict[str, Callable[[str], str]] = {}


def welcome_option(key: str, render: Callable[[str], str]) -> None:
    """Add a way to open an invitation or reset link besides setting a password: ``render(token)`` returns
    HTML (a button posting to the domain's own route), or "" when it is switched off."""
    WELCOME_OPTIONS[key] = render


def welcome_options_html(token: str) -> list[Markup]:
    return [Markup(html) for html in (render(token) for render in WELCOME_OPTIONS.values()) if html and html.strip()]


# --- wiring ----------------------------------------------------------------------------------------

def line_share_url(text: str) -> str:
    """LINE's own "share" link: opens LINE on the phone to pick a chat, with ``text`` (a link in it) typed in."""
    from urllib.parse import quote

    return "https://line.me/R/share?text=" + quote(text, safe="")


def _page_helpers() -> dict[str, Any]:
    return {
        "nav_links": nav_links,
        "header_items": header_html,
        "login_options": login_options_html,
        "welcome_options": welcome_options_html,
        "line_share_url": line_share_url,
        "role_label": lambda role: ROLE_LABELS.get(role, role),
        "kind_label": lambda kind: KIND_LABELS.get(kind, kind),
        "state_label": lambda state: STATE_LABELS.get(state, state),
        "job_state_label": lambda state: JOB_LABELS.get(state, state),
    }


def _fresh_translations() -> None:
    """Load the catalogue of this request's language (a reused app context may hold another one)."""
    from flask_babel import refresh

    refresh()


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def init_app(app: Flask) -> None:
    from flask import before_render_template

    before_render_template.connect(_collect_errors, app)
    app.context_processor(_page_helpers)
    app.before_request(_fresh_translations)
    app.add_template_filter(_iso, "iso")
