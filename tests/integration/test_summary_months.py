"""A month in progress is never frozen (issue 11, point 1).

Look at the month, deliver a sale, look again: the sale is there, and looking stored nothing. Close the month:
the final version has everything. Change a reviewed month: the signed version is byte-for-byte the same, and
a new version is built, flagged "changed since sign-off", with the figures that moved."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import jobs
from core.models import Job
from reports import periods
from reports.models import MonthlySummary
from tests.integration.pages_helpers import login


@pytest.fixture
def market(db_session, make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    from market.models import Listing

    network = make_network()
    buyer = make_group(network, name="สหกรณ์บ้านนา", members=40, registered_poor_members=10)
    seller = make_group(network, name="กลุ่มทอผ้า", members=30, registered_poor_members=6)
    users = {"committee": make_user(network, "committee"), "leader": make_user(network, "leader", buyer),
             "seller": make_user(network, "seller", seller)}
    listing = Listing(network_id=network.id, group_id=seller.id, name="ผ้าไหม", unit="piece", price=Decimal("250.00"),
                      outside_price=Decimal("200.00"), reference_price=Decimal("300.00"), stock=50)
    db_session.add(listing)
    db_session.commit()
    tz = ZoneInfo(network.timezone)
    local = datetime.now(UTC).astimezone(tz)
    month = periods.label(local.year, local.month)
    next_year, next_month = periods.add_months(local.year, local.month, 1)
    return {"network": network, "buyer": buyer, "users": users, "listing": listing, "month": month,
            "month_end": periods.start_of(tz, next_year, next_month),
            "h": {role: token_for(user) for role, user in users.items()}}


def _stored(db_session: Any, network_id: int) -> list[MonthlySummary]:
    db_session.expire_all()
    return list(db_session.scalars(select(MonthlySummary).where(MonthlySummary.network_id == network_id)
                                   .order_by(MonthlySummary.version)))


def _sale(client: Any, m: dict[str, Any], quantity: int) -> int:
    placed = client.post(f"/api/v1/listings/{m['listing'].id}/purchases", headers=m["h"]["leader"],
                         json={"group_id": m["buyer"].id, "quantity": quantity})
    assert placed.status_code == 201, placed.json
    purchase_id = placed.json["id"]
    assert client.post(f"/api/v1/purchases/{purchase_id}/confirm", headers=m["h"]["seller"]).status_code == 200
    return int(purchase_id)


def test_a_month_in_progress_is_live_then_final_then_changed_after_sign_off(app, client, db_session, market,
                                                                           monkeypatch):  # type: ignore[no-untyped-def]
    m = market
    url = f"/api/v1/summaries/{m['month']}"
    committee = m["h"]["committee"]

    # 1. Look at the month in progress: provisional, as of now, and nothing stored by looking.
    first = client.get(url, headers=committee)
    assert first.status_code == 200, first.json
    assert first.json["provisional"] is True and first.json["version"] is None
    assert first.json["network"]["spend"] == "0.00"
    pages = app.test_client()
    login(pages, m["users"]["committee"])
    assert pages.get("/summaries").status_code == 200
    page = pages.get(f"/summaries/{m['month']}")
    assert page.status_code == 200 and 'id="provisional"' in page.get_data(as_text=True)
    assert 'id="review-form"' not in page.get_data(as_text=True)  # nothing to sign until the month ends
    assert _stored(db_session, m["network"].id) == [], "reading the month stored a version"

    # 2. A sale delivered after the first look: the next look has it.
    sale = _sale(client, m, 2)
    assert client.post(f"/api/v1/purchases/{sale}/deliver", headers=m["h"]["seller"], json={}).status_code == 200
    again = client.get(url, headers=committee).json
    assert again["provisional"] is True and again["network"]["spend"] == "500.00"
    assert _stored(db_session, m["network"].id) == []
    # A month in progress cannot be frozen on demand either.
    assert client.post(url, headers=committee).status_code == 409

    # 3. The month ends (in the network's time zone): the beat builds the final version with everything.
    after_end = m["month_end"] + timedelta(minutes=10)
    import reports.services

    monkeypatch.setattr(reports.services, "utcnow", lambda: after_end)
    assert reports.services.enqueue_due_summaries(after_end) >= 1
    job_id = db_session.scalar(select(Job.id).where(Job.dedupe_key == f"summary:{m['network'].id}:{m['month']}:v1"))
    assert job_id is not None and jobs.run_job(job_id) == "succeeded"
    final = client.get(url, headers=committee).json
    assert final["provisional"] is False and final["version"] == 1
    assert final["network"]["spend"] == "500.00" and final["changed_since_sign_off"] is False
    assert reports.services.enqueue_due_summaries(after_end + timedelta(hours=1)) == 0

    # 4. The committee signs version 1 off.
    signed = client.post(f"{url}/review", headers=committee,
                         json={"meeting_date": after_end.astimezone(ZoneInfo(m["network"].timezone)).date().isoformat(),
                               "attendance": 9})
    assert signed.status_code == 200, signed.json
    v1_row = _stored(db_session, m["network"].id)[0]
    v1_bytes = json.dumps(v1_row.data, sort_keys=True).encode()
    v1_meta = (v1_row.built_at, v1_row.reviewed_at, v1_row.attendance)

    # 5. A sale that counts in the signed month lands after sign-off (the reports' clock is past the month's
    #    end; the delivery is dated inside it): the month goes stale, a rebuild is enqueued in the same
    #    transaction; the signed version stays exactly as signed.
    late = _sale(client, m, 1)
    delivered = client.post(f"/api/v1/purchases/{late}/deliver", headers=m["h"]["seller"], json={})
    assert delivered.status_code == 200, delivered.json
    stale = db_session.scalars(select(Job).where(
        Job.dedupe_key.like(f"summary:{m['network'].id}:{m['month']}:stale:%"))).all()
    assert len(stale) == 1 and stale[0].state == "pending"
    assert jobs.run_job(stale[0].id) == "succeeded"
    rows = _stored(db_session, m["network"].id)
    assert [r.version for r in rows] == [1, 2]
    assert json.dumps(rows[0].data, sort_keys=True).encode() == v1_bytes
    assert (rows[0].built_at, rows[0].reviewed_at, rows[0].attendance) == v1_meta
    latest = client.get(url, headers=committee).json
    assert latest["version"] == 2 and latest["reviewed_at"] is None
    assert latest["changed_since_sign_off"] is True and latest["signed_version"] == 1
    moved = {(c["figure"], c["group_id"]): (c["before"], c["after"]) for c in latest["changes"]}
    assert moved[("spend", None)] == ("500.00", "750.00")
    assert moved[("spend", m["buyer"].id)] == ("500.00", "750.00")
    assert client.get(f"{url}?version=1", headers=committee).json["network"]["spend"] == "500.00"
    # The committee's page shows the flag and the figures that moved.
    html = pages.get(f"/summaries/{m['month']}").get_data(as_text=True)
    assert 'id="changed-since-sign-off"' in html and 'id="moved-figures"' in html and "750.00" in html

    # 6. A change that moves no figure (a payment, say) rebuilds nothing new: still two versions.
    assert reports.services.build_summary(m["network"].id, m["month"])[1] is False
    assert len(_stored(db_session, m["network"].id)) == 2


def test_a_rebuild_of_a_signed_month_with_nothing_changed_writes_no_new_version(db_session, market,
                                                                                monkeypatch):  # type: ignore[no-untyped-def]
    import reports.services

    m = market
    monkeypatch.setattr(reports.services, "utcnow", lambda: m["month_end"] + timedelta(days=1))
    summary, _ = reports.services.build_summary(m["network"].id, m["month"])
    reports.services.review(m["users"]["committee"], m["month"], (m["month_end"] + timedelta(days=1)).date(), 5)
    again, changed = reports.services.build_summary(m["network"].id, m["month"])
    assert not changed and again.id == summary.id
    assert db_session.scalar(select(func.count()).select_from(MonthlySummary)
                             .where(MonthlySummary.network_id == m["network"].id)) == 1
