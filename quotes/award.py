"""The comparison of the quotes and the award that opens a draft buying round.

The rules are `pricing.quotes` (what a quote line costs at the expected quantity, the three awards)
and `pricing.award_solver` (the best award, proven optimal); this module loads, checks, and stores.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, InvalidInput, ServiceUnavailable
from network.models import User
from pricing.quotes import (
    Award,
    CompetitionWon,
    Priced,
    PricedLine,
    QuoteLine,
    SupplierQuote,
    award_of,
    best_award,
    best_single_supplier,
    cheapest_per_product,
    competition_won,
    price_request,
)
from pricing.tiers import Tier
from quotes.models import Rfq
from quotes.services import rfq_for, state_of

# A request the solver cannot prove within this many seconds is refused rather than guessed.
SOLVE_SECONDS = 20.0
# The round an award opens closes this many days later at this local hour, unless told otherwise.
ROUND_DAYS = 7
ROUND_HOUR = time(17, 0)


class ChoiceInput(TypedDict):
    product_id: int
    supplier_id: int


@dataclass(frozen=True)
class PricedQuote:
    supplier_id: int
    bought_quantity: int
    unit_price: Decimal
    amount: Decimal
    eligible: bool


@dataclass(frozen=True)
class ComparisonItem:
    product_id: int
    product_name: str
    unit: str
    quantity: int
    reference_price: Decimal
    quotes: list[PricedQuote]  # eligible first by amount, then the ineligible


@dataclass(frozen=True)
class SupplierFee:
    supplier_id: int
    delivery_fee: Decimal


@dataclass(frozen=True)
class AwardView:
    total: Decimal
    amounts: Decimal
    delivery_fees: Decimal
    supplier_fees: list[SupplierFee]
    lines: list[PricedLine]
    saving_of_best: Decimal  # this award's total minus the best award's (0 for the best itself)
    supplier_id: int | None = None


@dataclass(frozen=True)
class Comparison:
    rfq_id: int
    state: str
    items: list[ComparisonItem]
    best: AwardView
    cheapest_per_product: AwardView
    best_single_supplier: AwardView | None
    not_awarded: list[int]
    supplier_names: dict[int, str]


@dataclass(frozen=True)
class AwardResult:
    rfq_id: int
    round_id: int
    total: Decimal
    best_total: Decimal
    difference: Decimal


def priced_request(rfq: Rfq) -> Priced:
    quotes = []
    for invitation in rfq.invitations:
        quote = invitation.quote
        if quote is None:
            continue
        lines = {ln.product_id: QuoteLine(ln.pack_size, ln.min_quantity,
                                          tuple(Tier(t.min_quantity, t.unit_price) for t in ln.tiers))
                 for ln in quote.lines}
        quotes.append(SupplierQuote(invitation.supplier_id, quote.delivery_fee, lines))
    return price_request({i.product_id: i.quantity for i in rfq.items}, quotes)


def solve(priced: Priced) -> Award:
    # The solver library (and the numerics it pulls in) loads on the first comparison, not at start-up.
    from pricing.award_solver import NotProven

    try:
        return best_award(priced, time_limit=SOLVE_SECONDS)
    except NotProven as exc:
        raise ServiceUnavailable("The best award could not be proven in time; try again.") from exc


def _award_view(award: Award, best: Award, supplier_id: int | None = None) -> AwardView:
    return AwardView(total=award.total, amounts=award.amounts, delivery_fees=award.delivery_fees,
                     supplier_fees=[SupplierFee(s, f) for s, f in award.supplier_fees], lines=list(award.lines),
                     saving_of_best=award.total - best.total, supplier_id=supplier_id)


def comparison(actor: User, rfq_id: int) -> Comparison:
    rfq = rfq_for(actor, rfq_id)
    priced = priced_request(rfq)
    best = solve(priced)
    single = best_single_supplier(priced)
    items = []
    for item in rfq.items:
        lines = priced.lines.get(item.product_id, {}).values()
        ordered = sorted(lines, key=lambda ln: (not ln.eligible, ln.amount, ln.supplier_id))
        items.append(ComparisonItem(
            item.product_id, item.product.name, item.product.unit, item.quantity, item.reference_price,
            [PricedQuote(ln.supplier_id, ln.bought_quantity, ln.unit_price, ln.amount, ln.eligible) for ln in ordered]))
    return Comparison(
        rfq_id=rfq.id, state=state_of(rfq), items=items, best=_award_view(best, best),
        cheapest_per_product=_award_view(cheapest_per_product(priced), best),
        best_single_supplier=None if single is None else _award_view(single, best, single.suppliers[0]),
        not_awarded=list(best.not_awarded),
        supplier_names={v.supplier_id: v.supplier.name for v in rfq.invitations})


def _own_choice(priced: Priced, lines: Sequence[ChoiceInput]) -> Award:
    bad: dict[str, list[str]] = {}
    for n, line in enumerate(lines):
        if line["product_id"] not in priced.quantities:
            bad[f"lines.{n}.product_id"] = ["This product is not in the request."]
        elif line["supplier_id"] not in priced.eligible(line["product_id"]):
            bad[f"lines.{n}.supplier_id"] = ["This supplier has no eligible quote for the product."]
    if bad:
        raise InvalidInput("Some fields are not valid: " + ", ".join(sorted(bad)), bad)
    return award_of(priced, {ln["product_id"]: ln["supplier_id"] for ln in lines})


def price_choice(actor: User, rfq_id: int, lines: Sequence[ChoiceInput]) -> AwardView:
    """What the committee's own choice costs, and how much more than the best award."""
    rfq = rfq_for(actor, rfq_id)
    priced = priced_request(rfq)
    return _award_view(_own_choice(priced, lines), solve(priced))


def default_round_close(timezone: str, now: datetime | None = None) -> datetime:
    """Seven days from today at 17:00 in the network's time zone."""
    tz = ZoneInfo(timezone)
    day = (now or utcnow()).astimezone(tz).date() + timedelta(days=ROUND_DAYS)
    return datetime.combine(day, ROUND_HOUR, tzinfo=tz)


def award(actor: User, rfq_id: int, closes_at: datetime | None = None,
          lines: Sequence[ChoiceInput] | None = None) -> AwardResult:
    """Decide the request (the best award unless ``lines`` say otherwise) and create its draft round."""
    from orders.drafts import OfferSpec, create_draft_round

    rfq = rfq_for(actor, rfq_id, lock=True)
    if rfq.state == "awarded":
        raise Conflict("This request has been awarded already.", state=rfq.state, round_id=rfq.round_id)
    priced = priced_request(rfq)
    best = solve(priced)
    chosen = best if lines is None else _own_choice(priced, lines)
    if not chosen.lines:
        raise Conflict("No supplier has quoted a product eligibly: there is nothing to award.")
    deadline = closes_at or default_round_close(actor.network.timezone)
    if deadline <= utcnow():
        raise InvalidInput("The round's deadline must be in the future.", {"closes_at": ["Must be in the future."]})
    terms = {(inv.supplier_id, ln.product_id): ln for inv in rfq.invitations if inv.quote for ln in inv.quote.lines}
    reference = {i.product_id: i.reference_price for i in rfq.items}
    offers = [OfferSpec(product_id=ln.product_id, supplier_id=ln.supplier_id,
                        pack_size=terms[ln.supplier_id, ln.product_id].pack_size,
                        min_quantity=terms[ln.supplier_id, ln.product_id].min_quantity,
                        reference_price=reference[ln.product_id],
                        tiers=[(t.min_quantity, t.unit_price) for t in terms[ln.supplier_id, ln.product_id].tiers])
              for ln in chosen.lines]
    rnd = create_draft_round(actor, rfq.name, deadline, offers, dict(chosen.supplier_fees))
    now = utcnow()
    awarded = chosen.choice()
    for item in rfq.items:
        item.awarded_supplier_id = awarded.get(item.product_id)
    rfq.state, rfq.awarded_at, rfq.round_id, rfq.awarded_total = "awarded", now, rnd.id, chosen.total
    record(actor, "rfq.award", "rfq", rfq.id, {"state": "open"},
           {"state": "awarded", "round_id": rnd.id, "total": chosen.total, "best_total": best.total,
            "lines": [[p, s] for p, s in sorted(awarded.items())]})
    db.session.commit()
    return AwardResult(rfq.id, rnd.id, chosen.total, best.total, chosen.total - best.total)


@dataclass(frozen=True)
class AwardedRequest:
    rfq_id: int
    name: str
    awarded_at: datetime
    product_names: dict[int, str]
    won: CompetitionWon


def awarded_between(network_id: int, start: datetime, end: datetime) -> list[AwardedRequest]:
    """The network's requests awarded in ``[start, end)`` with what competition won (for the monthly
    summary, which is built by a job: no acting user; the caller shows the network its own figures)."""
    from sqlalchemy import select

    from quotes.services import load_request

    ids = db.session.scalars(select(Rfq.id).where(
        Rfq.network_id == network_id, Rfq.state == "awarded", Rfq.awarded_at >= start, Rfq.awarded_at < end)
        .order_by(Rfq.awarded_at, Rfq.id))
    out = []
    for rfq_id in list(ids):
        rfq = load_request(rfq_id)
        choice = {i.product_id: i.awarded_supplier_id for i in rfq.items if i.awarded_supplier_id is not None}
        assert rfq.awarded_at is not None
        out.append(AwardedRequest(rfq.id, rfq.name, rfq.awarded_at, {i.product_id: i.product.name for i in rfq.items},
                                  competition_won(priced_request(rfq), choice)))
    return out
