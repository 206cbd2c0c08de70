"""The two outside channels, each through its own well-kept client library.

LINE: the official ``line-bot-sdk`` (v3 ``MessagingApi.push_message``), its host configurable so that
tests talk to a stand-in on 127.0.0.1. E-mail: Flask-Mailman over SMTP. Each send either returns
(delivered), or raises one of the three outcomes below; the sender decides what follows. Only the
channels' own errors become these outcomes (the LINE SDK's ``ApiException``, urllib3's errors, SMTP's
``SMTPException``, ``OSError`` of a connection); any other exception is a bug and goes up as it is.
"""
from __future__ import annotations

import smtplib
import threading
import uuid
from typing import Any

from flask import Flask, current_app

# The two client libraries are imported when a message is first sent, not at start-up: line-bot-sdk's
# models alone take seconds to import, and a web process that never sends need not pay for them.
_mail_lock = threading.Lock()
LINE_DEFAULT_ENDPOINT = "https://api.line.me"
LINE_TEXT_LIMIT = 5000
# What LINE answers when a push cannot reach the user: they blocked the account, never added it as a
# friend, or the id names nobody.
_UNREACHABLE = ("block", "friend", "not found", "'to'", "invalid to", "invalid user")


class Unreachable(Exception):
    """The user cannot be reached on this channel (blocked LINE account): switch it off for them."""


class Permanent(Exception):
    """Retrying will not help (a refused address, a malformed request)."""


class Transient(Exception):
    """Try again later (network, timeouts, rate limits, server errors)."""


def retry_key(delivery_id: int) -> str:
    """The same UUID for every attempt of one delivery: LINE accepts a retry key once (409 after)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ruamsue-delivery-{delivery_id}"))


def send_line(delivery_id: int, to: str, text: str) -> None:
    import urllib3
    from linebot.v3.messaging import ApiClient, ApiException, Configuration, MessagingApi, PushMessageRequest, TextMessage

    config = current_app.config
    configuration = Configuration(access_token=config["LINE_CHANNEL_ACCESS_TOKEN"])
    try:
        with ApiClient(configuration) as client:
            api = MessagingApi(client)
            api.line_base_path = str(config.get("LINE_API_ENDPOINT") or LINE_DEFAULT_ENDPOINT).rstrip("/")
            api.push_message(PushMessageRequest(to=to, messages=[TextMessage(text=text[:LINE_TEXT_LIMIT])]),
                             x_line_retry_key=retry_key(delivery_id),
                             _request_timeout=float(config.get("NOTIFY_SEND_TIMEOUT", 10)))
    except ApiException as exc:
        status = int(exc.status or 0)
        body = (exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or ""))
        if status == 409:
            return  # this retry key was accepted before: the message went out on an earlier attempt
        if status in (400, 403, 404) and any(word in body.lower() for word in _UNREACHABLE):
            raise Unreachable(f"LINE {status}: {body[:300]}") from exc
        if status == 429 or status >= 500 or status in (0, 401):
            raise Transient(f"LINE {status}: {body[:300]}") from exc
        raise Permanent(f"LINE {status}: {body[:300]}") from exc
    except (TimeoutError, OSError, urllib3.exceptions.HTTPError) as exc:
        # The connection: refused, reset, timed out (urllib3's own errors, the HTTP client the SDK uses).
        raise Transient(f"LINE: {exc.__class__.__name__}: {exc}") from exc


def send_reply(reply_token: str, text: str) -> None:
    """The bot's answer to a webhook event (LINE's reply API: free, and only within a minute of the event).
    Raises ``Transient`` or ``Permanent`` as a push does; the webhook logs it and carries on."""
    from linebot.v3.messaging import ApiClient, ApiException, Configuration, MessagingApi, ReplyMessageRequest, TextMessage

    config = current_app.config
    configuration = Configuration(access_token=config["LINE_CHANNEL_ACCESS_TOKEN"])
    try:
        with ApiClient(configuration) as client:
            api = MessagingApi(client)
            api.line_base_path = str(config.get("LINE_API_ENDPOINT") or LINE_DEFAULT_ENDPOINT).rstrip("/")
            api.reply_message(ReplyMessageRequest(reply_token=reply_token,
                                                  messages=[TextMessage(text=text[:LINE_TEXT_LIMIT])]),
                              _request_timeout=float(config.get("NOTIFY_SEND_TIMEOUT", 10)))
    except ApiException as exc:
        status = int(exc.status or 0)
        kind = Transient if status == 429 or status >= 500 or status == 0 else Permanent
        raise kind(f"LINE reply {status}: {str(exc.body or '')[:300]}") from exc
    except Exception as exc:  # noqa: BLE001 - sockets and urllib3's own errors
        raise Transient(f"LINE reply: {exc.__class__.__name__}: {exc}") from exc


def _mail(app: Flask) -> Any:
    """Flask-Mailman's extension of this app, set up on first use."""
    from flask_mailman import Mail

    with _mail_lock:
        if "ruamsue_mail" not in app.extensions:
            mail = Mail()
            mail.init_app(app)
            app.extensions["ruamsue_mail"] = mail
        return app.extensions["ruamsue_mail"]


def send_email(delivery_id: int, to: str, subject: str, body: str) -> None:
    from flask_mailman import EmailMessage

    config = current_app.config
    mail = _mail(current_app._get_current_object())  # type: ignore[attr-defined]
    domain = str(config.get("MAIL_MESSAGE_ID_DOMAIN") or "ruamsue.local")
    message = EmailMessage(subject=subject, body=body, to=[to],
                           from_email=config.get("MAIL_DEFAULT_SENDER") or "ruamsue@localhost",
                           headers={"Message-ID": f"<notification-{delivery_id}@{domain}>"})
    try:
        # Settings read at send time (not frozen at start-up), so a test or an operator can point it elsewhere.
        connection = mail.get_connection(
            fail_silently=False, host=config["MAIL_SERVER"], port=int(config.get("MAIL_PORT") or 25),
            username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
            use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
            timeout=float(config.get("NOTIFY_SEND_TIMEOUT", 10)))
        message.connection = connection
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Permanent(f"SMTP refused {to}: {exc.recipients}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Transient(f"SMTP: {exc.__class__.__name__}: {exc}") from exc
