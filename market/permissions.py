"""Who may do what in the marketplace: pure predicates on plain attributes, called by the services."""
from __future__ import annotations

from typing import Any

from network.permissions import is_committee, same_network


def can_sell(user: Any) -> bool:
    """A group's seller (or its leader) lists the group's goods."""
    return user.role in ("seller", "leader") and user.group_id is not None


def can_edit_listing(user: Any, listing: Any) -> bool:
    """Only the selling group's own sellers and leader change its listings."""
    return same_network(user, listing) and can_sell(user) and user.group_id == listing.group_id


def can_buy_for(user: Any, group: Any) -> bool:
    """A group leader buys for their own group only: one voice per group, as for orders."""
    return same_network(user, group) and user.role == "leader" and user.group_id == group.id


def is_own_listing(group: Any, listing: Any) -> bool:
    """A group cannot buy its own listing (no sales to oneself inflating income gain)."""
    return bool(group.id == listing.group_id)


def can_act_as_seller(user: Any, purchase: Any) -> bool:
    """Confirm and deliver: the selling group's sellers and leader."""
    return same_network(user, purchase) and user.role in ("seller", "leader") \
        and user.group_id == purchase.seller_group_id


def can_act_as_buyer(user: Any, purchase: Any) -> bool:
    """Cancel on the buyer's side: the buying group's leader."""
    return same_network(user, purchase) and user.role == "leader" and user.group_id == purchase.buyer_group_id


def can_cancel(user: Any, purchase: Any) -> bool:
    return can_act_as_buyer(user, purchase) or can_act_as_seller(user, purchase)


def can_see_all_purchases(user: Any) -> bool:
    return is_committee(user)


def can_see_purchase(user: Any, purchase: Any) -> bool:
    if not same_network(user, purchase):
        return False
    if is_committee(user):
        return True
    return user.group_id is not None and user.group_id in (purchase.buyer_group_id, purchase.seller_group_id)
