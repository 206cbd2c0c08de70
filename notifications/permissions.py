"""Who may see what: pure predicates on plain attributes, called by the services."""
from __future__ import annotations

from typing import Any


def can_read(user: Any, notification: Any) -> bool:
    """A notification is its recipient's alone (not even an admin reads another user's)."""
    return user is not None and notification is not None and notification.user_id == user.id


def can_see_failed_deliveries(user: Any) -> bool:
    return user is not None and user.role == "admin"


def can_retry_delivery(user: Any, delivery: Any) -> bool:
    return can_see_failed_deliveries(user) and delivery.network_id == user.network_id
