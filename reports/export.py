"""The summary as CSV: UTF-8 with a byte-order mark so spreadsheet programs show Thai correctly."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.csv_export import csv_bytes

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


def summary_csv(summary: Mapping[str, Any]) -> bytes:
    """Sections (summary, network, groups, products, trend) separated by a blank line."""
    rows: list[list[Any]] = []
    keys = ("month", "version", "timezone", "built_at", "reviewed_at", "meeting_date", "attendance", "notes")
    rows += [list(keys), [summary.get(k) for k in keys], []]
    rows += [["network", *NETWORK_FIELDS], ["network", *[summary["network"].get(k) for k in NETWORK_FIELDS]], []]
    rows += [list(GROUP_FIELDS), *[[line.get(k) for k in GROUP_FIELDS] for line in summary.get("groups", [])], []]
    rows += [list(PRODUCT_FIELDS), *[[line.get(k) for k in PRODUCT_FIELDS] for line in summary.get("products", [])],
             []]
    rows += [list(TREND_FIELDS), *[[point.get(k) for k in TREND_FIELDS] for point in summary.get("trend", [])]]
    # Names (of groups, products, suppliers) and notes are typed by people: made safe for spreadsheets.
    return csv_bytes(rows)
