"""Charts of a monthly summary, drawn by matplotlib (Agg, no display, no pyplot global state).

Each function takes a summary as ``get_summary`` returns it (or its stored ``data``) and returns
PNG bytes (or SVG with ``fmt="svg"``): savings per month, price reduction and tier attainment per
month, savings by group. Thai names are drawn with a Thai font when one is installed.
"""
from __future__ import annotations

from collections.abc import Mapping

import io
import math
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

# Families tried glyph by glyph: Latin from DejaVu, Thai from the first Thai font present.
_THAI_FONTS = ("Noto Sans Thai", "Noto Sans Thai UI", "Sarabun", "Garuda", "Loma", "Waree", "Kinnari", "Norasi")
GREEN, BLUE, ORANGE, RED = "#2f6b3f", "#1f5a8f", "#c77c0e", "#a01818"


def _families() -> list[str]:
    present = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in _THAI_FONTS if name in present]]


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _render(fig: Figure, fmt: str) -> bytes:
    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be png or svg, not {fmt!r}")
    buf = io.BytesIO()
    with matplotlib.rc_context({"font.family": _families(), "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    return buf.getvalue()


def _f(value: Any) -> float:
    """For drawing only: the figures themselves stay exact strings in the summary."""
    return float(Decimal(value)) if value not in (None, "") else 0.0


def _styled(fig: Figure, title: str) -> Any:
    with matplotlib.rc_context({"font.family": _families()}):
        ax = fig.subplots()
        ax.set_title(title, loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return ax


def savings_chart(summary: Mapping[str, Any], fmt: str = "png", title: str = "Savings per month (baht)") -> bytes:
    """Bars of savings per month of the trend, the summary's own month highlighted."""
    trend = summary.get("trend") or []
    months = [p["month"] for p in trend]
    values = [_f(p["savings"]) for p in trend]
    fig = _figure()
    with matplotlib.rc_context({"font.family": _families()}):
        ax = _styled(fig, title)
        colors = [GREEN if m == summary.get("month") else "#8fb89a" for m in months]
        colors = [RED if v < 0 else c for v, c in zip(values, colors)]
        ax.bar(months, values, color=colors)
        ax.axhline(0, color="#556", linewidth=0.8)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.set_ylabel("baht")
    return _render(fig, fmt)


def bargaining_chart(summary: Mapping[str, Any], fmt: str = "png",
                     title: str = "Price reduction and tier attainment per month") -> bytes:
    """Two lines: price reduction and tier attainment per month, as percentages (gaps where none)."""
    trend = summary.get("trend") or []
    months = [p["month"] for p in trend]

    def series(key: str) -> list[float]:
        return [float(Decimal(p[key])) if p.get(key) is not None else float("nan") for p in trend]

    fig = _figure()
    with matplotlib.rc_context({"font.family": _families()}):
        ax = _styled(fig, title)
        ax.plot(months, series("price_reduction"), marker="o", color=BLUE, label="price reduction")
        ax.plot(months, series("tier_attainment"), marker="s", color=ORANGE, label="tier attainment")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(bottom=min([0.0, *[v for v in series("price_reduction") if not math.isnan(v)]]))
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.legend(loc="lower left", frameon=False, fontsize=8)
    return _render(fig, fmt)


def groups_chart(summary: Mapping[str, Any], fmt: str = "png", title: str = "Savings by group (baht)",
                 limit: int = 25) -> bytes:
    """Horizontal bars of each group's savings this month, largest first (at most ``limit``)."""
    lines = sorted(summary.get("groups") or [], key=lambda g: _f(g["savings"]), reverse=True)[:limit]
    names = [g["name"] for g in lines][::-1]
    values = [_f(g["savings"]) for g in lines][::-1]
    fig = _figure(height=max(2.4, 0.35 * len(lines) + 1.2))
    with matplotlib.rc_context({"font.family": _families()}):
        ax = _styled(fig, title)
        ax.barh(names, values, color=[RED if v < 0 else GREEN for v in values])
        ax.axvline(0, color="#556", linewidth=0.8)
        ax.grid(axis="x", alpha=0.3)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("baht")
    return _render(fig, fmt)


CHARTS = {"savings": savings_chart, "bargaining": bargaining_chart, "groups": groups_chart}


def chart(summary: Mapping[str, Any], kind: str, fmt: str = "png") -> bytes:
    """One of ``CHARTS`` by name: 'savings', 'bargaining' or 'groups'."""
    try:
        draw = CHARTS[kind]
    except KeyError:
        raise ValueError(f"no chart called {kind!r}; one of {sorted(CHARTS)}") from None
    return draw(summary, fmt=fmt)
