"""Pages of the network: log in, log out, home, language."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email

from core.errors import NotAuthenticated
from core.web import LOCALES, limiter
from network import services

bp = Blueprint("network_views", __name__, template_folder="templates")


class LoginForm(FlaskForm):
    email = EmailField(_l("อีเมล"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("รหัสผ่าน"), validators=[DataRequired()])


def _login_limit() -> str:
    from flask import current_app

    return str(current_app.config.get("LOGIN_RATE_LIMIT", "10 per minute"))


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "-").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "")
        except NotAuthenticated:
            form.password.errors = [_("อีเมลหรือรหัสผ่านไม่ถูกต้อง")]
        else:
            login_user(user)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("network_views.home")
            return redirect(target)
    return render_template("network/login.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    services.end_sessions(current_user)
    logout_user()
    return redirect(url_for("network_views.login"))


@bp.route("/lang/<code>")
def language(code: str):  # type: ignore[no-untyped-def]
    if code in LOCALES:
        session["lang"] = code
    target = request.referrer or url_for("network_views.home")
    return redirect(target if target.startswith(request.host_url) or target.startswith("/") else "/")


@bp.route("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    from orders import services as orders_services

    rounds = orders_services.list_rounds(current_user)
    return render_template("network/home.html", rounds=rounds)
