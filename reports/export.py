"""The summary as CSV: UTF-8 with a byte-order mark so spreadsheet programs show Thai correctly."""
from __future__ import annotations

from collections.abc import Mapping

import csv
import io
from typing import Any

NETWORK_FIELDS = ("spend", "baseline", "savings", "savings_percent", "fees", "income_gain",
                  "registered_poor_savings", "price_reduction", "tier_attainment", "pooling_gain")
GROUP_FIELDS = ("group_id", "name", "district", "members", "registered_poor_members", "spend", "baseline",
                "savings", "savings_percent", "fees", "income_gain", "registered_poor_savings",
                "registered_poor_basis", "households_reached", "pooling_gain", "rounds_joined", "purchases", "sales")
PRODUCT_FIELDS = ("offer_id", "round_id", "product_id", "product", "unit", "supplier_id", "supplier",
                  "ordered_quantity", "received_quantity", "tier_min_quantity", "unit_price", "list_price",
                  "best_price", "price_reduction", "tier_attainment", "pooling_gain", "groups_pooled",
                  "competing_offers")
TREND_FIELDS = ("month", "spend", "baseline", "savings", "savings_percent", "fees", "income_gain",
                "pooling_gain", "price_reduction", "tier_attainment")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def summary_csv(summary: Mapping[str, Any]) -> bytes:
    """Sections (summary, network, groups, products, trend) separated by a blank line."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["month", "version", "timezone", "built_at", "reviewed_at", "meeting_date", "attendance", "notes"])
    w.writerow([_cell(summary.get(k)) for k in ("month", "version", "timezone", "built_at", "reviewed_at",
                                                 "meeting_date", "attendance", "notes")])
    w.writerow([])
    w.writerow(["network", *NETWORK_FIELDS])
    w.writerow(["network", *[_cell(summary["network"].get(k)) for k in NETWORK_FIELDS]])
    w.writerow([])
    w.writerow(GROUP_FIELDS)
    for line in summary.get("groups", []):
        w.writerow([_cell(line.get(k)) for k in GROUP_FIELDS])
    w.writerow([])
    w.writerow(PRODUCT_FIELDS)
    for line in summary.get("products", []):
        w.writerow([_cell(line.get(k)) for k in PRODUCT_FIELDS])
    w.writerow([])
    w.writerow(TREND_FIELDS)
    for point in summary.get("trend", []):
        w.writerow([_cell(point.get(k)) for k in TREND_FIELDS])
    return out.getvalue().encode("utf-8-sig")
