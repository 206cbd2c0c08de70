"""Who may do what with requests for quotation: pure predicates.

A supplier has no account: its private link (a token) reaches its own invitation and nothing else,
which the services enforce by looking the invitation up by the token's hash and nothing more.
"""
from __future__ import annotations

from typing import Any

from network.permissions import is_committee, same_network


def can_manage_rfqs(user: Any) -> bool:
    """Asking suppliers, comparing and awarding: the committee (or the admin standing in for it)."""
    return is_committee(user)


def can_view_rfq(user: Any, rfq: Any) -> bool:
    return same_network(user, rfq) and is_committee(user)


def quote_is_open(rfq: Any, now: Any) -> bool:
    """A supplier may send or change its quote until the closing time, and never after the award."""
    return bool(rfq.state == "open" and now < rfq.closes_at)
