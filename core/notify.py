"""The notification outbox, as the kernel sees it: domains say *what happened and to whom*, inside their
own transaction; whoever subscribed (the ``notifications`` package) writes the rows in that same
transaction. The kernel knows no domain and no channel.

A domain calls :func:`emit` with an :class:`Event`; nothing is sent before its transaction commits.
Without a subscriber (a deployment or a test app without notifications) ``emit`` does nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

# Who hears of an event. "committee" means the network's committee and admins.
Role = Literal["leaders", "sellers", "committee"]
# Values a message may show: Decimal is baht, datetime is a moment (shown in the network's time zone).
Value = str | int | Decimal | datetime


@dataclass(frozen=True)
class Audience:
    """A set of users of the event's network: ``role`` of one group, or of every group when
    ``group_id`` is None (committee: the whole network). Resolved by the subscriber, always within
    the event's network."""

    role: Role
    group_id: int | None = None


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``key`` names it uniquely and stably (``"round_opened:42"``): emitting
    the same key twice (a retried job) notifies nobody twice."""

    key: str
    kind: str
    network_id: int
    audience: tuple[Audience, ...]
    context: Mapping[str, Value] = field(default_factory=dict)
    link: str = "/"


_subscribers: list[Callable[[Sequence[Event]], None]] = []


def subscribe(fn: Callable[[Sequence[Event]], None]) -> None:
    """Called by the package that turns events into messages (once per process)."""
    if fn not in _subscribers:
        _subscribers.append(fn)


def emit(*events: Event) -> None:
    """Record ``events`` in the caller's transaction (call it before the caller commits). Several events
    at once (one per group of a combined round) are written with a constant number of statements."""
    if not events:
        return
    for fn in list(_subscribers):
        fn(events)


def path_for(endpoint: str, **values: object) -> str:
    """The path of a page, also outside a request (a job on a worker): for an event's ``link``."""
    from flask import current_app

    adapter = current_app.url_map.bind("localhost")
    return str(adapter.build(endpoint, values))
