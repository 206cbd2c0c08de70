"""What the marketplace tells people, through the kernel's notification outbox (``core.notify``).
Called by the services inside their transaction, after the change is written."""
from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.notify import Audience, Event, emit, path_for
from market.models import Listing, Purchase
from network.models import Group


def _context(purchase: Purchase) -> dict[str, str | int]:
    listing = db.session.get(Listing, purchase.listing_id)
    names: dict[int, str] = {gid: name for gid, name in db.session.execute(select(Group.id, Group.name).where(
        Group.id.in_((purchase.buyer_group_id, purchase.seller_group_id))))}
    return {"listing": listing.name if listing else "", "unit": listing.unit if listing else "",
            "quantity": purchase.quantity, "buyer": names.get(purchase.buyer_group_id, ""),
            "seller": names.get(purchase.seller_group_id, "")}


def purchase_placed(purchase: Purchase) -> None:
    """The selling group's sellers: a new order to confirm."""
    emit(Event(key=f"purchase_placed:{purchase.id}", kind="purchase_placed", network_id=purchase.network_id,
               audience=(Audience("sellers", purchase.seller_group_id),),
               context={**_context(purchase), "amount": purchase.amount},
               link=path_for("market_views.sales")))


def purchase_confirmed(purchase: Purchase) -> None:
    """The buying group's leader: the seller confirmed."""
    emit(Event(key=f"purchase_confirmed:{purchase.id}", kind="purchase_confirmed", network_id=purchase.network_id,
               audience=(Audience("leaders", purchase.buyer_group_id),),
               context={**_context(purchase), "amount": purchase.amount},
               link=path_for("market_views.my_purchases")))


def purchase_delivered(purchase: Purchase) -> None:
    """The buying group's leader: the goods were handed over."""
    emit(Event(key=f"purchase_delivered:{purchase.id}", kind="purchase_delivered", network_id=purchase.network_id,
               audience=(Audience("leaders", purchase.buyer_group_id),),
               context={**_context(purchase), "amount": purchase.amount},
               link=path_for("market_views.my_purchases")))
