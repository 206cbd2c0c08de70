"""A draft round built in one go (from an award): offers and suppliers' round fees, in the caller's
transaction, so that whoever builds it commits it together with its own change."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Forbidden, InvalidInput
from network.models import User
from orders import permissions
from orders.models import BuyingRound, Offer, PriceTier, Product, RoundSupplierFee, Supplier
from pricing.quotes import QuoteLine, validate_quote_line
from pricing.tiers import Tier


@dataclass(frozen=True)
class OfferSpec:
    product_id: int
    supplier_id: int
    pack_size: int
    min_quantity: int
    reference_price: Decimal
    tiers: Sequence[tuple[int, Decimal]]


def create_draft_round(actor: User, name: str, closes_at: datetime, offers: Sequence[OfferSpec],
                       supplier_fees: Mapping[int, Decimal]) -> BuyingRound:
    """Add (not commit) a draft round with these offers and round fees per supplier."""
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee creates buying rounds.")
    if closes_at <= utcnow():
        raise InvalidInput("The deadline must be in the future.", {"closes_at": ["Must be in the future."]})
    products = set(db.session.scalars(select(Product.id).where(
        Product.network_id == actor.network_id, Product.id.in_([o.product_id for o in offers]))))
    suppliers = set(db.session.scalars(select(Supplier.id).where(
        Supplier.network_id == actor.network_id,
        Supplier.id.in_([o.supplier_id for o in offers] + list(supplier_fees)))))
    for n, spec in enumerate(offers):
        problems = validate_quote_line(QuoteLine(spec.pack_size, spec.min_quantity,
                                                 tuple(Tier(q, p) for q, p in spec.tiers)))
        if spec.product_id not in products or spec.supplier_id not in suppliers or problems:
            raise InvalidInput(f"Offer {n} is not valid: " + "; ".join(problems or ["unknown product or supplier"]),
                               {f"offers.{n}": problems or ["Not found."]})
    if any(s not in suppliers or fee < 0 for s, fee in supplier_fees.items()):
        raise InvalidInput("A supplier fee is not valid.", {"supplier_fees": ["Unknown supplier or negative fee."]})
    rnd = BuyingRound(network_id=actor.network_id, name=name, closes_at=closes_at, state="draft", created_at=utcnow())
    db.session.add(rnd)
    db.session.flush()
    for spec in offers:
        offer = Offer(round_id=rnd.id, product_id=spec.product_id, supplier_id=spec.supplier_id,
                      pack_size=spec.pack_size, min_quantity=spec.min_quantity,
                      reference_price=spec.reference_price, delivery_fee=Decimal("0.00"))
        offer.tiers = [PriceTier(min_quantity=q, unit_price=p) for q, p in spec.tiers]
        db.session.add(offer)
    db.session.add_all(RoundSupplierFee(round_id=rnd.id, supplier_id=s, delivery_fee=fee)
                       for s, fee in sorted(supplier_fees.items()))
    db.session.flush()
    record(actor, "round.create", "round", rnd.id, None,
           {"name": name, "closes_at": closes_at, "offers": len(offers),
            "supplier_fees": {str(s): fee for s, fee in supplier_fees.items()}})
    return rnd
