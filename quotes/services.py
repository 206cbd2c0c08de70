"""Requests for quotation and suppliers' quotes: one function, one transaction, permissions here.

The committee's use cases take the acting user; a supplier's take only the token of its private link,
which reaches its own invitation and nothing else (an unknown token is a 404, whatever it names).
"""
from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.audit import record
from core.auth import hash_token
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.fields import require_money, require_quantity, require_text
from network.models import User
from orders.models import BuyingRound, Offer, OrderLine, Product, Supplier
from pricing.quotes import QuoteLine as PricingLine
from pricing.quotes import validate_quote_line
from pricing.tiers import Tier
from quotes import events, permissions
from quotes.models import Invitation, Quote, QuoteLine, QuoteTier, Rfq, RfqItem

# Rounds looked at to suggest the quantity of a product.
SUGGESTION_ROUNDS = 3
# Price tiers in one quote line (the API's schema says the same).
MAX_TIERS = 20


def _checked(bad: dict[str, Any], check: Callable[..., Any], field: str, value: Any, **kwargs: Any) -> Any:
    """One field through its rule (core.fields); a refusal is collected under the field's name."""
    try:
        return check(field, value, **kwargs)
    except InvalidInput as exc:
        bad.update(exc.fields or {})
        return None


# --- inputs and views ------------------------------------------------------------------------------

class ItemInput(TypedDict):
    product_id: int
    quantity: int
    reference_price: Decimal


class RfqInput(TypedDict):
    name: str
    closes_at: datetime
    items: list[ItemInput]
    supplier_ids: list[int]


class TierInput(TypedDict):
    min_quantity: int
    unit_price: Decimal


class QuoteLineInput(TypedDict):
    product_id: int
    pack_size: int
    min_quantity: int
    tiers: list[TierInput]


class QuoteInput(TypedDict):
    delivery_fee: Decimal | None
    lines: list[QuoteLineInput]


@dataclass(frozen=True)
class ItemView:
    product_id: int
    product_name: str
    unit: str
    quantity: int
    reference_price: Decimal
    awarded_supplier_id: int | None


@dataclass(frozen=True)
class InvitationView:
    supplier_id: int
    supplier_name: str
    quoted_at: datetime | None
    token: str | None  # only right after it was made: the database keeps its hash


@dataclass(frozen=True)
class RfqView:
    id: int
    name: str
    state: str  # open, closed, awarded
    closes_at: datetime
    created_at: datetime
    awarded_at: datetime | None
    round_id: int | None
    awarded_total: Decimal | None
    items: list[ItemView]
    invitations: list[InvitationView]


@dataclass(frozen=True)
class TierView:
    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class QuoteLineView:
    product_id: int
    pack_size: int
    min_quantity: int
    tiers: list[TierView]


@dataclass(frozen=True)
class QuoteView:
    delivery_fee: Decimal
    submitted_at: datetime
    updated_at: datetime
    lines: list[QuoteLineView]


@dataclass(frozen=True)
class SupplierItem:
    product_id: int
    product_name: str
    unit: str
    quantity: int


@dataclass(frozen=True)
class SupplierRfq:
    name: str
    closes_at: datetime
    state: str
    supplier_name: str
    items: list[SupplierItem]
    id: int = 0
    awarded_at: datetime | None = None  # once awarded, the pages say when


@dataclass(frozen=True)
class SupplierView:
    rfq: SupplierRfq
    quote: QuoteView | None


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    quantity: int | None  # None: the product was in no round yet
    reference_price: Decimal | None


# --- helpers ---------------------------------------------------------------------------------------

def state_of(rfq: Rfq, now: datetime | None = None) -> str:
    if rfq.state == "open" and (now or utcnow()) >= rfq.closes_at:
        return "closed"
    return rfq.state


def _load(rfq_id: int, *, lock: bool = False) -> Rfq | None:
    query = select(Rfq).where(Rfq.id == rfq_id).options(
        selectinload(Rfq.items).selectinload(RfqItem.product),
        selectinload(Rfq.invitations).selectinload(Invitation.supplier),
        selectinload(Rfq.invitations).selectinload(Invitation.quote).selectinload(Quote.lines)
        .selectinload(QuoteLine.tiers))
    if lock:
        query = query.with_for_update(of=Rfq)
    return db.session.scalar(query)


def load_request(rfq_id: int) -> Rfq:
    """A request with everything the comparison reads (for readers that checked access themselves)."""
    rfq = _load(rfq_id)
    if rfq is None:
        raise NotFound("No such request for quotation.")
    return rfq


def rfq_for(actor: User, rfq_id: int, *, lock: bool = False) -> Rfq:
    """The request, if the actor may see it; else 404 (or 403 for a role that may see none)."""
    if not permissions.can_manage_rfqs(actor):
        raise Forbidden("Only the committee works with requests for quotation.")
    rfq = _load(rfq_id, lock=lock)
    if rfq is None or not permissions.can_view_rfq(actor, rfq):
        raise NotFound("No such request for quotation.")
    return rfq


def _view(rfq: Rfq, tokens: Mapping[int, str] | None = None) -> RfqView:
    return RfqView(
        id=rfq.id, name=rfq.name, state=state_of(rfq), closes_at=rfq.closes_at, created_at=rfq.created_at,
        awarded_at=rfq.awarded_at, round_id=rfq.round_id, awarded_total=rfq.awarded_total,
        items=[ItemView(i.product_id, i.product.name, i.product.unit, i.quantity, i.reference_price,
                        i.awarded_supplier_id) for i in rfq.items],
        invitations=[InvitationView(v.supplier_id, v.supplier.name, v.quote.updated_at if v.quote else None,
                                    (tokens or {}).get(v.supplier_id)) for v in rfq.invitations])


def quote_view(quote: Quote) -> QuoteView:
    return QuoteView(quote.delivery_fee, quote.submitted_at, quote.updated_at,
                     [QuoteLineView(ln.product_id, ln.pack_size, ln.min_quantity,
                                    [TierView(t.min_quantity, t.unit_price) for t in ln.tiers]) for ln in quote.lines])


def _ids_in_network(actor: User, model: type[Product] | type[Supplier], ids: Sequence[int]) -> set[int]:
    return set(db.session.scalars(select(model.id).where(model.id.in_(ids), model.network_id == actor.network_id)))


# --- committee -------------------------------------------------------------------------------------

def suggest_items(actor: User, product_ids: Sequence[int]) -> list[Suggestion]:
    """Per product: the quantity the groups ordered in its last rounds (mean, rounded up), and the
    reference price of its latest offer; a starting point the committee edits."""
    if not permissions.can_manage_rfqs(actor):
        raise Forbidden("Only the committee works with requests for quotation.")
    out: list[Suggestion] = []
    for product_id in product_ids:
        per_round = db.session.execute(
            select(BuyingRound.id, func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(Offer, Offer.round_id == BuyingRound.id)
            .outerjoin(OrderLine, OrderLine.offer_id == Offer.id)
            .where(BuyingRound.network_id == actor.network_id, Offer.product_id == product_id,
                   BuyingRound.state != "draft")
            .group_by(BuyingRound.id, BuyingRound.closes_at)
            .order_by(BuyingRound.closes_at.desc(), BuyingRound.id.desc())
            .limit(SUGGESTION_ROUNDS)).all()
        totals = [int(total) for _, total in per_round]
        price = db.session.scalar(
            select(Offer.reference_price).join(BuyingRound, BuyingRound.id == Offer.round_id)
            .where(BuyingRound.network_id == actor.network_id, Offer.product_id == product_id)
            .order_by(BuyingRound.closes_at.desc(), Offer.id.desc()).limit(1))
        quantity = math.ceil(sum(totals) / len(totals)) if totals and sum(totals) > 0 else None
        out.append(Suggestion(product_id, quantity, price))
    return out


def create_rfq(actor: User, data: RfqInput) -> RfqView:
    """Ask the suppliers: the answer carries each supplier's private link token, shown this once."""
    if not permissions.can_manage_rfqs(actor):
        raise Forbidden("Only the committee asks suppliers for quotations.")
    if data["closes_at"] <= utcnow():
        raise InvalidInput("The closing time must be in the future.", {"closes_at": ["Must be in the future."]})
    product_ids = [i["product_id"] for i in data["items"]]
    known = _ids_in_network(actor, Product, product_ids)
    bad: dict[str, Any] = {f"items.{n}.product_id": ["No such product in this network."]
                           for n, p in enumerate(product_ids) if p not in known}
    name = _checked(bad, require_text, "name", data["name"], max_length=200, required=True)
    for n, item in enumerate(data["items"]):
        _checked(bad, require_quantity, f"items.{n}.quantity", item["quantity"], minimum=1)
        _checked(bad, require_money, f"items.{n}.reference_price", item["reference_price"])
    suppliers = _ids_in_network(actor, Supplier, data["supplier_ids"])
    bad.update({f"supplier_ids.{n}": ["No such supplier in this network."]
                for n, s in enumerate(data["supplier_ids"]) if s not in suppliers})
    if bad:
        raise InvalidInput("Some fields are not valid: " + ", ".join(sorted(bad)), bad)
    rfq = Rfq(network_id=actor.network_id, name=name, state="open", closes_at=data["closes_at"],
              created_at=utcnow(), created_by_id=actor.id)
    rfq.items = [RfqItem(product_id=i["product_id"], quantity=i["quantity"], reference_price=i["reference_price"])
                 for i in data["items"]]
    tokens = {s: secrets.token_urlsafe(32) for s in data["supplier_ids"]}  # 256 random bits each
    rfq.invitations = [Invitation(supplier_id=s, token_hash=hash_token(t), created_at=utcnow())
                       for s, t in tokens.items()]
    db.session.add(rfq)
    db.session.flush()
    record(actor, "rfq.create", "rfq", rfq.id, None,
           {"name": rfq.name, "closes_at": rfq.closes_at, "items": data["items"], "supplier_ids": data["supplier_ids"]})
    db.session.commit()
    loaded = _load(rfq.id)
    assert loaded is not None
    return _view(loaded, tokens)


def list_rfqs(actor: User) -> list[RfqView]:
    if not permissions.can_manage_rfqs(actor):
        raise Forbidden("Only the committee works with requests for quotation.")
    ids = db.session.scalars(select(Rfq.id).where(Rfq.network_id == actor.network_id)
                             .order_by(Rfq.created_at.desc(), Rfq.id.desc()))
    out = []
    for rfq_id in list(ids):
        rfq = _load(rfq_id)
        if rfq is not None:
            out.append(_view(rfq))
    return out


def get_rfq(actor: User, rfq_id: int) -> RfqView:
    return _view(rfq_for(actor, rfq_id))


def reissue_link(actor: User, rfq_id: int, supplier_id: int) -> str:
    """A new private link for one supplier (the old one stops working); its quote is kept."""
    rfq = rfq_for(actor, rfq_id, lock=True)
    if state_of(rfq) != "open":
        raise Conflict("The request no longer takes quotes.", state=state_of(rfq))
    invitation = next((v for v in rfq.invitations if v.supplier_id == supplier_id), None)
    if invitation is None:
        raise NotFound("That supplier was not asked in this request.")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    record(actor, "rfq.reissue_link", "rfq", rfq.id, None, {"supplier_id": supplier_id})
    db.session.commit()
    return token


# --- supplier, by token ----------------------------------------------------------------------------

def _invitation(token: str, *, lock: bool = False) -> tuple[Invitation, Rfq]:
    if not token or len(token) > 200:
        raise NotFound("This link is not valid.")
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        raise NotFound("This link is not valid.")
    rfq = _load(invitation.rfq_id, lock=lock)
    assert rfq is not None  # the foreign key
    return invitation, rfq


def supplier_view(token: str) -> SupplierView:
    invitation, rfq = _invitation(token)
    items = [SupplierItem(i.product_id, i.product.name, i.product.unit, i.quantity) for i in rfq.items]
    return SupplierView(SupplierRfq(rfq.name, rfq.closes_at, state_of(rfq), invitation.supplier.name, items,
                                    id=rfq.id, awarded_at=rfq.awarded_at),
                        quote_view(invitation.quote) if invitation.quote else None)


def submit_quote(token: str, data: QuoteInput) -> QuoteView:
    """Replace the supplier's quote; until the closing time and never after the award (409)."""
    invitation, rfq = _invitation(token, lock=True)
    if not permissions.quote_is_open(rfq, utcnow()):
        state = state_of(rfq)
        message = ("The committee has already decided on this request." if state == "awarded"
                   else "The closing time has passed; quotes can no longer be changed.")
        raise Conflict(message, state=state)
    requested = {i.product_id for i in rfq.items}
    bad: dict[str, Any] = {}
    checked: list[tuple[int, PricingLine]] = []
    fee = _checked(bad, require_money, "delivery_fee", data.get("delivery_fee"), optional=True)
    for n, line in enumerate(data["lines"]):
        known = len(bad)
        if line["product_id"] not in requested:
            bad[f"lines.{n}.product_id"] = ["This product is not in the request."]
        # The field bounds of the API's schema, here so that the supplier's page (and any caller) meets them.
        pack = _checked(bad, require_quantity, f"lines.{n}.pack_size", line["pack_size"], minimum=1)
        minimum = _checked(bad, require_quantity, f"lines.{n}.min_quantity", line["min_quantity"])
        tiers = [Tier(_checked(bad, require_quantity, f"lines.{n}.tiers.{i}.min_quantity", t["min_quantity"]),
                      _checked(bad, require_money, f"lines.{n}.tiers.{i}.unit_price", t["unit_price"]))
                 for i, t in enumerate(line["tiers"])]
        if len(tiers) > MAX_TIERS:
            bad[f"lines.{n}.tiers"] = [f"At most {MAX_TIERS} tiers."]
        if len(bad) > known:
            continue
        terms = PricingLine(pack, minimum, tuple(tiers))
        checked.append((line["product_id"], terms))
        for problem in validate_quote_line(terms):
            field, _, message = problem.partition(": ")
            bad.setdefault(f"lines.{n}.{field.replace('[', '.').replace(']', '')}", []).append(message)
    if bad:
        raise InvalidInput("Some fields are not valid: " + ", ".join(sorted(bad)), bad)
    now = utcnow()
    quote = invitation.quote
    before = quote_view(quote) if quote else None
    if quote is None:
        quote = Quote(invitation_id=invitation.id, submitted_at=now, delivery_fee=Decimal("0"))
        invitation.quote = quote
    quote.delivery_fee = fee if fee is not None else Decimal("0.00")
    quote.updated_at = now
    quote.lines.clear()
    db.session.flush()  # the old lines go before the new ones take their (quote, product) keys
    quote.lines.extend(
        QuoteLine(product_id=product_id, pack_size=terms.pack_size, min_quantity=terms.min_quantity,
                  tiers=[QuoteTier(min_quantity=t.min_quantity, unit_price=t.unit_price) for t in terms.tiers])
        for product_id, terms in checked)
    db.session.flush()
    record(_LinkHolder(rfq.network_id), "quote.submit", "rfq", rfq.id, _plain_quote(before),
           {"supplier_id": invitation.supplier_id, "quote": _plain_quote(quote_view(quote))})
    if before is None:
        events.quote_received(rfq, invitation, quote.id)
    db.session.commit()
    return quote_view(quote)


@dataclass(frozen=True)
class _LinkHolder:
    """Who acts by a private link, for the audit trail: a network, no user."""

    network_id: int
    id: None = None


def _plain_quote(view: QuoteView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {"delivery_fee": view.delivery_fee,
            "lines": [{"product_id": ln.product_id, "pack_size": ln.pack_size, "min_quantity": ln.min_quantity,
                       "tiers": [[t.min_quantity, t.unit_price] for t in ln.tiers]} for ln in view.lines]}
