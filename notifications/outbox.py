"""Writing notifications: the subscriber of ``core.notify``, run inside the emitting domain's transaction.

Each recipient gets one in-app row per event and one pending delivery per channel they use, both
inserted with ``ON CONFLICT DO NOTHING`` on their unique keys: an event emitted twice (a retried job,
two racing requests) writes nothing the second time. Many events at once (one per group of a round)
take a constant number of statements. One send job is enqueued in the same transaction; ``core.jobs``
hands it to a worker only after commit.
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
from core.db import db, is_postgres
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
    if is_postgres():
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
    for member in set(audience):
        if member.role == "committee":
            clauses.append(User.role.in_(("committee", "admin")))
            continue
        role = "leader" if member.role == "leaders" else "seller"
        if member.group_id is None:
            clauses.append(User.role == role)
        else:
            clauses.append(and_(User.role == role, User.group_id == member.group_id))
    return or_(*clauses) if clauses else false()


def _matches(audience: Iterable[Audience], role: str, group_id: int | None) -> bool:
    for member in audience:
        if member.role == "committee":
            if role in ("committee", "admin"):
                return True
        elif role == ("leader" if member.role == "leaders" else "seller") and \
                (member.group_id is None or member.group_id == group_id):
            return True
    return False


@dataclass(frozen=True)
class _Person:
    user_id: int
    role: str
    group_id: int | None
    recipient: Recipient


def _people(network_id: int, who: Any) -> list[_Person]:
    rows = db.session.execute(
        select(User.id, User.role, User.group_id, User.locale, User.email, NotificationSettings.email,
               NotificationSettings.line, NotificationSettings.line_user_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(User.network_id == network_id, User.active.is_(True), who)
        .order_by(User.id)
    ).all()
    available = enabled_channels()
    found = []
    for user_id, role, group_id, locale, address, email_on, line_on, line_id in rows:
        channels = []
        if "line" in available and line_on and line_id:
            channels.append("line")
        if "email" in available and (email_on is None or email_on) and address:
            channels.append("email")
        recipient = Recipient(user_id, locale if locale in ("th", "en") else "th", tuple(channels))
        found.append(_Person(user_id, role, group_id, recipient))
    return found


def recipients(network_id: int, audience: Iterable[Audience] = (), user_ids: Sequence[int] = ()) -> list[Recipient]:
    """Active users of the network in the audience (or named), with the channels each will hear on.
    Always filtered by the event's network: a group id of another network finds nobody."""
    who = _audience_filter(audience) if not user_ids else User.id.in_(list(user_ids))
    return [p.recipient for p in _people(network_id, who)]


@dataclass(frozen=True)
class Message:
    """One event's words for its recipients."""

    key: str
    kind: str
    people: Sequence[Recipient]
    context: Mapping[str, Value]
    link: str


def write(network_id: int, messages: Sequence[Message]) -> int:
    """In-app rows and pending deliveries, a constant number of statements for any number of messages;
    one send job for them all. Returns how many in-app rows were new."""
    messages = [m for m in messages if m.people]
    if not messages:
        return 0
    timezone = db.session.scalar(select(Network.timezone).where(Network.id == network_id)) or "Asia/Bangkok"
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for m in messages:
        texts = {locale: render(m.kind, m.context, locale, timezone) for locale in {p.locale for p in m.people}}
        rows += [{"network_id": network_id, "user_id": p.user_id, "event_key": m.key, "kind": m.kind,
                  "title": texts[p.locale][0], "body": texts[p.locale][1], "link": m.link[:400], "created_at": now}
                 for p in m.people]
    new: dict[tuple[str, int], int] = {}
    for start in range(0, len(rows), CHUNK):
        stmt = _insert(Notification).values(rows[start:start + CHUNK]) \
            .on_conflict_do_nothing(index_elements=["event_key", "user_id"]) \
            .returning(Notification.id, Notification.event_key, Notification.user_id)
        new.update({(key, user_id): nid for nid, key, user_id in db.session.execute(stmt)})
    deliveries = [
        {"notification_id": new[(m.key, p.user_id)], "network_id": network_id, "user_id": p.user_id,
         "event_key": m.key, "channel": channel, "state": "pending", "attempts": 0, "next_attempt_at": now,
         "created_at": now}
        for m in messages for p in m.people if (m.key, p.user_id) in new for channel in p.channels
    ]
    for start in range(0, len(deliveries), CHUNK):
        db.session.execute(_insert(Delivery).values(deliveries[start:start + CHUNK])
                           .on_conflict_do_nothing(index_elements=["event_key", "user_id", "channel"]))
    if deliveries:
        jobs.enqueue(SEND_JOB, {"network_id": network_id}, network_id=network_id,
                     dedupe_key=f"notify:{messages[0].key}"[:200])
    return len(new)


def record_events(events: Sequence[Event]) -> None:
    """The ``core.notify`` subscriber: resolve each audience within its network and write, per network
    one query for the people and one batch of inserts."""
    by_network: dict[int, list[Event]] = {}
    for event in events:
        by_network.setdefault(event.network_id, []).append(event)
    for network_id, group in by_network.items():
        people = _people(network_id, _audience_filter(a for e in group for a in e.audience))
        write(network_id, [Message(e.key, e.kind, [p.recipient for p in people
                                                   if _matches(e.audience, p.role, p.group_id)], e.context, e.link)
                           for e in group])
