"""What the orders domain shows on the home page (registered with ``core.pages.home_item``)."""
from __future__ import annotations

from typing import Any

from flask import g, render_template
from flask_login import current_user

from core.errors import DomainError
from core.pages import COMMITTEE
from orders import services
from orders.invoices import list_invoices


def _rounds() -> list[Any]:
    # Both home items read the same list: once per request.
    if "orders_home_rounds" not in g:
        g.orders_home_rounds = services.list_rounds(current_user)
    rounds: list[Any] = g.orders_home_rounds
    return rounds


def attention() -> str:
    """Open rounds, rounds to open, combine or deliver, unpaid invoices."""
    rounds = _rounds()
    open_rounds = [r for r in rounds if r.state == "open"]
    unpaid: list[tuple[Any, Any]] = []
    ordered: dict[int, bool] = {}
    role = current_user.role
    if role in ("leader", "seller") or role in COMMITTEE:
        for rnd in rounds:
            if rnd.state in ("combined", "delivered"):
                try:
                    invoices = list_invoices(current_user, rnd.id)
                except DomainError:
                    continue
                unpaid += [(rnd, inv) for inv in invoices if inv.paid < inv.total]
    if role == "leader" and current_user.group_id:
        for rnd in open_rounds:
            order = services.get_group_order(current_user, rnd.id, current_user.group_id)
            ordered[rnd.id] = bool(order["lines"])
    committee = role in COMMITTEE
    groups: dict[int, Any] = {}
    if committee and unpaid:
        from network import services as network_services

        groups = {group.id: group for group in network_services.list_groups(current_user)}
    return render_template(
        "orders/_home_attention.html", open_rounds=open_rounds, unpaid=unpaid, ordered=ordered, groups=groups,
        to_open=[r for r in rounds if r.state == "draft"] if committee else [],
        combining=[r for r in rounds if r.state == "closed"] if committee else [],
        to_deliver=[r for r in rounds if r.state == "combined"] if committee else [])


def rounds_section() -> str:
    """The latest rounds, below what needs doing."""
    return render_template("orders/_home_rounds.html", rounds=_rounds())
