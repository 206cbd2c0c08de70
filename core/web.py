"""Web plumbing for the pages: Thai-first i18n, CSRF, rate limits, security headers, baht formatting."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, abort, g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

LOCALES = ("th", "en")
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")

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
    app.jinja_env.filters["baht"] = baht
    app.jinja_env.filters["thai_date"] = thai_date
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.before_request
    def _refuse_nul_in_forms() -> None:
        # PostgreSQL cannot store NUL in text: a form or query carrying one is a bad request, not a 500.
        if request.path.startswith("/api/"):
            return  # the API answers 422 naming the field (core.api)
        values = list(request.args.values()) + (list(request.form.values()) if request.method == "POST" else [])
        if any("\x00" in value for value in values) or any("\x00" in str(v) for v in (request.view_args or {}).values()):
            abort(400)

    @app.before_request
    def _remember_language() -> None:
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
