"""Kernel signals: a domain announces a change, another domain listens, and neither imports the other.

``month_data_changed`` is sent inside the transaction of any change that counts in a month's figures (a
delivery received, a marketplace sale delivered, a payment). The reports domain listens: a month whose
summary was already built is rebuilt by a job (enqueued in the same transaction, dispatched after commit).
"""
from __future__ import annotations

from datetime import datetime

from blinker import Namespace

_signals = Namespace()
month_data_changed = _signals.signal("month-data-changed")
# Sent inside the transaction that changes a network's time zone: every instant may now fall in another
# month, so what is kept per month (the roll-ups of orders/ and market/) is recomputed by its owner.
network_timezone_changed = _signals.signal("network-timezone-changed")


def data_changed(network_id: int, at: datetime) -> None:
    """Announce that figures of the month containing ``at`` (in the network's time zone) changed."""
    month_data_changed.send(None, network_id=network_id, at=at)


def timezone_changed(network_id: int) -> None:
    """Announce that the network's months moved (its time zone changed)."""
    network_timezone_changed.send(None, network_id=network_id)
