"""Settings of notifications, from the environment (documented in docs/notifications.md)."""
from __future__ import annotations

import os


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def load() -> dict[str, object]:
    """Defaults for the app config; values given to create_app win."""
    return {
        # LINE Messaging API: the channel access token turns LINE on; the endpoint is for a stand-in.
        "LINE_CHANNEL_ACCESS_TOKEN": os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", ""),
        "LINE_API_ENDPOINT": os.environ.get("LINE_API_ENDPOINT", "https://api.line.me"),
        # The channel secret turns the webhook (/line/webhook) on: LINE signs every call with it.
        "LINE_CHANNEL_SECRET": os.environ.get("LINE_CHANNEL_SECRET", ""),
        # The official account's basic ID ("@123abcde"): the add-friend button, QR code and send-the-code link.
        "LINE_BOT_BASIC_ID": os.environ.get("LINE_BOT_BASIC_ID", ""),
        "LINE_LINK_CODE_MINUTES": int(os.environ.get("LINE_LINK_CODE_MINUTES", "15")),
        # Wrong codes one LINE user may send in a window before the bot stops looking at codes from them.
        "LINE_LINK_MAX_FAILURES": int(os.environ.get("LINE_LINK_MAX_FAILURES", "5")),
        "LINE_LINK_WINDOW_MINUTES": int(os.environ.get("LINE_LINK_WINDOW_MINUTES", "15")),
        # LINE Login (OpenID Connect): both turn "log in with LINE" on; the metadata URL is for a stand-in.
        "LINE_LOGIN_CHANNEL_ID": os.environ.get("LINE_LOGIN_CHANNEL_ID", ""),
        "LINE_LOGIN_CHANNEL_SECRET": os.environ.get("LINE_LOGIN_CHANNEL_SECRET", ""),
        "LINE_LOGIN_METADATA_URL": os.environ.get("LINE_LOGIN_METADATA_URL",
                                                  "https://access.line.me/.well-known/openid-configuration"),
        # E-mail over SMTP (Flask-Mailman): MAIL_SERVER turns e-mail on.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_TIMEOUT": int(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Ruamsue <no-reply@localhost>"),
        # Links in LINE and e-mail messages: the site's address, e.g. https://ruamsue.example.org
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "NOTIFY_MAX_ATTEMPTS": int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "5")),
        "NOTIFY_RETRY_BASE": float(os.environ.get("NOTIFY_RETRY_BASE", "60")),
        "NOTIFY_SENDING_TIMEOUT": float(os.environ.get("NOTIFY_SENDING_TIMEOUT", "600")),
        "NOTIFY_SEND_TIMEOUT": float(os.environ.get("NOTIFY_SEND_TIMEOUT", "10")),
    }
