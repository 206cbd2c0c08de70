"""Who may do what with households: pure predicates.

Households have no accounts: the group's sheet link (a token) reaches that group's households in that round
and nothing else, which the services enforce by looking the sheet up by the token's hash and nothing more.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from network.permissions import is_committee, same_network


def is_group_leader(user: Any, group: Any) -> bool:
    return bool(user.role == "leader" and user.group_id == group.id and same_network(user, group))


def can_manage_households(user: Any, group: Any) -> bool:
    """The household list: the group's leader, the committee and the admin of the same network."""
    return same_network(user, group) and (is_committee(user) or is_group_leader(user, group))


def can_share_sheet(user: Any, group: Any) -> bool:
    """Opening and revoking the round's link for the group: its leader, who shares it in the group's chat."""
    return is_group_leader(user, group)


def can_view_household_orders(user: Any, group: Any) -> bool:
    return same_network(user, group) and (is_committee(user) or is_group_leader(user, group))


def sheet_is_open(state: str, closes_at: datetime, now: datetime) -> bool:
    """Households may enter or change their quantities while the round takes orders."""
    return state == "open" and now < closes_at
