"""Web plumbing for the pages: Thai-first i18n, CSRF, rate limits, security headers, baht formatting."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

LOCALES = ("th", "en")
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")

babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LOCALES:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    return "th"


def user_timezone() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.network.timezone
    return "Asia/Bangkok"


def baht(value: Decimal | int | None) -> str:
    """1234567.5 -> '1,234,567.50' (exact; never through float)."""
    if value is None:
        return "–"
    return f"{Decimal(value).quantize(Decimal('0.01')):,}"


def thai_date(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return "–"
    local = value.astimezone(ZoneInfo(user_timezone()))
    if select_locale() == "th":
        text = f"{local.day} {THAI_MONTHS[local.month - 1]} {local.year + 543}"
    else:
        text = local.strftime("%d %b %Y")
    return f"{text} {local:%H:%M}" if with_time else text


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=user_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    app.jinja_env.filters["baht"] = baht
    app.jinja_env.filters["thai_date"] = thai_date
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.before_request
    def _remember_language() -> None:
        lang = request.args.get("lang")
        if lang in LOCALES:
            session["lang"] = lang
        g.locale = select_locale()

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
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
