"""What the households domain shows on the home page (registered with ``core.pages.home_item``)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from core.db import db
from orders.models import BuyingRound


def leader_households() -> str:
    """For a group's leader: the household list, and each round open or to bill with its households' page."""
    if current_user.role != "leader" or not current_user.group_id:
        return ""
    rounds = db.session.scalars(
        select(BuyingRound).where(BuyingRound.network_id == current_user.network_id,
                                  BuyingRound.state.in_(("open", "combined", "delivered")))
        .order_by(BuyingRound.closes_at.desc(), BuyingRound.id.desc()).limit(5)).all()
    return render_template("households/_home.html", rounds=rounds, group_id=current_user.group_id)
