"""Receipts are bounded (issue 11, point 4): ``received_at`` is neither in the future nor before the purchase
order existed; a receipt landing in a reviewed month makes it stale (a new version, flagged); a receipt after
the group paid in full, short of what was ordered, is recorded and leaves the group in credit."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core import jobs
from core.models import Job


@pytest.fixture
def combined(db_session, make_network, make_group, make_user, make_round, make_offer, place_order,
             token_for):  # type: ignore[no-untyped-def]
    from orders import combine
    from orders.models import BuyingRound, PurchaseOrder

    network = make_network()
    g1, g2 = make_group(network, name="กลุ่มหนึ่ง"), make_group(network, name="กลุ่มสอง")
    committee = make_user(network, "committee")
    rnd = make_round(network, name="รอบข้าว")
    offer = make_offer(rnd, tiers=[(0, "10.00")], pack_size=1, reference_price="12.00")
    place_order(rnd, g1, [(offer, 6, 0)])
    place_order(rnd, g2, [(offer, 4, 0)])
    db_session.get(BuyingRound, rnd.id).state = "closed"
    db_session.commit()
    combine.combine_round(rnd.id)
    po = db_session.scalar(select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id))
    return {"network": network, "g1": g1, "g2": g2, "committee": committee, "round": rnd, "offer": offer, "po": po,
            "h": token_for(committee)}


def _receipt(client: Any, c: dict[str, Any], received: int, when: datetime | None = None) -> Any:
    body: dict[str, Any] = {"lines": [{"offer_id": c["offer"].id, "received_quantity": received}]}
    if when is not None:
        body["received_at"] = when.isoformat()
    return client.post(f"/api/v1/purchase-orders/{c['po'].id}/receipt", headers=c["h"], json=body)


def test_received_at_in_the_future_is_refused_naming_the_field(client, combined, db_session):  # type: ignore[no-untyped-def]
    response = _receipt(client, combined, 10, datetime.now(UTC) + timedelta(hours=2))
    assert response.status_code == 422 and "received_at" in response.json["error"]["fields"]
    db_session.expire_all()
    assert combined["po"].received_at is None


def test_received_at_before_the_purchase_order_existed_is_refused(client, combined, db_session):  # type: ignore[no-untyped-def]
    before_order = combined["po"].created_at - timedelta(days=40)
    response = _receipt(client, combined, 10, before_order)
    assert response.status_code == 422, response.json
    assert "received_at" in response.json["error"]["fields"]
    db_session.expire_all()
    assert combined["po"].received_at is None
    # The moment the order existed is fine.
    assert _receipt(client, combined, 10, combined["po"].created_at).status_code == 200


def test_a_short_delivery_after_full_payment_is_recorded_and_leaves_a_credit(client, combined, db_session):  # type: ignore[no-untyped-def]
    c = combined
    invoices = {i["group_id"]: i for i in client.get(f"/api/v1/rounds/{c['round'].id}/invoices", headers=c["h"]).json}
    # g1 pays its whole invoice (6 x 10.00) before the goods arrive.
    paid = client.post(f"/api/v1/invoices/{invoices[c['g1'].id]['id']}/payments", headers=c["h"],
                       json={"amount": invoices[c["g1"].id]["total"]})
    assert paid.status_code in (200, 201), paid.json
    # Only 5 of the 10 arrive: shared 3 / 2 by the fair rule, so g1 now owes 30.00 and has paid 60.00.
    response = _receipt(client, c, 5)
    assert response.status_code == 200, response.json
    after = {i["group_id"]: i for i in client.get(f"/api/v1/rounds/{c['round'].id}/invoices", headers=c["h"]).json}
    g1 = after[c["g1"].id]
    assert (g1["total"], g1["paid"], g1["outstanding"], g1["credit"]) == ("30.00", "60.00", "0.00", "30.00")
    g2 = after[c["g2"].id]
    assert (g2["total"], g2["paid"], g2["credit"], g2["outstanding"]) == ("20.00", "0.00", "0.00", "20.00")
    # No payment can add to a credit.
    more = client.post(f"/api/v1/invoices/{g1['id']}/payments", headers=c["h"], json={"amount": "1.00"})
    assert more.status_code == 422 and "amount" in more.json["error"]["fields"]
    # The invoice page says it in words.
    from flask import current_app

    from tests.integration.pages_helpers import login

    pages = current_app.test_client()
    login(pages, c["committee"])
    html = pages.get(f"/invoices/{g1['id']}").get_data(as_text=True)
    assert 'id="credit"' in html and "30.00" in html


def test_a_receipt_in_a_reviewed_month_makes_it_stale(client, combined, db_session, monkeypatch):  # type: ignore[no-untyped-def]
    """The receipt lands in last month, which was built and signed: a rebuild is enqueued; version 1 stays."""
    import reports.services
    from reports import periods
    from reports.models import MonthlySummary

    c = combined
    tz = periods.zone(c["network"].timezone)
    local = datetime.now(UTC).astimezone(tz)
    last = periods.label(*periods.add_months(local.year, local.month, -1))
    start = periods.start_of(tz, *periods.parse_month(last))
    c["po"].created_at = start + timedelta(days=1)  # the order dates from last month
    db_session.commit()
    reports.services.build_summary(c["network"].id, last)
    reports.services.review(c["committee"], last, local.date(), 7)
    signed = db_session.scalar(select(MonthlySummary).where(MonthlySummary.network_id == c["network"].id))
    signed_data = dict(signed.data)
    assert _receipt(client, c, 10, start + timedelta(days=2)).status_code == 200
    stale = db_session.scalars(select(Job).where(Job.dedupe_key.like(f"summary:{c['network'].id}:{last}:stale:%"))).all()
    assert len(stale) == 1
    assert jobs.run_job(stale[0].id) == "succeeded"
    versions = db_session.scalars(select(MonthlySummary).where(MonthlySummary.network_id == c["network"].id)
                                  .order_by(MonthlySummary.version)).all()
    assert [v.version for v in versions] == [1, 2]
    db_session.refresh(versions[0])
    assert versions[0].data == signed_data and versions[0].reviewed_at is not None
    latest = client.get(f"/api/v1/summaries/{last}", headers=c["h"]).json
    assert latest["changed_since_sign_off"] is True and latest["network"]["spend"] == "100.00"
    assert Decimal(signed_data["network"]["spend"]) == Decimal("0.00")
