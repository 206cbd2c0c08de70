"""Requests for quotation: what a quote line costs at the expected quantity, and the awards.

Pure rules (plain data in, plain data out). At expected quantity ``Q`` a quote line buys the smallest
whole number of packs that holds ``Q``; its unit price is that of the highest tier reached by what is
bought; it is eligible only when its minimum is reached. The comparison shows three awards:

* the best award (:func:`best_award`, solved exactly in :mod:`pricing.award_solver`);
* the cheapest per product (:func:`cheapest_per_product`);
* the best single supplier (:func:`best_single_supplier`).

All sums are done in integer satang; results are ``Decimal`` quantised to 0.01.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pricing.money import CENT, from_satang, to_satang
from pricing.tiers import Tier, tier_for, validate_tiers


@dataclass(frozen=True)
class QuoteLine:
    """A supplier's terms for one product."""

    pack_size: int
    min_quantity: int
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class SupplierQuote:
    supplier_id: int
    delivery_fee: Decimal
    lines: Mapping[int, QuoteLine]  # product_id -> terms


@dataclass(frozen=True)
class PricedLine:
    """A quote line evaluated at the expected quantity."""

    product_id: int
    supplier_id: int
    bought_quantity: int
    unit_price: Decimal
    amount: Decimal
    eligible: bool


@dataclass(frozen=True)
class Award:
    """Products given to suppliers, with what it costs."""

    lines: tuple[PricedLine, ...]  # in product-id order
    supplier_fees: tuple[tuple[int, Decimal], ...]  # (supplier_id, delivery fee) of suppliers used
    amounts: Decimal
    delivery_fees: Decimal
    total: Decimal
    not_awarded: tuple[int, ...]

    @property
    def suppliers(self) -> tuple[int, ...]:
        return tuple(s for s, _ in self.supplier_fees)

    def choice(self) -> dict[int, int]:
        return {ln.product_id: ln.supplier_id for ln in self.lines}


def _is_money(x: object) -> bool:
    return isinstance(x, Decimal) and x.is_finite() and x >= 0 and x == x.quantize(CENT)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def validate_quote_line(line: QuoteLine) -> list[str]:
    """Problems with one line's terms (empty = valid), each naming the field."""
    problems: list[str] = []
    if not _is_int(line.pack_size) or line.pack_size < 1:
        problems.append("pack_size: must be an integer >= 1")
    if not _is_int(line.min_quantity) or line.min_quantity < 0:
        problems.append("min_quantity: must be an integer >= 0")
    problems.extend(validate_tiers(line.tiers))
    return problems


def validate_quote(delivery_fee: Decimal, lines: Mapping[int, QuoteLine]) -> list[str]:
    """Problems with a whole quote, fields named as ``lines[<product_id>].<field>``."""
    problems: list[str] = []
    if not _is_money(delivery_fee):
        problems.append("delivery_fee: must be >= 0 with at most two decimal places")
    for product_id, line in lines.items():
        problems.extend(f"lines[{product_id}].{p}" for p in validate_quote_line(line))
    return problems


def bought_quantity(quantity: int, pack_size: int) -> int:
    """The smallest whole number of packs that holds ``quantity``."""
    if not _is_int(quantity) or quantity < 0:
        raise ValueError(f"quantity must be an integer >= 0, got {quantity!r}")
    if not _is_int(pack_size) or pack_size < 1:
        raise ValueError(f"pack_size must be an integer >= 1, got {pack_size!r}")
    return -(-quantity // pack_size) * pack_size


def price_line(product_id: int, supplier_id: int, quantity: int, line: QuoteLine) -> PricedLine:
    """The line at expected quantity ``quantity``: what is bought, at which price, and if it is eligible."""
    problems = validate_quote_line(line)
    if problems:
        raise ValueError("; ".join(problems))
    bought = bought_quantity(quantity, line.pack_size)
    unit_price = tier_for(line.tiers, bought).unit_price
    return PricedLine(
        product_id=product_id,
        supplier_id=supplier_id,
        bought_quantity=bought,
        unit_price=unit_price,
        amount=from_satang(bought * to_satang(unit_price)),
        eligible=line.min_quantity <= bought,
    )


@dataclass(frozen=True)
class Priced:
    """Every quote line of a request at its expected quantities (eligible or not)."""

    quantities: Mapping[int, int]  # product_id -> expected quantity
    fees: Mapping[int, int]  # supplier_id -> delivery fee in satang
    lines: Mapping[int, Mapping[int, PricedLine]]  # product_id -> supplier_id -> line

    def eligible(self, product_id: int) -> dict[int, PricedLine]:
        return {s: ln for s, ln in self.lines.get(product_id, {}).items() if ln.eligible}

    def amount_satang(self, product_id: int, supplier_id: int) -> int:
        return to_satang(self.lines[product_id][supplier_id].amount)


def price_request(quantities: Mapping[int, int], quotes: Sequence[SupplierQuote]) -> Priced:
    """Price every quote line of the request; lines for products not requested are ignored."""
    fees: dict[int, int] = {}
    lines: dict[int, dict[int, PricedLine]] = {p: {} for p in sorted(quantities)}
    for quote in quotes:
        if quote.supplier_id in fees:
            raise ValueError(f"supplier {quote.supplier_id} quoted twice")
        if not _is_money(quote.delivery_fee):
            raise ValueError(f"delivery_fee of supplier {quote.supplier_id}: must be >= 0 with two decimals")
        fees[quote.supplier_id] = to_satang(quote.delivery_fee)
        for product_id, line in quote.lines.items():
            if product_id in quantities:
                lines[product_id][quote.supplier_id] = price_line(
                    product_id, quote.supplier_id, quantities[product_id], line
                )
    return Priced(quantities=dict(quantities), fees=fees, lines=lines)


def award_of(priced: Priced, choice: Mapping[int, int]) -> Award:
    """What giving each product in ``choice`` to its supplier costs; unchosen products are not awarded.

    Raises ValueError naming the product when the chosen supplier has no eligible quote for it.
    """
    chosen: list[PricedLine] = []
    for product_id in sorted(choice):
        supplier_id = choice[product_id]
        line = priced.lines.get(product_id, {}).get(supplier_id)
        if product_id not in priced.quantities:
            raise ValueError(f"product {product_id}: not in the request")
        if line is None or not line.eligible:
            raise ValueError(f"product {product_id}: supplier {supplier_id} has no eligible quote for it")
        chosen.append(line)
    used = sorted({ln.supplier_id for ln in chosen})
    amounts = sum(to_satang(ln.amount) for ln in chosen)
    fees = sum(priced.fees[s] for s in used)
    return Award(
        lines=tuple(chosen),
        supplier_fees=tuple((s, from_satang(priced.fees[s])) for s in used),
        amounts=from_satang(amounts),
        delivery_fees=from_satang(fees),
        total=from_satang(amounts + fees),
        not_awarded=tuple(p for p in sorted(priced.quantities) if p not in choice),
    )


def awardable(priced: Priced) -> list[int]:
    """Products that have at least one eligible quote, in id order."""
    return [p for p in sorted(priced.quantities) if priced.eligible(p)]


def cheapest_per_product(priced: Priced) -> Award:
    """Each product to its lowest eligible amount (ties to the lower supplier id), plus the fees so used."""
    choice = {
        p: min(priced.eligible(p).values(), key=lambda ln: (to_satang(ln.amount), ln.supplier_id)).supplier_id
        for p in awardable(priced)
    }
    return award_of(priced, choice)


def best_single_supplier(priced: Priced) -> Award | None:
    """Among suppliers quoting every requested product eligibly, the lowest amounts + fee (ties: lower id)."""
    best: tuple[int, int, Award] | None = None
    for supplier_id in sorted(priced.fees):
        if not priced.quantities or any(supplier_id not in priced.eligible(p) for p in priced.quantities):
            continue
        award = award_of(priced, {p: supplier_id for p in priced.quantities})
        key = (to_satang(award.total), supplier_id)
        if best is None or key < best[:2]:
            best = (key[0], key[1], award)
    return None if best is None else best[2]


def best_award(priced: Priced, *, time_limit: float = 30.0, workers: int = 1) -> Award:
    """The award that costs the network least (see :mod:`pricing.award_solver`), proven optimal."""
    from pricing.award_solver import solve_best_award

    return solve_best_award(priced, time_limit=time_limit, workers=workers).award


# --- what competition won (the monthly summary) ------------------------------------------------------

@dataclass(frozen=True)
class CompetitionLine:
    """One awarded product: its amount against the median quote and the best single supplier."""

    product_id: int
    supplier_id: int
    quotes: int  # eligible quotes for the product
    awarded_amount: Decimal
    median_amount: Decimal
    single_supplier_amount: Decimal | None
    won_vs_median: Decimal
    won_vs_single_supplier: Decimal | None


@dataclass(frozen=True)
class CompetitionWon:
    """One awarded request: its total against the best single supplier's, and its products."""

    awarded_total: Decimal
    single_supplier_total: Decimal | None
    won_vs_single_supplier: Decimal | None
    won_vs_median: Decimal
    lines: tuple[CompetitionLine, ...]


def median_amount(amounts: Sequence[Decimal]) -> Decimal:
    """The middle amount; with an even count the mean of the two middle ones, half up to the satang."""
    if not amounts:
        raise ValueError("no amounts to take the median of")
    ordered = sorted(to_satang(a) for a in amounts)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return from_satang(ordered[mid])
    pair = ordered[mid - 1] + ordered[mid]
    return from_satang((pair + 1) // 2)  # amounts are >= 0: half up


def competition_won(priced: Priced, choice: Mapping[int, int]) -> CompetitionWon:
    """What the award ``choice`` (product -> supplier) won over the median quote and the best single
    supplier: per product ``median − awarded`` and ``single supplier − awarded``; for the request,
    the totals with delivery fees (single supplier) and the sum over products (median, no fees)."""
    awarded = award_of(priced, choice)
    single = best_single_supplier(priced)
    single_amounts = {ln.product_id: ln.amount for ln in single.lines} if single else {}
    lines = []
    for ln in awarded.lines:
        median = median_amount([q.amount for q in priced.eligible(ln.product_id).values()])
        alone = single_amounts.get(ln.product_id)
        lines.append(CompetitionLine(
            product_id=ln.product_id, supplier_id=ln.supplier_id, quotes=len(priced.eligible(ln.product_id)),
            awarded_amount=ln.amount, median_amount=median, single_supplier_amount=alone,
            won_vs_median=median - ln.amount, won_vs_single_supplier=None if alone is None else alone - ln.amount))
    return CompetitionWon(
        awarded_total=awarded.total, single_supplier_total=single.total if single else None,
        won_vs_single_supplier=(single.total - awarded.total) if single else None,
        won_vs_median=sum((line.won_vs_median for line in lines), Decimal("0.00")), lines=tuple(lines))
