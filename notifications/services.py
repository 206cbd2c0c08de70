"""Use cases of the notifications a user sees: list, unread count, mark read, settings; and the
admin's view of deliveries that failed. One function, one transaction; permissions checked here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import TypedDict

from sqlalchemy import func, select, update

from core.clock import utcnow
from core.db import db
from core.errors import Forbidden, InvalidInput, NotFound
from network.models import User
from notifications import permissions
from notifications.models import DEFAULT_QUIET_FROM, DEFAULT_QUIET_UNTIL, Delivery, Notification, NotificationSettings

LINE_USER_ID = re.compile(r"^U[0-9a-f]{32}$")
MAX_LIST = 500


@dataclass(frozen=True)
class Settings:
    email: bool
    line: bool
    line_user_id: str | None
    quiet_from: time
    quiet_until: time
    line_blocked_at: datetime | None


class SettingsInput(TypedDict):
    email: bool
    line: bool
    line_user_id: str | None
    quiet_from: time
    quiet_until: time


@dataclass(frozen=True)
class FailedDelivery:
    id: int
    channel: str
    attempts: int
    last_error: str | None
    created_at: datetime
    user_name: str
    user_email: str
    title: str


def list_notifications(actor: User, limit: int = 100, unread_only: bool = False) -> list[Notification]:
    """The caller's own notifications, newest first."""
    query = select(Notification).where(Notification.user_id == actor.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(max(1, min(limit, MAX_LIST)))
    return list(db.session.scalars(query))


def unread_count(actor: User) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0)


def mark_read(actor: User, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read (again is harmless: the first time is kept).
    Another user's notification does not exist for the caller."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or not permissions.can_read(actor, notification):
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.commit()
    return notification


def mark_all_read(actor: User) -> int:
    ids = list(db.session.scalars(update(Notification).where(Notification.user_id == actor.id,
                                                             Notification.read_at.is_(None))
                                  .values(read_at=utcnow()).returning(Notification.id)))
    db.session.commit()
    return len(ids)


def _view(row: NotificationSettings | None) -> Settings:
    if row is None:
        return Settings(True, False, None, DEFAULT_QUIET_FROM, DEFAULT_QUIET_UNTIL, None)
    return Settings(row.email, row.line, row.line_user_id, row.quiet_from, row.quiet_until, row.line_blocked_at)


def get_settings(actor: User) -> Settings:
    settings = _view(db.session.get(NotificationSettings, actor.id))
    db.session.rollback()
    return settings


def update_settings(actor: User, data: SettingsInput) -> Settings:
    """Replace the caller's settings. LINE needs a LINE user id (``U`` and 32 hex digits)."""
    line_id = (data.get("line_user_id") or "").strip() or None
    if line_id is not None and not LINE_USER_ID.match(line_id):
        raise InvalidInput("Some fields are not valid: line_user_id",
                           {"line_user_id": ["A LINE user id is U followed by 32 hexadecimal digits."]})
    if data["line"] and line_id is None:
        raise InvalidInput("Some fields are not valid: line_user_id",
                           {"line_user_id": ["Required to receive LINE messages."]})
    row = db.session.get(NotificationSettings, actor.id)
    if row is None:
        row = NotificationSettings(user_id=actor.id)
        db.session.add(row)
    row.email = bool(data["email"])
    if data["line"] and not row.line:
        row.line_blocked_at = None  # turned on again by the user: try LINE again
    row.line = bool(data["line"])
    row.line_user_id = line_id
    row.quiet_from = data["quiet_from"].replace(second=0, microsecond=0, tzinfo=None)
    row.quiet_until = data["quiet_until"].replace(second=0, microsecond=0, tzinfo=None)
    row.updated_at = utcnow()
    db.session.commit()
    return _view(row)


def failed_deliveries(actor: User, limit: int = 200) -> list[FailedDelivery]:
    """Deliveries of the admin's network that failed after their last try, newest first."""
    if not permissions.can_see_failed_deliveries(actor):
        raise Forbidden("Only the network admin sees failed deliveries.")
    rows = db.session.execute(
        select(Delivery.id, Delivery.channel, Delivery.attempts, Delivery.last_error, Delivery.created_at,
               User.name, User.email, Notification.title)
        .join(User, User.id == Delivery.user_id)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.network_id == actor.network_id, Delivery.state == "failed")
        .order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    ).all()
    db.session.rollback()
    return [FailedDelivery(*row) for row in rows]


def retry_delivery(actor: User, delivery_id: int) -> None:
    """The admin tries a failed delivery again (the sweep sends it within a minute)."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.network_id != actor.network_id:
        raise NotFound("No such delivery.")
    if not permissions.can_retry_delivery(actor, delivery):
        raise Forbidden("Only the network admin retries deliveries.")
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.state == "failed")
                       .values(state="pending", attempts=0, next_attempt_at=utcnow()))
    db.session.commit()
