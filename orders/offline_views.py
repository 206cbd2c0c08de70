"""The order page's own JSON write, for a phone sending an order it kept while offline.

``PUT /rounds/<id>/order`` with the page's session cookie, the ``X-CSRFToken`` header and an
``Idempotency-Key``: the same schema and the same service as ``PUT /api/v1/rounds/<id>/orders/<group>``,
so the same rules; a repeat of the key gets the first answer back and writes nothing. The API itself
stays bearer-token only (see docs/offline.md for why). The answer carries the order that stands now
and the one it replaced, so the phone can tell the leader when another phone had changed it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError

from core.errors import DomainError, Forbidden, InvalidInput, NotAuthenticated, error_body
from core.idempotency import idempotent
from orders import services
from orders.schemas import GroupOrderInSchema, GroupOrderOutSchema

bp = Blueprint("orders_offline", __name__)


def page_leader() -> Any:
    """The session's user, who must be a group's leader (as on the order page)."""
    if not current_user.is_authenticated:
        raise NotAuthenticated("Your session has ended; log in again and the order will be sent.")
    if current_user.role != "leader" or not current_user.group_id:
        raise Forbidden("Only a group's leader places the group's order.")
    return current_user._get_current_object()


def _json(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


_once_per_key: Callable[[Callable[..., Response]], Callable[..., Response]] = idempotent(actor=page_leader)


@bp.route("/rounds/<int:round_id>/order", methods=["PUT"])
@_once_per_key
def put_order(round_id: int) -> Response:
    actor = page_leader()
    if not request.is_json:
        raise InvalidInput("Send the order as JSON.", {"_schema": ["Content-Type must be application/json."]})
    try:
        data = GroupOrderInSchema().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("Some fields are not valid: " + ", ".join(sorted(fields)), fields) from exc
    previous = services.get_group_order(actor, round_id, actor.group_id)
    placed = services.replace_group_order(actor, round_id, actor.group_id, data["lines"])
    schema = GroupOrderOutSchema()
    return _json({"order": schema.dump(placed), "previous": schema.dump(previous)}, 200)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    from core.db import db

    db.session.rollback()
    return _json(error.to_dict(), error.status)


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Response:
    return _json(error_body(400, "csrf", f"CSRF: {error.description}"), 400)
