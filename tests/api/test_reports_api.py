"""/api/v1/summaries: the contract's shape, CSV, the job, the review, and who sees what."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core import jobs
from market.models import Listing, Purchase
from reports import services
from reports.rollup_reads import rebuild

MONTH = "2026-03"


@pytest.fixture
def net(db_session, make_network, make_group, make_user, token_for):
    network = make_network()
    g1 = make_group(network, name="สหกรณ์บ้านนา", members=40, registered_poor_members=10)
    g2 = make_group(network, name="กลุ่มแม่บ้านทอผ้า", members=30, registered_poor_members=6)
    rice = Listing(network_id=network.id, group_id=g2.id, name="ข้าวหอมมะลิ", unit="kg", price=Decimal("35.00"),
                   outside_price=Decimal("28.00"), reference_price=Decimal("40.00"), stock=100)
    db_session.add(rice)
    db_session.flush()
    for buyer, seller, qty, when in ((g1, g2, 10, "2026-03-05T03:00:00"), (g2, g1, 4, "2026-03-06T03:00:00")):
        db_session.add(Purchase(
            network_id=network.id, listing_id=rice.id, buyer_group_id=buyer.id, seller_group_id=seller.id,
            quantity=qty, unit_price=Decimal("35.00"), outside_price=Decimal("28.00"),
            reference_price=Decimal("40.00"), amount=qty * Decimal("35.00"), income_gain=qty * Decimal("7.00"),
            buyer_saving=qty * Decimal("5.00"), state="delivered",
            delivered_at=datetime.fromisoformat(when).replace(tzinfo=UTC)))
    db_session.flush()
    rebuild(network.id)  # purchases written behind the delivery service: its roll-ups recomputed
    users = {role: make_user(network, role=role) for role in ("committee", "admin")}
    users["leader"] = make_user(network, role="leader", group=g1)
    users["seller"] = make_user(network, role="seller", group=g2)
    return {"network": network, "g1": g1, "g2": g2, "users": users,
            "h": {role: token_for(user) for role, user in users.items()}}


def built(net):
    summary, _ = services.build_summary(net["network"].id, MONTH)
    return summary


NETWORK_KEYS = {"spend", "baseline", "savings", "savings_percent", "fees", "income_gain", "registered_poor_savings",
                "price_reduction", "tier_attainment", "pooling_gain"}
GROUP_KEYS = {"group_id", "name", "spend", "baseline", "savings", "fees", "income_gain", "registered_poor_savings"}
PRODUCT_KEYS = {"product_id", "supplier_id", "ordered_quantity", "unit_price", "price_reduction", "tier_attainment",
                "pooling_gain", "groups_pooled", "competing_offers"}
TREND_KEYS = {"month", "spend", "savings", "price_reduction", "tier_attainment"}


def test_committee_gets_the_contract_shape(client, net):
    built(net)
    resp = client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"])
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert {"month", "version", "reviewed_at", "network", "groups", "products", "trend"} <= set(body)
    assert body["month"] == MONTH and body["version"] == 1 and body["reviewed_at"] is None
    assert NETWORK_KEYS <= set(body["network"])
    assert all(GROUP_KEYS <= set(g) for g in body["groups"]) and len(body["groups"]) == 2
    assert all(TREND_KEYS <= set(p) for p in body["trend"]) and body["trend"][-1]["month"] == MONTH
    assert body["products"] == []
    n = body["network"]
    # 10 + 4 kg of rice at 35 (reference 40, outside 28).
    assert (n["spend"], n["baseline"], n["savings"], n["income_gain"]) == ("490.00", "560.00", "70.00", "98.00")
    assert n["savings_percent"] == "0.1250" and n["price_reduction"] is None
    # 50.00 * 10/40 = 12.50; 20.00 * 6/30 = 4.00
    assert n["registered_poor_savings"] == "16.50"
    lines = {g["group_id"]: g for g in body["groups"]}
    assert lines[net["g1"].id]["savings"] == "50.00" and lines[net["g2"].id]["income_gain"] == "70.00"
    assert lines[net["g1"].id]["purchases"] == 1 and lines[net["g1"].id]["sales"] == 1


def test_csv_is_utf8_with_bom_and_thai_names(client, net):
    built(net)
    resp = client.get(f"/api/v1/summaries/{MONTH}?format=csv", headers=net["h"]["committee"])
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv" and "charset=utf-8" in resp.headers["Content-Type"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    text = resp.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["month", "version"] and rows[1][:2] == [MONTH, "1"]
    assert "สหกรณ์บ้านนา" in text and "กลุ่มแม่บ้านทอผ้า" in text
    network_row = next(r for r in rows if r and r[0] == "network" and r[1] != "spend")
    assert network_row[1:4] == ["490.00", "560.00", "70.00"]


def test_leader_and_seller_see_the_network_line_and_their_own_group_only(client, net):
    built(net)
    for role, group in (("leader", net["g1"]), ("seller", net["g2"])):
        body = client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"][role]).json
        assert [g["group_id"] for g in body["groups"]] == [group.id], role
        assert body["network"]["spend"] == "490.00"
        text = client.get(f"/api/v1/summaries/{MONTH}?format=csv", headers=net["h"][role]).data.decode("utf-8-sig")
        other = net["g2"] if group is net["g1"] else net["g1"]
        assert other.name not in text


def test_another_network_sees_no_summary(client, net, make_network, make_user, token_for):
    built(net)
    stranger = make_user(make_network(), role="committee")
    # The stranger's own network has its own (empty) month: none of this network's figures or groups.
    resp = client.get(f"/api/v1/summaries/{MONTH}", headers=token_for(stranger))
    assert resp.status_code == 200
    assert resp.json["network"]["spend"] == "0.00" and resp.json["groups"] == []
    assert resp.json["id"] != client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"]).json["id"]
    text = client.get(f"/api/v1/summaries/{MONTH}?format=csv", headers=token_for(stranger)).data.decode("utf-8-sig")
    assert net["g1"].name not in text and net["g2"].name not in text
    # Looking at the stranger's month stored nothing: it has no version 1.
    assert client.get(f"/api/v1/summaries/{MONTH}?version=1", headers=token_for(stranger)).status_code == 404
    assert client.get(f"/api/v1/summaries/{MONTH}?version=9", headers=token_for(stranger)).status_code == 404


def test_first_look_is_live_and_stores_nothing_and_a_bad_month_422_and_no_token_401(client, net, db_session):
    from sqlalchemy import func, select

    from reports.models import MonthlySummary

    first = client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"])
    assert first.status_code == 200 and first.json["version"] is None and first.json["provisional"] is True
    assert first.json["network"]["spend"] == "490.00" and first.json["reviewed_at"] is None
    assert db_session.scalar(select(func.count()).select_from(MonthlySummary)
                             .where(MonthlySummary.network_id == net["network"].id)) == 0
    built(net)
    stored = client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"]).json
    assert stored["version"] == 1 and stored["provisional"] is False
    assert client.get("/api/v1/summaries/2999-01", headers=net["h"]["committee"]).status_code == 404
    resp = client.get("/api/v1/summaries/2026-13", headers=net["h"]["committee"])
    assert resp.status_code == 422 and "month" in resp.json["error"]["fields"]
    assert client.get(f"/api/v1/summaries/{MONTH}").status_code == 401


def test_rebuild_is_a_job_and_only_the_committee_starts_it(client, net):
    resp = client.post(f"/api/v1/summaries/{MONTH}", headers=net["h"]["leader"])
    assert resp.status_code == 403
    resp = client.post(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"])
    assert resp.status_code == 202, resp.json
    job_id = resp.json["job_id"]
    # A second press while it waits returns the same job.
    assert client.post(f"/api/v1/summaries/{MONTH}", headers=net["h"]["admin"]).json["job_id"] == job_id
    assert jobs.run_job(job_id) == "succeeded"
    job = client.get(f"/api/v1/jobs/{job_id}", headers=net["h"]["committee"]).json
    assert job["state"] == "succeeded" and job["result"]["version"] == 1
    assert client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"]).json["version"] == 1
    future = client.post("/api/v1/summaries/2999-01", headers=net["h"]["committee"])
    assert future.status_code == 422


def test_review_by_the_committee_freezes_the_version(client, net, db_session):
    from sqlalchemy import select

    built(net)
    body = {"meeting_date": "2026-04-05", "attendance": 14, "notes": "ที่ประชุมรับรองสรุปยอดเดือนมีนาคม"}
    assert client.post(f"/api/v1/summaries/{MONTH}/review", headers=net["h"]["leader"], json=body).status_code == 403
    assert client.post(f"/api/v1/summaries/{MONTH}/review", headers=net["h"]["seller"], json=body).status_code == 403
    bad = client.post(f"/api/v1/summaries/{MONTH}/review", headers=net["h"]["committee"],
                      json={"meeting_date": "soon", "attendance": -1})
    assert bad.status_code == 422 and {"meeting_date", "attendance"} <= set(bad.json["error"]["fields"])
    resp = client.post(f"/api/v1/summaries/{MONTH}/review", headers=net["h"]["committee"], json=body)
    assert resp.status_code == 200, resp.json
    out = resp.json
    assert out["reviewed_at"] is not None and out["reviewed_by_id"] == net["users"]["committee"].id
    assert (out["meeting_date"], out["attendance"], out["notes"]) == ("2026-04-05", 14, body["notes"])
    again = client.post(f"/api/v1/summaries/{MONTH}/review", headers=net["h"]["committee"], json=body)
    assert again.status_code == 409

    # A change after review, then a rebuild, writes version 2; version 1 stays as reviewed.
    late = Purchase(network_id=net["network"].id, listing_id=db_session.scalar(select(Listing.id)),
                    buyer_group_id=net["g1"].id, seller_group_id=net["g2"].id, quantity=1,
                    unit_price=Decimal("35.00"), outside_price=Decimal("28.00"), reference_price=Decimal("40.00"),
                    amount=Decimal("35.00"), income_gain=Decimal("7.00"), buyer_saving=Decimal("5.00"),
                    state="delivered", delivered_at=datetime(2026, 3, 20, 3, tzinfo=UTC))
    db_session.add(late)
    db_session.flush()
    rebuild(net["network"].id)
    db_session.commit()
    job_id = client.post(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"]).json["job_id"]
    assert jobs.run_job(job_id) == "succeeded"
    latest = client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"]).json
    assert latest["version"] == 2 and latest["reviewed_at"] is None
    assert [v["version"] for v in latest["versions"]] == [1, 2]
    v1 = client.get(f"/api/v1/summaries/{MONTH}?version=1", headers=net["h"]["committee"]).json
    assert v1["version"] == 1 and v1["attendance"] == 14 and v1["reviewed_at"] == out["reviewed_at"]


def test_openapi_documents_the_summaries(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/summaries/{month}" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/summaries/{month}/review"]
