"""The audit trail: one row per change of money, prices, orders, receipts, payments and reviews."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper

from core.clock import utcnow
from core.db import db
from core.models import AuditEvent


class AuditTrailIsReadOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(AuditEvent, "before_update")
def _no_update(mapper: Mapper[Any], connection: Any, target: AuditEvent) -> None:
    raise AuditTrailIsReadOnly("audit events are never changed")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(mapper: Mapper[Any], connection: Any, target: AuditEvent) -> None:
    raise AuditTrailIsReadOnly("audit events are never deleted")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record(actor: Any, action: str, subject: str, subject_id: Any, before: Any, after: Any) -> None:
    """Add the event to the caller's transaction: it commits, or vanishes, with the change itself."""
    db.session.add(AuditEvent(
        network_id=actor.network_id, user_id=getattr(actor, "id", None), action=action, subject=subject,
        subject_id=str(subject_id), before=_plain(before), after=_plain(after), created_at=utcnow(),
    ))
