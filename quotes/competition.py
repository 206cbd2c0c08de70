"""What competition won, the quotes domain's part of the monthly summary (registered with
``core.summary_parts`` in quotes/app.py, stored under ``competition``): the requests for quotation awarded
in the month, their awarded amounts against the median quote and the best single supplier (docs/quotes.md)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pricing.money import CENT, ZERO
from quotes.award import awarded_between


def _money_text(value: Decimal | None) -> str | None:
    """Money as the summary's JSON writes it: a decimal string to the satang (None stays None)."""
    return None if value is None else str(value.quantize(CENT))


def competition(network_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    requests = awarded_between(network_id, start, end)
    products: list[dict[str, Any]] = []
    awarded_total = single_total = vs_single = vs_median = ZERO
    with_single = 0
    for req in requests:
        awarded_total += req.won.awarded_total
        vs_median += req.won.won_vs_median
        if req.won.single_supplier_total is not None and req.won.won_vs_single_supplier is not None:
            with_single += 1
            single_total += req.won.single_supplier_total
            vs_single += req.won.won_vs_single_supplier
        for line in req.won.lines:
            products.append({
                "rfq_id": req.rfq_id, "rfq_name": req.name, "product_id": line.product_id,
                "product_name": req.product_names.get(line.product_id, ""), "supplier_id": line.supplier_id,
                "quotes": line.quotes, "awarded_amount": _money_text(line.awarded_amount),
                "median_amount": _money_text(line.median_amount),
                "single_supplier_amount": _money_text(line.single_supplier_amount),
                "won_vs_median": _money_text(line.won_vs_median),
                "won_vs_single_supplier": _money_text(line.won_vs_single_supplier)})
    return {"requests": len(requests), "awarded_total": _money_text(awarded_total),
            "requests_with_single_supplier": with_single, "single_supplier_total": _money_text(single_total),
            "won_vs_single_supplier": _money_text(vs_single), "won_vs_median": _money_text(vs_median), "products": products}
