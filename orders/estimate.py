"""The estimate a leader sees before the deadline: the group's saved order as the combine would price it
if the round closed now, fee share included (``pricing.estimate``), so the bill is not a surprise."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.db import db
from network.models import Network, User
from orders import services
from orders.models import BuyingRound, Offer, OrderLine
from pricing import OfferTerms, Tier, tier_progress
from pricing.estimate import EstimateOffer, OrderEstimate, estimate_order


def group_estimate(actor: User, rnd: BuyingRound, group_id: int) -> OrderEstimate | None:
    """None when the group has not ordered. ``rnd`` is loaded with its offers (services.load_round)."""
    order = services.get_group_order(actor, rnd.id, group_id)  # checks the actor may see this order
    mine = {line["offer_id"]: (int(line["quantity"]), int(line["tolerance"])) for line in order["lines"]}
    if not mine:
        return None
    totals = {offer_id: (int(q or 0), int(t or 0)) for offer_id, q, t in db.session.execute(
        select(OrderLine.offer_id, func.sum(OrderLine.quantity), func.sum(OrderLine.tolerance))
        .join(Offer, Offer.id == OrderLine.offer_id).where(Offer.round_id == rnd.id)
        .group_by(OrderLine.offer_id)).all()}
    offers = []
    for offer in rnd.offers:
        quantity, tolerance = totals.get(offer.id, (0, 0))
        own_q, own_t = mine.get(offer.id, (0, 0))
        terms = OfferTerms(pack_size=offer.pack_size, min_quantity=offer.min_quantity,
                           reference_price=offer.reference_price, delivery_fee=offer.delivery_fee,
                           tiers=tuple(Tier(t.min_quantity, t.unit_price) for t in offer.tiers))
        offers.append(EstimateOffer(offer.id, offer.supplier_id, terms, max(0, quantity - own_q), max(0, tolerance - own_t)))
    network = db.session.get_one(Network, rnd.network_id)
    return estimate_order(offers, mine, network.fee_percent)


def tolerance_so_far(actor: User, round_id: int) -> dict[int, int]:
    """The extra units all groups accept per offer so far (the order form's estimate fills packs with them)."""
    rnd = services.get_round(actor, round_id)
    rows = db.session.execute(
        select(OrderLine.offer_id, func.sum(OrderLine.tolerance))
        .join(Offer, Offer.id == OrderLine.offer_id).where(Offer.round_id == rnd.id)
        .group_by(OrderLine.offer_id)
    ).all()
    return {offer_id: int(total or 0) for offer_id, total in rows}


def tier_status(offer: Any, so_far: int) -> dict[str, Any]:
    """For the pages: the tier the network's pooled quantity has reached, and how much more reaches the
    next one (``pricing.tier_progress``), with the tiers as the order page's script reads them."""
    tiers = [Tier(t.min_quantity, t.unit_price) for t in offer.tiers]
    progress = tier_progress(tiers, so_far)
    return {"so_far": so_far, "reached": progress.reached, "next": progress.next, "more": progress.more,
            "tiers": ",".join(f"{t.min_quantity}:{t.unit_price}" for t in tiers)}
