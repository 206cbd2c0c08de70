"""Log in with LINE (LINE Login, OpenID Connect through Authlib), on when ``LINE_LOGIN_CHANNEL_ID`` and
``LINE_LOGIN_CHANNEL_SECRET`` are set. Authlib keeps the state in the session and checks it, sends a PKCE
challenge (S256) and its verifier, and verifies the ID token (signature, issuer, audience, expiry, nonce).

The ID token's ``sub`` is the LINE user id (the Login channel and the Messaging API channel must be under
the same LINE provider, docs/notifications.md). A LINE account connected to a user signs that user in; one
connected to nobody is told to ask the group's leader: no account is ever made here. The settings page
uses the same flow to connect the signed-in user's LINE.
"""
from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from core.errors import NotAuthenticated, NotFound
from core.web import limiter

if TYPE_CHECKING:
    from authlib.integrations.flask_client import FlaskOAuth2App
from notifications import line_link

bp = Blueprint("line_login", __name__, template_folder="templates")
log = logging.getLogger(__name__)
INTENT = "line_login_intent"


def enabled() -> bool:
    config = current_app.config
    return bool(config.get("LINE_LOGIN_CHANNEL_ID") and config.get("LINE_LOGIN_CHANNEL_SECRET"))


def _client() -> FlaskOAuth2App:
    """Authlib's client for this configuration (kept: it caches LINE's metadata and signing keys)."""
    from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App

    class LineLogin(FlaskOAuth2App):
        """LINE signs a web app's ID token with HS256 and the channel secret, a native app's with ES256
        (keys at jwks_uri): both are accepted, nothing else."""

        def load_server_metadata(self) -> dict[str, Any]:
            metadata = super().load_server_metadata()
            algorithms = [a for a in metadata.get("id_token_signing_alg_values_supported") or ["ES256"]
                          if a in ("ES256", "HS256")]
            metadata["id_token_signing_alg_values_supported"] = sorted({*algorithms, "HS256"})
            return metadata

        def parse_id_token(self, token: dict[str, Any], nonce: str, claims_options: Any = None, claims_cls: Any = None,
                           leeway: int = 120) -> Any:
            # Which keys to verify with depends on how the token says it is signed (checked against them).
            g.line_id_token_alg = _header_alg(str(token.get("id_token") or ""))
            return super().parse_id_token(token, nonce, claims_options, claims_cls, leeway)

        def fetch_jwk_set(self, force: bool = False) -> dict[str, Any]:
            if g.get("line_id_token_alg") == "HS256":
                secret = base64.urlsafe_b64encode(self.client_secret.encode()).rstrip(b"=").decode()
                return {"keys": [{"kty": "oct", "alg": "HS256", "use": "sig", "k": secret}]}
            return {"keys": [k for k in super().fetch_jwk_set(force).get("keys", []) if k.get("kty") != "oct"]}

    config = current_app.config
    key = (config["LINE_LOGIN_CHANNEL_ID"], config["LINE_LOGIN_CHANNEL_SECRET"], config["LINE_LOGIN_METADATA_URL"])
    clients: dict[tuple[str, str, str], FlaskOAuth2App] = current_app.extensions.setdefault("ruamsue_line_login", {})
    if key not in clients:
        clients[key] = LineLogin(
            FlaskIntegration("line"), "line", client_id=key[0], client_secret=key[1], server_metadata_url=key[2],
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256",
                           "token_endpoint_auth_method": "client_secret_post",
                           "default_timeout": float(config.get("NOTIFY_SEND_TIMEOUT", 10))})
    return clients[key]


def _header_alg(id_token: str) -> str | None:
    try:
        head = id_token.split(".", 1)[0]
        return str(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))).get("alg"))
    except (ValueError, AttributeError):
        return None


def _callback_url() -> str:
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    path = url_for("line_login.callback")
    return base + path if base else url_for("line_login.callback", _external=True)


def _start(intent: str) -> ResponseReturnValue:
    if not enabled():
        abort(404)
    session[INTENT] = intent
    try:
        return _client().authorize_redirect(_callback_url())
    except Exception as exc:  # noqa: BLE001 - LINE's metadata unreachable: say so, never a 5xx
        log.warning("LINE Login could not start: %s: %s", exc.__class__.__name__, exc)
        return _problem(_("ติดต่อ LINE ไม่ได้ในขณะนี้ กรุณาลองใหม่อีกครั้งในอีกสักครู่"), 503)


@bp.route("/login/line")
def start() -> ResponseReturnValue:
    """The "log in with LINE" button."""
    return _start("login")


@bp.route("/notifications/line/connect", methods=["POST"])
@login_required
def connect() -> ResponseReturnValue:
    """The settings page's "connect with LINE Login" button: the same flow, for the signed-in user."""
    return _start(f"connect:{current_user.id}")


@bp.route("/welcome/<token>/line", methods=["POST"])
@limiter.limit("30 per minute")
def welcome(token: str) -> ResponseReturnValue:
    """The invitation page's "connect LINE" button: the same flow; coming back, the invitation is used, the
    LINE account connected and the user logged in (no password set). Only the link's hash is kept meanwhile."""
    from network import access

    if not enabled():
        abort(404)
    try:
        token_hash = access.token_hash_of_open_link(token)
    except NotFound:
        return _problem(_("ลิงก์นี้ถูกใช้ไปแล้วหรือหมดอายุ ขอลิงก์ใหม่จากผู้ดูแลเครือข่าย หรือเข้าสู่ระบบถ้าตั้งรหัสผ่านแล้ว"), 404)
    answer = make_response(_start(f"invite:{token_hash}"))
    answer.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return answer


def _problem(text: str, status: int) -> ResponseReturnValue:
    return render_template("notifications/line_login_problem.html", text=text), status


@bp.route("/login/line/callback")
def callback() -> ResponseReturnValue:
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError
    from requests import RequestException

    if not enabled():
        abort(404)
    intent = str(session.pop(INTENT, "login"))
    try:
        token = _client().authorize_access_token()
        line_user_id = str((token.get("userinfo") or {}).get("sub") or "")
    except (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError) as exc:
        # A wrong or replayed state, a refused code, a PKCE mismatch, an ID token that does not verify.
        log.warning("LINE Login refused: %s: %s", exc.__class__.__name__, exc)
        cancelled = isinstance(exc, AuthlibBaseError) and getattr(exc, "error", None) == "access_denied"
        return _problem(_("ยกเลิกการเข้าสู่ระบบด้วย LINE แล้ว") if cancelled else
                        _("ยืนยันตัวตนกับ LINE ไม่สำเร็จ จึงยังไม่ได้เข้าสู่ระบบ กรุณาลองใหม่อีกครั้ง"), 400)
    if not line_user_id:
        return _problem(_("ยืนยันตัวตนกับ LINE ไม่สำเร็จ จึงยังไม่ได้เข้าสู่ระบบ กรุณาลองใหม่อีกครั้ง"), 400)
    if intent.startswith("connect:"):
        if not getattr(current_user, "is_authenticated", False) or intent != f"connect:{current_user.id}":
            return _problem(_("หมดเวลาการเชื่อมต่อ กรุณาเข้าสู่ระบบแล้วกดเชื่อมต่อ LINE อีกครั้ง"), 400)
        line_link.connect_by_login(current_user, line_user_id)
        flash(_("เชื่อมต่อ LINE แล้ว จากนี้จะได้รับการแจ้งเตือนทาง LINE และเข้าสู่ระบบด้วย LINE ได้"), "ok")
        return redirect(url_for("notifications_views.settings"))
    if intent.startswith("invite:"):
        try:
            user = line_link.accept_invitation(intent.removeprefix("invite:"), line_user_id)
        except NotFound:
            return _problem(_("ลิงก์นี้ถูกใช้ไปแล้วหรือหมดอายุ ขอลิงก์ใหม่จากผู้ดูแลเครือข่าย หรือเข้าสู่ระบบถ้าตั้งรหัสผ่านแล้ว"), 404)
        login_user(user)
        flash(_("เชื่อมต่อ LINE แล้ว ยินดีต้อนรับ %(name)s ครั้งหน้ากด \"เข้าสู่ระบบด้วย LINE\" ได้เลย", name=user.name), "ok")
        return redirect(url_for("network_views.home"))
    try:
        user = line_link.user_for_login(line_user_id)
    except NotAuthenticated:
        return _problem(_("บัญชี LINE นี้ยังไม่ได้เชื่อมต่อกับผู้ใช้ในรวมซื้อ กรุณาขอให้ผู้นำกลุ่มหรือผู้ดูแลระบบเพิ่มคุณเป็นผู้ใช้ "
                          "แล้วเข้าสู่ระบบด้วยอีเมลและเชื่อมต่อ LINE ในหน้าตั้งค่าการแจ้งเตือน"), 403)
    login_user(user)
    return redirect(url_for("network_views.home"))


def welcome_button(token: str) -> str:
    """The invitation page's other way in (registered with core.pages.welcome_option)."""
    if not enabled():
        return ""
    return render_template("notifications/_line_welcome_button.html", token=token)


def login_button() -> str:
    """The login page's extra way in (registered with core.pages)."""
    if not enabled():
        return ""
    return render_template("notifications/_line_login_button.html")
