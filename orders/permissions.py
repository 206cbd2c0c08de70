"""Who may do what with rounds and orders: pure predicates."""
from __future__ import annotations

from typing import Any

from network.permissions import belongs_to_group, is_committee


def can_manage_catalogue(user: Any) -> bool:
    """Suppliers and products: the committee that negotiates with them, or the admin."""
    return is_committee(user)


def can_run_rounds(user: Any) -> bool:
    return is_committee(user)


def can_order_for(user: Any, group: Any) -> bool:
    """Only the group's own leader places the group's order: one voice per group."""
    return bool(user.role == "leader" and user.group_id == group.id and user.network_id == group.network_id)


def can_view_order_of(user: Any, group: Any) -> bool:
    return user.network_id == group.network_id and (is_committee(user) or belongs_to_group(user, group.id))


def can_record_delivery(user: Any) -> bool:
    return is_committee(user)


def can_record_payment(user: Any) -> bool:
    return is_committee(user)


def can_view_all_invoices(user: Any) -> bool:
    return is_committee(user)
