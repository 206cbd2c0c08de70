"""Sending deliveries, after the event's transaction committed: by the event's job, and every minute by
the periodic sweep (messages held by quiet hours, retries whose back-off has passed).

A delivery is claimed with one conditional UPDATE (``pending`` -> ``sending``) before anything is
sent, so two senders (a job run twice, the sweep beside the job, two workers) never both send it.
A sender killed after claiming leaves ``sending``; the sweep returns it to ``pending`` after
``NOTIFY_SENDING_TIMEOUT``; LINE's retry key (one per delivery) makes LINE drop a repeat.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, select, update

from core import metrics
from core.clock import utcnow
from core.db import db
from network.models import Network, User
from notifications import channels
from notifications.models import DEFAULT_QUIET_FROM, DEFAULT_QUIET_UNTIL, Delivery, Notification, NotificationSettings
from notifications.quiet import release_time

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    deferred: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "deferred": self.deferred, "retrying": self.retrying, "failed": self.failed,
                "skipped": self.skipped}


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x, 4x ... capped at an hour."""
    base = float(current_app.config.get("NOTIFY_RETRY_BASE", 60))
    return timedelta(seconds=min(3600.0, base * 2 ** max(0, attempts - 1)))


def _set(delivery_id: int, state_from: str, **values: object) -> None:
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.state == state_from)
                       .values(**values))


def message_text(notification: Notification, with_link: bool = True) -> str:
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    text = f"{notification.title}\n{notification.body}"
    if with_link and notification.link:
        text += f"\n{base}{notification.link}"
    return text


def send_one(delivery_id: int, now: datetime | None = None) -> str:
    """Send one pending delivery if its time has come; returns what happened."""
    now = now or utcnow()
    row = db.session.execute(
        select(Delivery, Notification, User, Network.timezone, NotificationSettings)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Delivery.user_id)
        .join(Network, Network.id == Delivery.network_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == Delivery.user_id)
        .where(Delivery.id == delivery_id)
    ).first()
    if row is None or row.Delivery.state != "pending" or row.Delivery.next_attempt_at > now:
        db.session.rollback()
        return "not_due"
    delivery, notification, user, timezone, settings = row
    quiet_from = settings.quiet_from if settings else DEFAULT_QUIET_FROM
    quiet_until = settings.quiet_until if settings else DEFAULT_QUIET_UNTIL
    release = release_time(now, timezone, quiet_from, quiet_until)
    if release > now:
        _set(delivery_id, "pending", next_attempt_at=release)
        db.session.commit()
        return "deferred"
    channel = delivery.channel
    if channel == "line":
        address = settings.line_user_id if settings is not None and settings.line else None
    else:
        address = user.email if (settings is None or settings.email) else None
    if not address or not user.active:
        _set(delivery_id, "pending", state="skipped", last_error="The user turned this channel off.")
        db.session.commit()
        return "skipped"
    claimed = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.state == "pending",
                               Delivery.next_attempt_at <= now)
        .values(state="sending", attempts=Delivery.attempts + 1, claimed_at=now)
        .returning(Delivery.attempts)
    ).scalar()
    db.session.commit()
    if claimed is None:
        return "taken"
    title, text = notification.title, message_text(notification)
    try:
        if channel == "line":
            channels.send_line(delivery_id, address, text)
        else:
            channels.send_email(delivery_id, address, title, text)
    except channels.Unreachable as exc:
        db.session.rollback()
        _line_unreachable(delivery_id, user.id, user.network_id, str(exc))
        return "skipped"
    except (channels.Permanent, channels.Transient) as exc:
        # The channel refused or could not be reached (the LINE SDK's, urllib3's or SMTP's errors,
        # translated in ``channels``): a delivery failure, retried with back-off or given up.
        db.session.rollback()
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        last_try = claimed >= int(current_app.config.get("NOTIFY_MAX_ATTEMPTS", 5))
        if isinstance(exc, channels.Permanent) or last_try:
            _set(delivery_id, "sending", state="failed", last_error=error)
            db.session.commit()
            metrics.NOTIFICATIONS_FAILED.labels(channel=channel).inc()
            return "failed"
        _set(delivery_id, "sending", state="pending", last_error=error, next_attempt_at=now + backoff(claimed))
        db.session.commit()
        return "retrying"
    except Exception:
        # Anything else is a bug (ours, or a library used wrongly), not the channel's answer: it is not
        # recorded or retried as a delivery failure. Logged with its traceback, counted, and raised, so
        # the job fails too. The delivery stays claimed ("sending"); the sweep offers it again after
        # NOTIFY_SENDING_TIMEOUT, so once the fix is deployed the message still goes out.
        db.session.rollback()
        log.exception("sending delivery %s over %s crashed: a bug, not a delivery failure", delivery_id, channel)
        metrics.NOTIFICATION_SEND_ERRORS.labels(channel=channel).inc()
        raise
    _set(delivery_id, "sending", state="sent", sent_at=utcnow(), last_error=None)
    db.session.commit()
    metrics.NOTIFICATIONS_SENT.labels(channel=channel).inc()
    return "sent"


def _line_unreachable(delivery_id: int, user_id: int, network_id: int, error: str) -> None:
    """LINE says the user blocked the account: LINE off for them, pending LINE messages dropped, and
    the user told in the app. One transaction."""
    _set(delivery_id, "sending", state="skipped", last_error=error[:2000])
    switch_line_off(user_id, network_id, "LINE was switched off for this user.")
    db.session.commit()


def switch_line_off(user_id: int, network_id: int, reason: str) -> None:
    """The user cannot be reached on LINE (a push refused, or an unfollow event): LINE off and marked blocked,
    their pending LINE messages dropped, and they are told in the app. In the caller's transaction."""
    from notifications import outbox

    now = utcnow()
    db.session.execute(update(Delivery).where(Delivery.user_id == user_id, Delivery.channel == "line",
                                              Delivery.state == "pending")
                       .values(state="skipped", last_error=reason))
    settings = db.session.get(NotificationSettings, user_id)
    if settings is not None and settings.line:
        settings.line = False
        settings.line_blocked_at = now
        settings.updated_at = now
        people = [outbox.Recipient(r.user_id, r.locale, ())  # in the app only
                  for r in outbox.recipients(network_id, user_ids=[user_id])]
        outbox.write(network_id, [outbox.Message(f"line_blocked:{user_id}:{now:%Y%m%dT%H%M%S%f}", "line_blocked",
                                                 people, {}, "/notifications/settings")])


def _due(where: list[ColumnElement[bool]], now: datetime, limit: int) -> list[int]:
    ids = list(db.session.scalars(
        select(Delivery.id).where(Delivery.state == "pending", Delivery.next_attempt_at <= now, *where)
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))
    db.session.rollback()
    return ids


def _tally(outcomes: list[str]) -> SendReport:
    return SendReport(sent=outcomes.count("sent"), deferred=outcomes.count("deferred"),
                      retrying=outcomes.count("retrying"), failed=outcomes.count("failed"),
                      skipped=outcomes.count("skipped"))


def send_event(event_key: str) -> dict[str, int]:
    """The job enqueued with an event: send its deliveries that are due now."""
    now = utcnow()
    return _tally([send_one(i, now) for i in _due([Delivery.event_key == event_key], now, 100_000)]).as_dict()


def send_network(network_id: int) -> dict[str, int]:
    """The job enqueued with a batch of events: send the network's deliveries that are due now."""
    now = utcnow()
    return _tally([send_one(i, now) for i in _due([Delivery.network_id == network_id], now, 100_000)]).as_dict()


def send_due(limit: int = 500) -> dict[str, int]:
    """Periodic: reclaim deliveries whose sender died, then send whatever is due."""
    now = utcnow()
    stale = now - timedelta(seconds=float(current_app.config.get("NOTIFY_SENDING_TIMEOUT", 600)))
    db.session.execute(update(Delivery).where(Delivery.state == "sending", Delivery.claimed_at < stale)
                       .values(state="pending", next_attempt_at=now))
    db.session.commit()
    return _tally([send_one(i, now) for i in _due([], now, limit)]).as_dict()
