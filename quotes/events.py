"""What requests for quotation tell the committee, through the kernel's notification outbox (``core.notify``)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.clock import utcnow
from core.db import db
from core.notify import Audience, Event, emit, path_for
from quotes.models import Invitation, Quote, Rfq


def quote_received(rfq: Rfq, invitation: Invitation, quote_id: int) -> None:
    """The committee: a supplier sent its first quote (a later change of it says nothing new)."""
    emit(Event(key=f"quote_received:{quote_id}", kind="quote_received", network_id=rfq.network_id,
               audience=(Audience("committee"),),
               context={"rfq": rfq.name, "supplier": invitation.supplier.name if invitation.supplier else ""},
               link=path_for("quotes_views.rfq_detail", rfq_id=rfq.id)))


def announce_closed_requests() -> int:
    """Periodic: requests whose closing time passed (in the last week) and are not yet awarded: the
    committee hears once per request (its key), with how many quotes came in."""
    now = utcnow()
    rows = db.session.execute(
        select(Rfq, func.count(Quote.id))
        .outerjoin(Invitation, Invitation.rfq_id == Rfq.id).outerjoin(Quote, Quote.invitation_id == Invitation.id)
        .where(Rfq.state == "open", Rfq.closes_at <= now, Rfq.closes_at > now - timedelta(days=7))
        .group_by(Rfq.id)).all()
    emit(*[Event(key=f"rfq_closed:{rfq.id}", kind="rfq_closed", network_id=rfq.network_id,
                 audience=(Audience("committee"),), context={"rfq": rfq.name, "quotes": int(quotes)},
                 link=path_for("quotes_views.rfq_detail", rfq_id=rfq.id)) for rfq, quotes in rows])
    db.session.commit()
    return len(rows)
