"""The calendar suite (issue 21): the demo and every month-dependent flow, with the clock fixed at the instants
where months, years and leap days turn, in the network's zone (Asia/Bangkok) and in UTC.

For each instant the demo is seeded as `flask demo seed` does, then a leader orders, the committee closes and
combines the round and records its delivery, the month in progress is read live, the month ends and the
month-end job builds it, the committee signs it off on the page, and the summary page and its charts are read.
What each step expects is derived from the fixed instant in the network's zone, never from today."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from core.format import BUDDHIST_ERA, THAI_MONTHS, THAI_MONTHS_FULL
from reports import periods

pytestmark = pytest.mark.calendar

DEMO_PASSWORD = "ruamsue-demo"
ZONES = ("Asia/Bangkok", "UTC")
# Instants on the real clock (UTC); what they mean depends on the network's zone.
INSTANTS = {
    "first minute of April in Bangkok (17:00 UTC, 31 March)": datetime(2027, 3, 31, 17, 0, tzinfo=UTC),
    "last minute of April in Bangkok": datetime(2027, 4, 30, 16, 59, tzinfo=UTC),
    "last minute of April in UTC": datetime(2027, 4, 30, 23, 59, tzinfo=UTC),
    "31 December 23:59 in Bangkok (BE 2569)": datetime(2026, 12, 31, 16, 59, tzinfo=UTC),
    "1 January 00:00 in Bangkok (BE 2570)": datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
    "31 December 23:59 in UTC": datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
    "1 January 00:00 in UTC": datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
    "29 February 2028": datetime(2028, 2, 29, 5, 0, tzinfo=UTC),
    "the middle of a month": datetime(2027, 6, 15, 5, 0, tzinfo=UTC),
}


@dataclass
class Month:
    label: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, tz: ZoneInfo, year: int, month: int) -> Month:
        ny, nm = periods.add_months(year, month, 1)
        return cls(periods.label(year, month), periods.start_of(tz, year, month), periods.start_of(tz, ny, nm))


def thai_month(label: str, full: bool = True) -> str:
    year, month = periods.parse_month(label)
    return f"{(THAI_MONTHS_FULL if full else THAI_MONTHS)[month - 1]} {year + BUDDHIST_ERA}"


def token(client: Any, email: str) -> dict[str, str]:
    got = client.post("/api/v1/tokens", json={"email": email, "password": DEMO_PASSWORD})
    assert got.status_code == 201, got.get_data(as_text=True)
    return {"Authorization": f"Bearer {got.json['token']}"}


def page_login(app: Any, email: str) -> Any:
    pages = app.test_client()
    form = pages.get("/login?lang=th").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert csrf is not None
    done = pages.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf.group(1)})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    return pages


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("instant", list(INSTANTS.values()), ids=list(INSTANTS))
def test_the_demo_and_a_month_on_any_day(app: Any, client: Any, db_session: Any, instant: datetime,
                                         zone: str) -> None:
    from core import jobs
    from core.models import Job
    from demo.seed import DEMO_USERS, seed
    from network.models import Network, User
    from orders.models import BuyingRound, GroupOrder, Offer, OrderLine, PurchaseOrder
    from reports.models import MonthlySummary
    from reports.services import enqueue_due_summaries

    tz = ZoneInfo(zone)
    local = instant.astimezone(tz)
    this = Month.of(tz, local.year, local.month)
    last = Month.of(tz, *periods.add_months(local.year, local.month, -1))
    with time_machine.travel(instant, tick=False):
        # 1. The demo looks right on this day: last month's round delivered and summarised, this month's
        #    round open with orders placed between its opening and now.
        assert seed(timezone=zone) is True
        network = db_session.scalars(select(Network)).one()
        assert network.timezone == zone
        past, current = db_session.scalars(select(BuyingRound).where(BuyingRound.network_id == network.id)
                                           .order_by(BuyingRound.id)).all()
        delivered = db_session.scalars(select(PurchaseOrder.received_at)
                                       .where(PurchaseOrder.round_id == past.id)).all()
        assert delivered and all(last.start <= at < last.end for at in delivered), (delivered, last)
        stored = db_session.scalars(select(MonthlySummary).where(MonthlySummary.network_id == network.id)).all()
        assert [s.month for s in stored] == [last.label]
        assert stored[0].data["network"]["spend"] != "0.00"
        assert current.state == "open" and this.start <= current.opened_at <= instant < current.closes_at
        assert THAI_MONTHS_FULL[local.month - 1] in current.name
        placed = db_session.scalars(select(OrderLine.placed_at).join(GroupOrder)
                                    .where(GroupOrder.round_id == current.id)).all()
        assert placed and all(current.opened_at <= at <= instant for at in placed)

        # 2. A leader orders; the committee closes the round, combines it and records the delivery now.
        leader, committee = token(client, DEMO_USERS["leader"][0]), token(client, DEMO_USERS["committee"][0])
        group_id = db_session.scalar(select(User.group_id).where(User.email == DEMO_USERS["leader"][0]))
        offers = db_session.scalars(select(Offer.id).where(Offer.round_id == current.id).order_by(Offer.id)).all()
        put = client.put(f"/api/v1/rounds/{current.id}/orders/{group_id}", headers=leader,
                         json={"lines": [{"offer_id": offers[0], "quantity": 500, "tolerance": 0},
                                         {"offer_id": offers[1], "quantity": 30, "tolerance": 0}]})
        assert put.status_code == 200, put.get_data(as_text=True)
        closed = client.post(f"/api/v1/rounds/{current.id}/close", headers=committee)
        assert closed.status_code == 202, closed.get_data(as_text=True)
        assert jobs.run_job(closed.json["job_id"]) == "succeeded"
        orders = client.get(f"/api/v1/rounds/{current.id}/purchase-orders", headers=committee).json
        assert orders
        for po in orders:
            got = client.post(f"/api/v1/purchase-orders/{po['id']}/receipt", headers=committee, json={
                "lines": [{"offer_id": ln["offer_id"], "received_quantity": ln["ordered_quantity"]}
                          for ln in po["lines"]]})
            assert got.status_code in (200, 201), got.get_data(as_text=True)

        # 3. The month in progress is live, in the network's zone: this delivery counts in this month.
        live = client.get(f"/api/v1/summaries/{this.label}", headers=committee)
        assert live.status_code == 200 and live.json["provisional"] is True
        assert live.json["month"] == this.label and live.json["network"]["spend"] != "0.00"
        before = client.get(f"/api/v1/summaries/{last.label}", headers=committee).json
        assert before["provisional"] is False and before["version"] == 1
        assert client.post(f"/api/v1/summaries/{this.label}/review", headers=committee,
                           json={"meeting_date": local.date().isoformat(), "attendance": 5}).status_code in (404, 409)

    # 4. The month ends where the network is: ten minutes into the next month the month-end job builds it.
    after_end = this.end + timedelta(minutes=10)
    meeting_day: date = after_end.astimezone(tz).date()
    with time_machine.travel(after_end, tick=False):
        assert enqueue_due_summaries(after_end) >= 1
        job_id = db_session.scalar(select(Job.id).where(Job.dedupe_key == f"summary:{network.id}:{this.label}:v1"))
        assert job_id is not None and jobs.run_job(job_id) == "succeeded"
        final = client.get(f"/api/v1/summaries/{this.label}", headers=committee).json
        assert final["provisional"] is False and final["version"] == 1
        assert final["network"]["spend"] == live.json["network"]["spend"]

        # 5. The committee's page: the month in Thai with its Buddhist-era year, the meeting day the network's
        #    today (not the server's), signed off on that day; a day later is refused as in the future.
        pages = page_login(app, DEMO_USERS["committee"][0])
        url = f"/summaries/{this.label}"
        html = pages.get(url).get_data(as_text=True)
        assert thai_month(this.label) in html
        shown = f"{meeting_day.day:02d}/{meeting_day.month:02d}/{meeting_day.year + 543}"  # Buddhist era
        assert f'value="{shown}"' in html, "the meeting date defaults to the network's today"
        tomorrow = pages.post(url, data={"meeting_date": (meeting_day + timedelta(days=1)).isoformat(),
                                         "attendance": "12", "notes": "", "csrf_token": csrf_of(html)})
        assert tomorrow.status_code == 422 and "ต้องไม่เป็นวันในอนาคต" in tomorrow.get_data(as_text=True)
        signed = pages.post(url, data={"meeting_date": meeting_day.isoformat(), "attendance": "12", "notes": "",
                                       "csrf_token": csrf_of(html)})
        assert signed.status_code == 302, signed.get_data(as_text=True)[-1500:]
        reviewed = client.get(f"/api/v1/summaries/{this.label}", headers=committee).json
        assert reviewed["reviewed_at"] is not None and reviewed["meeting_date"] == meeting_day.isoformat()

        # 6. Charts name the months in Thai with their Buddhist-era years, the last two months included.
        for kind in ("savings", "bargaining", "groups"):
            svg = pages.get(f"/summaries/{this.label}/charts/{kind}.svg")
            assert svg.status_code == 200 and svg.mimetype == "image/svg+xml", kind
        trend = pages.get(f"/summaries/{this.label}/charts/savings.svg").get_data(as_text=True)
        assert thai_month(this.label, full=False) in trend and thai_month(last.label, full=False) in trend
