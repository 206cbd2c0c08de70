"""GET /api/v1/audit: the audit trail, for the committee and the admin. Read-only by construction.

Who changed prices (offers, listings), orders, receipts, payments and summary reviews, when, and from
what to what. There is no route that writes, changes or deletes an event (PUT/PATCH/DELETE/POST answer
405), and the ORM refuses to update or delete an :class:`AuditEvent` row (``core.audit``), so no service
can either. The network registers it (it joins the users' names).
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, TypedDict

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from core.api import ApiResult
from core.auth import api_actor
from core.db import db
from core.errors import Forbidden
from core.models import AuditEvent
from network.models import User

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1", description="Audit trail (read-only)")


# --- the read side -----------------------------------------------------------------------------------

class AuditArgs(Schema):
    subject = fields.String(load_default=None, validate=validate.Length(max=64),
                            metadata={"description": "e.g. listing, offer, group_order, purchase_order, invoice"})
    subject_id = fields.String(load_default=None, validate=validate.Length(max=64))
    action = fields.String(load_default=None, validate=validate.Length(max=64),
                           metadata={"description": "e.g. listing.update, invoice.payment, summary.review"})
    user_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.AwareDateTime(format="iso")
    user_id = fields.Integer(allow_none=True)
    user_name = fields.String(allow_none=True)
    action = fields.String()
    subject = fields.String()
    subject_id = fields.String()
    before = fields.Raw(allow_none=True, metadata={"description": "The values before the change (null: created)"})
    after = fields.Raw(allow_none=True, metadata={"description": "The values after the change"})


def can_read_audit(user: Any) -> bool:
    return user.role in ("committee", "admin")


class AuditEventView(TypedDict):
    id: int
    created_at: datetime
    user_id: int | None
    user_name: str | None
    action: str
    subject: str
    subject_id: str
    before: Any
    after: Any


def list_events(actor: Any, args: dict[str, Any]) -> tuple[list[AuditEventView], int]:
    """The actor's network's events, newest first; only the committee and the admin read them."""
    if not can_read_audit(actor):
        raise Forbidden("Only the committee and the admin read the audit trail.")
    where = [AuditEvent.network_id == actor.network_id]
    for name in ("subject", "subject_id", "action", "user_id"):
        if args.get(name) is not None:
            where.append(getattr(AuditEvent, name) == args[name])
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    page, per_page = args.get("page", 1), args.get("per_page", 50)
    rows = db.session.execute(
        select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.user_id).where(*where)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    items: list[AuditEventView] = [
        {"id": e.id, "created_at": e.created_at, "user_id": e.user_id, "user_name": name, "action": e.action,
         "subject": e.subject, "subject_id": e.subject_id, "before": e.before, "after": e.after}
        for e, name in rows]
    return items, int(total)


def page_headers(total: int, page: int, per_page: int) -> dict[str, str]:
    total_pages = max(1, math.ceil(total / per_page))
    info: dict[str, Any] = {"total": total, "total_pages": total_pages, "page": page, "per_page": per_page,
                            "first_page": 1, "last_page": total_pages}
    if page > 1:
        info["previous_page"] = min(page - 1, total_pages)
    if page < total_pages:
        info["next_page"] = page + 1
    return {"X-Pagination": json.dumps(info), "X-Total-Count": str(total)}


@blp.route("/audit")
class AuditTrail(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditEventSchema(many=True), headers={"X-Pagination": {"schema": {"type": "string"}}})
    def get(self, args: dict[str, Any]) -> ApiResult:
        """Who changed what, when, from what to what (committee and admin; newest first, paginated)."""
        items, total = list_events(api_actor(), args)
        return items, page_headers(total, args["page"], args["per_page"])
