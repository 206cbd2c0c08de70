"""Writing notifications: the subscriber of ``core.notify``, run inside the emitting domain's transaction.

Each recipient gets one in-app row per event and one pending delivery per channel they use, both
inserted with ``ON CONFLICT DO NOTHING`` on their unique keys: an event emitted twice (a retried job,
two racing requests) writes nothing the second time. A send job is enqueued in the same transaction;
``core.jobs`` hands it to a worker only after commit.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from core import jobs
from core.clock import utcnow
from core.db import db
from core.notify import Audience, Event, Value
from network.models import Network, User
from notifications.messages import render
from notifications.models import Delivery, Notification, NotificationSettings

SEND_JOB = "notifications.send"
CHUNK = 1000


@dataclass(frozen=True)
class Recipient:
    user_id: int
    locale: str
    channels: tuple[str, ...]


def _insert(model: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def enabled_channels() -> tuple[str, ...]:
    """The channels this deployment can send on (configured in the environment)."""
    config = current_app.config
    found = []
    if config.get("LINE_CHANNEL_ACCESS_TOKEN"):
        found.append("line")
    if config.get("MAIL_SERVER"):
        found.append("email")
    return tuple(found)


def _audience_filter(audience: Iterable[Audience]) -> Any:
    clauses: list[ColumnElement[bool]] = []
    for member in audience:
        if member.role == "committee":
            clauses.append(User.role.in_(("committee", "admin")))
            continue
        role = "leader" if member.role == "leaders" else "seller"
        if member.group_id is None:
            clauses.append(User.role == role)
        else:
            clauses.append(and_(User.role == role, User.group_id == member.group_id))
    return or_(*clauses) if clauses else false()


def recipients(network_id: int, audience: Iterable[Audience] = (), user_ids: Sequence[int] = ()) -> list[Recipient]:
    """Active users of the network in the audience (or named), with the channels each will hear on.
    Always filtered by the event's network: a group id of another network finds nobody."""
    who = _audience_filter(audience) if not user_ids else User.id.in_(list(user_ids))
    rows = db.session.execute(
        select(User.id, User.locale, User.email, NotificationSettings.email, NotificationSettings.line,
               NotificationSettings.line_user_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(User.network_id == network_id, User.active.is_(True), who)
        .order_by(User.id)
    ).all()
    available = enabled_channels()
    found = []
    for user_id, locale, address, email_on, line_on, line_id in rows:
        channels = []
        if "line" in available and line_on and line_id:
            channels.append("line")
        if "email" in available and (email_on is None or email_on) and address:
            channels.append("email")
        found.append(Recipient(user_id, locale if locale in ("th", "en") else "th", tuple(channels)))
    return found


def write(network_id: int, key: str, kind: str, people: Sequence[Recipient], context: Mapping[str, Value],
          link: str) -> int:
    """In-app rows and pending deliveries for ``people``; returns how many in-app rows were new."""
    if not people:
        return 0
    timezone = db.session.scalar(select(Network.timezone).where(Network.id == network_id)) or "Asia/Bangkok"
    texts = {locale: render(kind, context, locale, timezone) for locale in {p.locale for p in people}}
    now = utcnow()
    new: dict[int, int] = {}
    for start in range(0, len(people), CHUNK):
        chunk = people[start:start + CHUNK]
        stmt = _insert(Notification).values([
            {"network_id": network_id, "user_id": p.user_id, "event_key": key, "kind": kind,
             "title": texts[p.locale][0], "body": texts[p.locale][1], "link": link[:400], "created_at": now}
            for p in chunk
        ]).on_conflict_do_nothing(index_elements=["event_key", "user_id"]).returning(Notification.id,
                                                                                     Notification.user_id)
        new.update({user_id: nid for nid, user_id in db.session.execute(stmt)})
    deliveries = [
        {"notification_id": new[p.user_id], "network_id": network_id, "user_id": p.user_id, "event_key": key,
         "channel": channel, "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
        for p in people if p.user_id in new for channel in p.channels
    ]
    for start in range(0, len(deliveries), CHUNK):
        db.session.execute(_insert(Delivery).values(deliveries[start:start + CHUNK])
                           .on_conflict_do_nothing(index_elements=["event_key", "user_id", "channel"]))
    if deliveries:
        jobs.enqueue(SEND_JOB, {"event_key": key}, network_id=network_id, dedupe_key=f"notify:{key}"[:200])
    return len(new)


def record_event(event: Event) -> None:
    """The ``core.notify`` subscriber: resolve the audience within the network and write."""
    people = recipients(event.network_id, event.audience)
    write(event.network_id, event.key, event.kind, people, event.context, event.link)
