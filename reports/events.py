"""What the reports domain tells people, through the kernel's notification outbox (``core.notify``)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.clock import utcnow
from core.db import db
from core.notify import Audience, Event, emit, path_for
from network.models import Network
from reports import periods
from reports.models import MonthlySummary


def _money(value: object) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return Decimal("0.00")


def summary_ready(summary: MonthlySummary) -> None:
    """The committee: a month that has ended has a version waiting for review (once per version).
    A month still in progress is not announced: it is not final."""
    if summary.reviewed_at is not None:
        return
    network = db.session.get(Network, summary.network_id)
    if network is None:
        return
    year, month = periods.parse_month(summary.month)
    next_year, next_month = periods.add_months(year, month, 1)
    if periods.start_of(periods.zone(network.timezone), next_year, next_month) > utcnow():
        return
    figures = (summary.data or {}).get("network") or {}
    emit(Event(key=f"summary_ready:{summary.network_id}:{summary.month}:v{summary.version}", kind="summary_ready",
               network_id=summary.network_id, audience=(Audience("committee"),),
               context={"month": summary.month, "savings": _money(figures.get("savings", "0")),
                        "spend": _money(figures.get("spend", "0"))},
               link=path_for("reports_views.summary", month=summary.month)))
