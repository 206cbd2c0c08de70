"""Web plumbing for the pages: Thai-first i18n, CSRF, rate limits, security headers, baht formatting."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask, Response, g, render_template, request, session
from flask_babel import Babel, gettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from core import format as fmt
from core.format import THAI_MONTHS, baht  # noqa: F401 - the one Thai style lives in core.format

LOCALES = ("th", "en")

# Flask-Login flashes this (through gettext) when a page needs a signed-in user.
def N_(text: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return text


LOGIN_MESSAGE = N_("กรุณาเข้าสู่ระบบก่อนใช้หน้านี้")
CSRF_MESSAGE = _l("หน้านี้เปิดค้างไว้นานเกินไป กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง")
# What a person sees when a page cannot be shown (the API answers these in JSON, core.api).
PAGE_ERRORS: dict[int, Any] = {
    400: _l("คำขอนี้ไม่ถูกต้อง กรุณากลับไปแล้วลองใหม่"),
    403: _l("คุณไม่มีสิทธิ์เปิดหน้านี้"),
    404: _l("ไม่พบหน้านี้ ที่อยู่อาจผิดหรือรายการถูกลบไปแล้ว"),
    405: _l("หน้านี้ทำรายการแบบนี้ไม่ได้"),
    413: _l("ไฟล์หรือข้อมูลที่ส่งมีขนาดใหญ่เกินไป"),
    429: _l("ส่งคำขอถี่เกินไป กรุณารอสักครู่แล้วลองใหม่"),
}

log = logging.getLogger(__name__)
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return str(current_user.locale)
    return "th"


def user_timezone() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return str(current_user.network.timezone)
    return "Asia/Bangkok"


def thai_date(value: datetime | None, with_time: bool = True) -> str:
    return fmt.moment(value, with_time)


def _page_error(error: HTTPException):  # type: ignore[no-untyped-def]
    """A page that cannot be shown: a Thai, phone-sized page with the right status; the API keeps JSON."""
    from flask import current_app, render_template

    if request.path.startswith("/api/"):
        return current_app.extensions["ruamsue_api"].handle_http_exception(error)
    status = error.code or 400
    message = CSRF_MESSAGE if isinstance(error, CSRFError) else PAGE_ERRORS.get(status, PAGE_ERRORS[400])
    response = current_app.make_response((render_template("error.html", message=str(message), status=status), status))
    from core.api import error_headers

    for name, value in error_headers(error).items():
        response.headers[name] = value
    return response


def same_site_path(target: str | None) -> str | None:
    r"""``target`` if it is a path on this site, else None (the caller goes home instead).

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so ``/\t/evil.example``
    and ``/\evil.example`` lead off-site: any whitespace, control character or backslash is refused
    first; then only ``/...`` (never ``//...``) with no scheme and no host is followed."""
    import unicodedata
    from urllib.parse import urlsplit

    if not target or len(target) > 2000:
        return None
    if any(c.isspace() or c == "\\" or unicodedata.category(c).startswith("C") for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def cookie_problems(config: Mapping[str, Any]) -> list[str]:
    """What is unsafe about the cookie settings of a real (non-embedded, non-debug) deployment."""
    uri = str(config.get("SQLALCHEMY_DATABASE_URI", ""))
    if uri.startswith("sqlite") or config.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true"):
        return []  # the embedded default: a demo on http://localhost
    problems = []
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off: session cookies would travel over plain HTTP")
    if not config.get("REMEMBER_COOKIE_SECURE"):
        problems.append("REMEMBER_COOKIE_SECURE is off")
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        problems.append("SESSION_COOKIE_HTTPONLY is off: scripts could read the session cookie")
    if str(config.get("SESSION_COOKIE_SAMESITE")) not in ("Lax", "Strict"):
        problems.append("SESSION_COOKIE_SAMESITE is neither Lax nor Strict")
    return problems


def init_app(app: Flask) -> None:
    for problem in cookie_problems(app.config):
        log.warning("insecure configuration: %s", problem)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    babel.init_app(app, locale_selector=select_locale, timezone_selector=user_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    fmt.init_app(app)
    from core import glossary

    glossary.init_app(app)
    from core.auth import login_manager

    login_manager.login_message = LOGIN_MESSAGE
    login_manager.localize_callback = gettext
    for code in PAGE_ERRORS:
        app.register_error_handler(code, _page_error)
    # JSON carries Thai as characters (UTF-8), not \u0e.. escapes: jsonify, flask-smorest and errors alike.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.before_request
    def _refuse_nul_in_forms() -> Any:
        # PostgreSQL cannot store NUL in text: a form or query carrying one is a bad request, not a 500.
        if request.path.startswith("/api/"):
            return  # the API answers 422 naming the field (core.api)
        items = list(request.args.items(multi=True))
        if request.method == "POST":
            items += list(request.form.items(multi=True))
        items += [(k, str(v)) for k, v in (request.view_args or {}).items()]
        bad = sorted({name for name, value in items if "\x00" in value})
        if bad:
            # Named, in a sentence, on a page that fits a phone; nothing was read or written.
            message = _("ข้อมูลในช่องต่อไปนี้มีอักขระที่ใช้ไม่ได้ (NUL) จึงไม่ได้บันทึก: %(fields)s", fields=", ".join(bad))
            return render_template("error.html", message=message, fields=bad), 400

    @app.before_request
    def _remember_language() -> None:
        if request.path.startswith("/api/"):
            return  # the API answers in JSON, drawn by no template; Flask-Babel still asks select_locale if needed
        lang = request.args.get("lang")
        if lang in LOCALES:
            session["lang"] = lang
        g.locale = select_locale()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
