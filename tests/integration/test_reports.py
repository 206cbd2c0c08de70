"""The monthly summary on PostgreSQL: every figure to the satang against a table computed by hand.

The month is March 2026 in Asia/Bangkok (UTC+7). One buying round (network fee 2 %), delivered in
two purchase orders with a shortage on one, plus marketplace purchases, one of them delivered at
23:30 UTC on 28 February (already 1 March in Bangkok) and one at 23:30 UTC on 31 March (April).

Joint buying, by hand (pack size 1 everywhere):
  offer A  rice  S1 ref 30  tiers 0:28 100:26 200:25  delivery fee 50   G1 80  G2 50  -> 130 @ 26
  offer B  fert. S1 ref 900 tier  0:850                                   G1 3   G2 2   -> 5 @ 850
  offer C  oil   S2 ref 60  tiers 0:55 50:52          delivery fee 20   G1 30 G2 25 G3 5 -> 60 @ 52,
           received 50: largest remainder over 30/25/5 gives 25/21/4
  offer D  rice  S2 ref 30  tier 0:29, minimum 1000                       G1 5 -> not ordered
  PO S1: value 7630.00, network fee 152.60, + delivery 50 = 202.60 shared by line value
         (2080, 1300, 2550, 1700): 55.23, 34.52 (largest remainder), 67.71, 45.14
  PO S2: value 3120.00 (as ordered), network fee 62.40 + delivery 20 = 82.40 shared over the
         received values (1300, 1092, 208): 41.20, 34.61 (largest remainder), 6.59
  line            value    fee    amount  baseline  savings  pooling (alone-price)
  G1 A 80@26    2080.00  55.23   2135.23   2400.00   264.77   160.00 (28)
  G2 A 50@26    1300.00  34.52   1334.52   1500.00   165.48   100.00 (28)
  G1 B 3@850    2550.00  67.71   2617.71   2700.00    82.29     0.00
  G2 B 2@850    1700.00  45.14   1745.14   1800.00    54.86     0.00
  G1 C 25@52    1300.00  41.20   1341.20   1500.00   158.80    75.00 (55)
  G2 C 21@52    1092.00  34.61   1126.61   1260.00   133.39    63.00 (55)
  G3 C 4@52      208.00   6.59    214.59    240.00    25.41    12.00 (55)
  price reduction 1 - 10230/11400 = 0.102631.. -> 0.1026
  tier attainment A (28-26)/(28-25) = 2/3, B 1 (one tier), C 1 (best tier), weighted by ordered
  value 3380, 4250, 3120: (2/3*3380 + 7370)/10750 = 0.895193.. -> 0.8952
Marketplace (March, Bangkok):
  M1 G1 buys 100 rice of G3 @35 (outside 28, ref 40): 3500.00 / 4000.00, gain 700.00
  M2 G2 buys 20 rice of G3 @35, 2026-02-28 23:30 UTC:  700.00 /  800.00, gain 140.00
  M4 G3 buys 2 cloth of G2 @250 (outside 200, no ref): 500.00 / 500.00, gain 100.00
  M5 G2 buys 50 eggs of G1 @4 (no outside, ref 5):     200.00 / 250.00, gain 0.00
  M3 (2026-03-31 23:30 UTC) is April; M6 only confirmed; M8 cancelled; M7 is February.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.events import timezone_changed
from market.models import Listing, Purchase
from orders.combine import combine_round
from orders.delivery import record_receipt
from orders.models import Product, PurchaseOrder, Supplier
from reports import services
from reports.models import MonthlySummary
from reports.rollup_reads import rebuild


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def month_data(db_session, make_network, make_group, make_user, make_round, make_offer, place_order):
    net = make_network(fee_percent="2")
    g1 = make_group(net, name="สหกรณ์บ้านนา", members=40, registered_poor_members=10)
    g2 = make_group(net, name="กลุ่มแม่บ้านทอผ้า", members=30, registered_poor_members=7)
    g3 = make_group(net, name="วิสาหกิจชุมชนโรงสีข้าว", members=0, registered_poor_members=0)
    committee = make_user(net, role="committee")

    s1 = Supplier(network_id=net.id, name="Supplier One")
    s2 = Supplier(network_id=net.id, name="Supplier Two")
    rice = Product(network_id=net.id, name="ข้าวสาร", unit="kg")
    fert = Product(network_id=net.id, name="ปุ๋ย", unit="sack")
    oil = Product(network_id=net.id, name="น้ำมันพืช", unit="bottle")
    db_session.add_all([s1, s2, rice, fert, oil])
    db_session.flush()
    rnd = make_round(net, state="closed", closes_in=timedelta(days=-1))
    a = make_offer(rnd, supplier=s1, product=rice, reference_price="30.00", delivery_fee="50.00",
                   tiers=[(0, "28.00"), (100, "26.00"), (200, "25.00")])
    b = make_offer(rnd, supplier=s1, product=fert, reference_price="900.00", tiers=[(0, "850.00")])
    c = make_offer(rnd, supplier=s2, product=oil, reference_price="60.00", delivery_fee="20.00",
                   tiers=[(0, "55.00"), (50, "52.00")])
    d = make_offer(rnd, supplier=s2, product=rice, reference_price="30.00", min_quantity=1000,
                   tiers=[(0, "29.00")])
    t0 = at("2026-02-20T03:00:00")
    place_order(rnd, g1, [(a, 80, 0), (b, 3, 0), (c, 30, 0), (d, 5, 0)], placed_at=t0)
    place_order(rnd, g2, [(a, 50, 0), (b, 2, 0), (c, 25, 0)], placed_at=t0 + timedelta(minutes=1))
    place_order(rnd, g3, [(c, 5, 0)], placed_at=t0 + timedelta(minutes=2))
    combine_round(rnd.id)
    po1 = db_session.scalar(select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id,
                                                        PurchaseOrder.supplier_id == s1.id))
    po2 = db_session.scalar(select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id,
                                                        PurchaseOrder.supplier_id == s2.id))
    # The purchase orders date from the round's close in February (a receipt may not precede its order).
    po1.created_at = po2.created_at = t0 + timedelta(days=1)
    db_session.flush()
    # 00:00 on 1 March in Bangkok, and 23:59:59 on 31 March in Bangkok: both March.
    record_receipt(committee, po1.id, [], received_at=at("2026-02-28T17:00:00"))
    record_receipt(committee, po2.id, [{"offer_id": c.id, "received_quantity": 50}],
                   received_at=at("2026-03-31T16:59:59"))

    def listing(group, name, price, outside=None, reference=None):
        row = Listing(network_id=net.id, group_id=group.id, name=name, unit="kg", price=Decimal(price),
                      outside_price=Decimal(outside) if outside else None,
                      reference_price=Decimal(reference) if reference else None, stock=1000)
        db_session.add(row)
        db_session.flush()
        return row

    rice_l = listing(g3, "ข้าวหอมมะลิ", "35.00", outside="28.00", reference="40.00")
    cloth_l = listing(g2, "ผ้าทอมือ", "250.00", outside="200.00")
    eggs_l = listing(g1, "ไข่ไก่", "4.00", reference="5.00")

    def buy(lst, buyer, quantity, delivered_at, state="delivered"):
        amount = quantity * lst.price
        db_session.add(Purchase(
            network_id=net.id, listing_id=lst.id, buyer_group_id=buyer.id, seller_group_id=lst.group_id,
            quantity=quantity, unit_price=lst.price, outside_price=lst.outside_price,
            reference_price=lst.reference_price, amount=amount,
            income_gain=quantity * (lst.price - lst.outside_price) if lst.outside_price is not None else Decimal(0),
            buyer_saving=quantity * (lst.reference_price - lst.price) if lst.reference_price is not None else Decimal(0),
            state=state, placed_at=at("2026-02-01T00:00:00"),
            delivered_at=at(delivered_at) if delivered_at and state == "delivered" else None))

    buy(rice_l, g1, 100, "2026-03-10T03:00:00")   # M1
    buy(rice_l, g2, 20, "2026-02-28T23:30:00")    # M2: 06:30 on 1 March in Bangkok
    buy(cloth_l, g1, 3, "2026-03-31T23:30:00")    # M3: 06:30 on 1 April in Bangkok
    buy(cloth_l, g3, 2, "2026-03-15T05:00:00")    # M4
    buy(eggs_l, g2, 50, "2026-03-20T05:00:00")    # M5
    buy(rice_l, g1, 10, None, state="confirmed")  # M6: not delivered
    buy(rice_l, g1, 10, "2026-02-10T05:00:00")    # M7: February
    buy(rice_l, g2, 7, None, state="cancelled")   # M8

    # Another network's month must not leak in.
    other = make_network()
    o1, o2 = make_group(other), make_group(other)
    other_l = Listing(network_id=other.id, group_id=o1.id, name="x", unit="kg", price=Decimal("9.00"), stock=5)
    db_session.add(other_l)
    db_session.flush()
    db_session.add(Purchase(network_id=other.id, listing_id=other_l.id, buyer_group_id=o2.id,
                            seller_group_id=o1.id, quantity=1, unit_price=Decimal("9.00"), amount=Decimal("9.00"),
                            state="delivered", delivered_at=at("2026-03-05T00:00:00")))
    db_session.flush()
    for network in (net, other):
        rebuild(network.id)  # purchases written behind the delivery service: their roll-ups recomputed
    return {"net": net, "g1": g1, "g2": g2, "g3": g3, "committee": committee, "round": rnd,
            "offers": {"A": a, "B": b, "C": c, "D": d}, "products": {"rice": rice, "fert": fert, "oil": oil},
            "suppliers": {"S1": s1, "S2": s2}, "other": other}


EXPECTED_NETWORK = {
    "spend": "15415.00", "baseline": "16950.00", "savings": "1535.00", "savings_percent": "0.0906",
    "fees": "285.00", "income_gain": "940.00", "registered_poor_savings": "369.01",
    "price_reduction": "0.1026", "tier_attainment": "0.8952", "pooling_gain": "410.00",
}
# group: spend, baseline, savings, savings_percent, fees, income_gain, registered_poor_savings,
#        pooling_gain, rounds_joined, purchases, sales
EXPECTED_GROUPS = {
    "g1": ("9594.14", "10600.00", "1005.86", "0.0949", "164.14", "0.00", "251.47", "235.00", 1, 1, 1),
    "g2": ("5106.27", "5610.00", "503.73", "0.0898", "114.27", "100.00", "117.54", "163.00", 1, 2, 1),
    "g3": ("714.59", "740.00", "25.41", "0.0343", "6.59", "840.00", "0.00", "12.00", 1, 1, 2),
}
# offer: product, supplier, ordered, received, tier, unit_price, price_reduction, tier_attainment,
#        pooling_gain, groups_pooled, competing_offers
EXPECTED_PRODUCTS = {
    "A": ("rice", "S1", 130, 130, 100, "26.00", "0.1333", "0.6667", "260.00", 2, 2),
    "B": ("fert", "S1", 5, 5, 0, "850.00", "0.0556", "1.0000", "0.00", 2, 1),
    "C": ("oil", "S2", 60, 50, 50, "52.00", "0.1333", "1.0000", "150.00", 3, 1),
}
GROUP_KEYS = ("spend", "baseline", "savings", "savings_percent", "fees", "income_gain", "registered_poor_savings",
              "pooling_gain", "rounds_joined", "purchases", "sales")
PRODUCT_KEYS = ("ordered_quantity", "received_quantity", "tier_min_quantity", "unit_price", "price_reduction",
                "tier_attainment", "pooling_gain", "groups_pooled", "competing_offers")


def test_every_figure_of_the_month_to_the_satang(month_data, db_session):
    d = month_data
    summary, changed = services.build_summary(d["net"].id, "2026-03")
    assert changed and summary.version == 1
    data = summary.data
    assert data["month"] == "2026-03" and data["timezone"] == "Asia/Bangkok"
    assert {k: data["network"][k] for k in EXPECTED_NETWORK} == EXPECTED_NETWORK
    assert data["network"]["price_reduction_parts"] == {"actual": "10230.00", "baseline": "11400.00"}
    assert data["network"]["joint_buying"] == {"spend": "10515.00", "baseline": "11400.00", "savings": "885.00",
                                               "fees": "285.00"}
    assert data["network"]["marketplace"] == {"spend": "4900.00", "baseline": "5550.00", "savings": "650.00",
                                              "purchases": 4}
    assert (data["network"]["rounds"], data["network"]["purchase_orders"], data["network"]["groups_active"]) == (1, 2, 3)

    groups = {line["group_id"]: line for line in data["groups"]}
    assert set(groups) == {d["g1"].id, d["g2"].id, d["g3"].id}
    for key, expected in EXPECTED_GROUPS.items():
        line = groups[d[key].id]
        assert tuple(line[k] for k in GROUP_KEYS) == expected, key
    assert groups[d["g1"].id]["name"] == "สหกรณ์บ้านนา"
    # The groups add up to the network.
    for k in ("spend", "baseline", "savings", "fees", "income_gain", "registered_poor_savings", "pooling_gain"):
        assert sum(Decimal(g[k]) for g in data["groups"]) == Decimal(data["network"][k]), k

    products = {line["offer_id"]: line for line in data["products"]}
    assert set(products) == {d["offers"][k].id for k in "ABC"}  # D was never ordered
    for key, expected in EXPECTED_PRODUCTS.items():
        line = products[d["offers"][key].id]
        assert line["product_id"] == d["products"][expected[0]].id
        assert line["supplier_id"] == d["suppliers"][expected[1]].id
        assert tuple(line[k] for k in PRODUCT_KEYS) == expected[2:], key

    trend = {p["month"]: p for p in data["trend"]}
    assert [p["month"] for p in data["trend"]][-3:] == ["2026-01", "2026-02", "2026-03"]
    assert len(data["trend"]) == 12
    assert trend["2026-02"] == {"month": "2026-02", "spend": "350.00", "baseline": "400.00", "savings": "50.00",
                                "savings_percent": "0.1250", "fees": "0.00", "income_gain": "70.00",
                                "pooling_gain": "0.00", "price_reduction": None, "tier_attainment": None}
    assert trend["2026-03"]["savings"] == "1535.00" and trend["2026-03"]["tier_attainment"] == "0.8952"
    assert trend["2026-01"]["spend"] == "0.00"
    mom = data["month_over_month"]
    assert data["previous_month"] == "2026-02"
    assert mom["savings"] == {"previous": "50.00", "change": "1485.00", "change_percent": "29.7000"}
    assert mom["spend"]["change"] == "15065.00"
    assert mom["registered_poor_savings"] == {"previous": "12.50", "change": "356.51", "change_percent": "28.5208"}
    assert mom["price_reduction"] == {"previous": None, "change": None, "change_percent": None}


def test_a_purchase_at_2330_utc_on_the_last_day_counts_in_the_next_bangkok_month(month_data):
    d = month_data
    april = services.compute_summary(d["net"].id, "2026-04")
    assert april["network"]["spend"] == "750.00"          # M3 only: 3 cloth at 250
    assert april["network"]["income_gain"] == "150.00"
    assert {g["group_id"]: g["purchases"] for g in april["groups"]}[d["g1"].id] == 1
    february = services.compute_summary(d["net"].id, "2026-02")
    assert february["network"]["spend"] == "350.00"       # M7 only; M2 and PO S1 are March
    assert february["network"]["registered_poor_savings"] == "12.50"


def test_the_same_month_in_utc_would_differ(month_data, db_session):
    """In UTC the edges fall elsewhere: proves the time zone is applied, not ignored."""
    d = month_data
    d["net"].timezone = "UTC"
    db_session.flush()
    timezone_changed(d["net"].id)  # as update_network does: the months moved, the roll-ups are recomputed
    utc_march = services.compute_summary(d["net"].id, "2026-03")
    assert utc_march == services.compute_summary(d["net"].id, "2026-03", scan=True)
    # PO S1 (17:00 UTC 28 Feb; its lines 7832.60) and M2 (23:30 UTC 28 Feb) leave March; M3 (31 Mar 23:30 UTC) joins it.
    assert utc_march["network"]["spend"] == str(Decimal("15415.00") - Decimal("7832.60") - Decimal("700.00")
                                                + Decimal("750.00"))


def test_building_twice_gives_one_version_and_changes_replace_it_until_reviewed(month_data, db_session):
    d = month_data
    net_id = d["net"].id
    first, changed = services.build_summary(net_id, "2026-03")
    again, changed_again = services.build_summary(net_id, "2026-03")
    assert changed and not changed_again and again.id == first.id and again.version == 1
    assert db_session.scalar(select(func.count()).select_from(MonthlySummary)
                             .where(MonthlySummary.network_id == net_id)) == 1

    # A late change (group counts) before review: replaced in place, still version 1.
    d["g2"].registered_poor_members = 0
    db_session.flush()
    replaced, changed = services.build_summary(net_id, "2026-03")
    assert changed and replaced.id == first.id and replaced.version == 1
    assert replaced.data["network"]["registered_poor_savings"] == "251.47"

    reviewed = services.review(d["committee"], "2026-03", datetime(2026, 4, 5).date(), 17, "รับรองแล้ว")
    assert reviewed["version"] == 1 and reviewed["attendance"] == 17
    frozen = dict(db_session.get(MonthlySummary, first.id).data)

    second, changed = services.build_summary(net_id, "2026-03")
    assert not changed and second.id == first.id  # signed and nothing moved: no new version
    d["g2"].registered_poor_members = 3  # a change after sign-off
    db_session.flush()
    second, changed = services.build_summary(net_id, "2026-03")
    assert changed and second.version == 2 and second.id != first.id and second.reviewed_at is None
    third, changed = services.build_summary(net_id, "2026-03")
    assert not changed and third.id == second.id
    v1 = db_session.get(MonthlySummary, first.id)
    assert v1.data == frozen and v1.reviewed_at is not None and v1.notes == "รับรองแล้ว"
    versions = db_session.scalars(select(MonthlySummary.version).where(MonthlySummary.network_id == net_id)
                                  .order_by(MonthlySummary.version)).all()
    assert versions == [1, 2]


def test_the_beat_enqueues_last_month_once_per_network_early_on_the_first(month_data, db_session):
    from core.models import Job

    d = month_data
    d["net"].created_at = at("2026-01-01T00:00:00")
    d["other"].created_at = at("2026-01-01T00:00:00")
    db_session.flush()
    # 00:05 on 1 April in Bangkok is 17:05 UTC on 31 March.
    now = at("2026-03-31T17:05:00")
    assert services.enqueue_due_summaries(now) >= 2
    assert services.enqueue_due_summaries(now) == 0
    job = db_session.scalar(select(Job).where(Job.dedupe_key == f"summary:{d['net'].id}:2026-03:v1"))
    assert job is not None and job.payload == {"network_id": d["net"].id, "month": "2026-03"}
    # Once built, the beat leaves the month alone.
    services.build_summary(d["net"].id, "2026-03")
    assert services.enqueue_due_summaries(now + timedelta(hours=1)) == 0
