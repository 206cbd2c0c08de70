"""LINE's webhook, ``POST /line/webhook``: on when ``LINE_CHANNEL_SECRET`` is set. line-bot-sdk's parser
checks ``X-Line-Signature`` (base64 HMAC-SHA256 of the raw body with the channel secret) before any
event is looked at: a missing or wrong signature gets 400 and changes nothing. Each event is one use
case (notifications.line_link); the bot's answer goes out with the reply API after that commits."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from notifications import channels, line_link

bp = Blueprint("line_webhook", __name__)
log = logging.getLogger(__name__)


def _answer(event: Any) -> str | None:
    """What the bot says to one event, after doing what the event asks (None: nothing to say)."""
    from linebot.v3.webhooks import FollowEvent, MessageEvent, TextMessageContent, UnfollowEvent, UserSource

    source = getattr(event, "source", None)
    line_user_id = source.user_id if isinstance(source, UserSource) else None
    if not line_user_id:
        return None  # a group chat or a room: the bot links people one by one only
    if isinstance(event, FollowEvent):
        return line_link.follow(line_user_id)
    if isinstance(event, UnfollowEvent):
        line_link.unfollow(line_user_id)
        return None
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        return line_link.message(line_user_id, event.message.text or "")
    return None


@bp.route("/line/webhook", methods=["POST"])
def webhook() -> ResponseReturnValue:
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.webhook import WebhookParser

    secret = str(current_app.config.get("LINE_CHANNEL_SECRET") or "")
    if not secret:
        abort(404)
    body = request.get_data(as_text=True)
    try:
        events = WebhookParser(secret).parse(body, request.headers.get("X-Line-Signature", ""))
    except InvalidSignatureError:
        return jsonify(error={"code": "bad_signature", "message": "X-Line-Signature does not match the body.",
                              "fields": {}}), 400
    except (ValueError, TypeError, KeyError, AttributeError):  # signed, but not LINE's JSON
        return jsonify(error={"code": "bad_request", "message": "The body is not a LINE webhook payload.",
                              "fields": {}}), 400
    for event in events:
        answer = _answer(event)
        token = getattr(event, "reply_token", None)
        if answer and token and current_app.config.get("LINE_CHANNEL_ACCESS_TOKEN"):
            try:
                channels.send_reply(token, answer)
            except (channels.Transient, channels.Permanent) as exc:
                # The link (or block) is already saved; only the bot's words were lost.
                log.warning("LINE reply not sent: %s", exc)
    return jsonify(ok=True)
