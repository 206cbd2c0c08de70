"""Who may do what: pure predicates on plain attributes, called by the services."""
from __future__ import annotations

from typing import Any


def same_network(user: Any, obj: Any) -> bool:
    return user is not None and getattr(obj, "network_id", None) == user.network_id


def is_admin(user: Any) -> bool:
    return bool(user.role == "admin")


def is_committee(user: Any) -> bool:
    """The committee runs rounds and reviews summaries; the admin may stand in for it."""
    return user.role in ("committee", "admin")


def can_manage_network(user: Any) -> bool:
    return is_admin(user)


def can_manage_users(user: Any) -> bool:
    return is_admin(user)


def can_create_groups(user: Any) -> bool:
    return is_admin(user)


def can_edit_group(user: Any, group: Any) -> bool:
    # A leader keeps the member counts of their own group up to date.
    return same_network(user, group) and (is_admin(user) or (user.role == "leader" and user.group_id == group.id))


def belongs_to_group(user: Any, group_id: int) -> bool:
    return user.role in ("leader", "seller") and user.group_id == group_id
