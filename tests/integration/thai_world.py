"""A small network with everything in every state, in Thai, built through the public API (the stable
contract), for the tests that walk every page: rounds draft, open, combined (one offer whose minimum was
not met), delivered and paid; marketplace purchases placed and delivered; a summary; an audit trail."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PASSWORD = "correct-horse-9"


def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201, 202)), (response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json()


def _run_here(job_id: str) -> str:
    from core import jobs

    return jobs.run_job(job_id)


def build(client: Any, make_network: Any, make_group: Any, make_user: Any, token_for: Any,
          run_job: Any = _run_here) -> dict[str, Any]:
    """``run_job(job_id) -> state`` runs a job to its end (in this process by default, the tests' JOBS_MODE
    being manual; the browser tests wait for their real worker instead)."""

    def run(client: Any, headers: dict[str, str], response: Any) -> None:
        assert run_job(_ok(response, 202)["job_id"]) == "succeeded"

    tag = str(uuid.uuid4().int % 10000).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    net = make_network(name=f"เครือข่ายรวมซื้อหนองคาย {tag}", fee_percent="1")
    groups = {
        "coop": make_group(net, name="สหกรณ์การเกษตรท่าบ่อ จำกัด", district="ท่าบ่อ", subdistrict="โคกคอน",
                           members=184, registered_poor_members=61, kind="cooperative"),
        "women": make_group(net, name="กลุ่มแม่บ้านเกษตรกรบ้านหม้อพัฒนาอาชีพทอผ้าไหมมัดหมี่", district="ศรีเชียงใหม่",
                            subdistrict="บ้านหม้อ", members=32, registered_poor_members=14, kind="womens_group"),
        "mill": make_group(net, name="วิสาหกิจชุมชนโรงสีข้าวบ้านโคกคอน", district="ท่าบ่อ", subdistrict="โคกคอน",
                           members=46, registered_poor_members=19, kind="community_enterprise"),
    }
    users = {"admin": make_user(net, "admin"), "committee": make_user(net, "committee"),
             "leader": make_user(net, "leader", groups["coop"]), "leader_b": make_user(net, "leader", groups["women"]),
             "seller": make_user(net, "seller", groups["mill"])}
    names = {"admin": "นายสมชาย ใจดี", "committee": "นางสาวมาลี ศรีสุข", "leader": "นางบุญมี แก้วมณี",
             "leader_b": "นางคำปุ่น ทองดี", "seller": "นายประสิทธิ์ โคกคอน"}
    from core.db import db

    phones = {"leader": "081-234-5678", "leader_b": "089-765-4321"}
    for key, user in users.items():
        user.name = names[key]
        user.phone = phones.get(key, "")
    db.session.commit()
    h = {key: token_for(user) for key, user in users.items()}

    supplier = _ok(client.post("/api/v1/suppliers", headers=h["committee"],
                               json={"name": "ร้านเจริญผลการเกษตร", "phone": "042-411-234"}))
    oil_mill = _ok(client.post("/api/v1/suppliers", headers=h["committee"],
                               json={"name": "โรงงานน้ำมันพืชอุดรธานี", "phone": "042-222-555"}))
    urea = _ok(client.post("/api/v1/products", headers=h["committee"],
                           json={"name": "ปุ๋ยยูเรีย 46-0-0", "unit": "กระสอบ", "category": "ปุ๋ย"}))
    oil = _ok(client.post("/api/v1/products", headers=h["committee"],
                          json={"name": "น้ำมันถั่วเหลือง", "unit": "ลิตร", "category": "อาหาร"}))

    def new_round(name: str, offers: list[dict[str, Any]]) -> tuple[int, list[int]]:
        closes_at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        rid = _ok(client.post("/api/v1/rounds", headers=h["committee"], json={"name": name, "closes_at": closes_at}))["id"]
        ids = [_ok(client.post(f"/api/v1/rounds/{rid}/offers", headers=h["committee"], json=o))["id"] for o in offers]
        return rid, ids

    def offer(product: dict[str, Any], **kw: Any) -> dict[str, Any]:
        base = {"product_id": product["id"], "supplier_id": supplier["id"], "pack_size": 1, "min_quantity": 0,
                "reference_price": "850.00", "delivery_fee": "0.00",
                "tiers": [{"min_quantity": 0, "unit_price": "820.00"}, {"min_quantity": 100, "unit_price": "750.00"}]}
        base.update(kw)
        return base

    draft, _ = new_round("รอบเมล็ดพันธุ์ข้าว ปี 2570", [offer(urea)])
    open_id, open_offers = new_round("รอบปุ๋ยต้นฤดูฝน", [offer(urea, pack_size=5)])
    _ok(client.post(f"/api/v1/rounds/{open_id}/open", headers=h["committee"]))
    _ok(client.put(f"/api/v1/rounds/{open_id}/orders/{groups['coop'].id}", headers=h["leader"],
                   json={"lines": [{"offer_id": open_offers[0], "quantity": 40, "tolerance": 5}]}))

    # Combined: the oil's minimum (1,000 litres) is not met (400 ordered), the fertiliser is ordered.
    done_id, done_offers = new_round("รอบปุ๋ยและน้ำมันพืช", [
        offer(urea, delivery_fee="500.00"),
        offer(oil, supplier_id=oil_mill["id"], min_quantity=1000, reference_price="55.00",
              tiers=[{"min_quantity": 0, "unit_price": "48.00"}, {"min_quantity": 1000, "unit_price": "45.00"}])])
    _ok(client.post(f"/api/v1/rounds/{done_id}/open", headers=h["committee"]))
    for key, group, qty, oil_qty in (("leader", "coop", 60, 250), ("leader_b", "women", 30, 150)):
        _ok(client.put(f"/api/v1/rounds/{done_id}/orders/{groups[group].id}", headers=h[key], json={"lines": [
            {"offer_id": done_offers[0], "quantity": qty, "tolerance": 0},
            {"offer_id": done_offers[1], "quantity": oil_qty, "tolerance": 0}]}))
    # The cooperative's households ordered by the round's link; their bills exist once it is combined.
    houses = [_ok(client.post(f"/api/v1/groups/{groups['coop'].id}/households", headers=h["leader"],
                              json={"name": name, "registered_poor": poor}), 201)["id"]
              for name, poor in (("บ้านเลขที่ ๑๒ นายมา", True), ("บ้านเลขที่ ๑๕ นางมี", False))]
    sheet_token = _ok(client.post(f"/api/v1/rounds/{done_id}/groups/{groups['coop'].id}/sheet",
                                  headers=h["leader"]), 201)["token"]
    for house, qty in zip(houses, (35, 20)):
        _ok(client.put(f"/api/v1/sheets/{sheet_token}/households/{house}",
                       json={"lines": [{"offer_id": done_offers[0], "quantity": qty}]}))
    run(client, h["committee"], client.post(f"/api/v1/rounds/{done_id}/close", headers=h["committee"]))

    # Delivered and paid: a second combined round whose goods were received, one invoice paid.
    paid_id, paid_offers = new_round("รอบปุ๋ยเดือนที่แล้ว", [offer(urea)])
    _ok(client.post(f"/api/v1/rounds/{paid_id}/open", headers=h["committee"]))
    _ok(client.put(f"/api/v1/rounds/{paid_id}/orders/{groups['coop'].id}", headers=h["leader"],
                   json={"lines": [{"offer_id": paid_offers[0], "quantity": 120, "tolerance": 0}]}))
    run(client, h["committee"], client.post(f"/api/v1/rounds/{paid_id}/close", headers=h["committee"]))
    [po] = _ok(client.get(f"/api/v1/rounds/{paid_id}/purchase-orders", headers=h["committee"]))
    _ok(client.post(f"/api/v1/purchase-orders/{po['id']}/receipt", headers=h["committee"],
                    json={"lines": [{"offer_id": paid_offers[0], "received_quantity": 120}]}))
    invoices = _ok(client.get(f"/api/v1/rounds/{paid_id}/invoices", headers=h["committee"]))
    _ok(client.patch("/api/v1/network", headers=h["admin"], json={"promptpay_id": "081-234-5678"}))
    paid = _ok(client.post(f"/api/v1/invoices/{invoices[0]['id']}/payments", headers=h["committee"],
                           json={"amount": "10000.00"}))
    done_pos = _ok(client.get(f"/api/v1/rounds/{done_id}/purchase-orders", headers=h["committee"]))
    done_invoices = _ok(client.get(f"/api/v1/rounds/{done_id}/invoices", headers=h["committee"]))

    listing = _ok(client.post("/api/v1/listings", headers=h["seller"], json={
        "name": "ข้าวกล้องหอมมะลิอินทรีย์", "unit": "กิโลกรัม", "category": "ข้าว", "price": "42.00", "stock": 5000,
        "outside_price": "35.00", "reference_price": "50.00", "district": "ท่าบ่อ",
        "description": "ข้าวกล้องจากนาอินทรีย์ของสมาชิก สีใหม่ทุกสัปดาห์"}))
    placed = _ok(client.post(f"/api/v1/listings/{listing['id']}/purchases", headers=h["leader"],
                             json={"group_id": groups["coop"].id, "quantity": 1500}))
    delivered = _ok(client.post(f"/api/v1/listings/{listing['id']}/purchases", headers=h["leader_b"],
                                json={"group_id": groups["women"].id, "quantity": 20}))
    _ok(client.post(f"/api/v1/purchases/{delivered['id']}/deliver", headers=h["seller"], json={}))

    # A request for quotation to two suppliers (their page is reached by a token, without logging in).
    rfq = _ok(client.post("/api/v1/rfqs", headers=h["committee"], json={
        "name": "ขอราคาปุ๋ยฤดูหน้า", "closes_at": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
        "items": [{"product_id": urea["id"], "quantity": 300, "reference_price": "850.00"}],
        "supplier_ids": [supplier["id"], oil_mill["id"]]}))

    # Last month (ended): its version is built and can be signed. The month in progress is shown live only.
    local = datetime.now(UTC) + timedelta(hours=7)
    year, mon = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    month = f"{year:04d}-{mon:02d}"
    # The goods of the paid round and the delivered sale arrived in the middle of that month, so its
    # summary and charts have something to show.
    from sqlalchemy import update

    from market.models import Purchase
    from orders.models import PurchaseOrder

    mid_month = datetime(year, mon, 15, 3, tzinfo=UTC)
    db.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po["id"]).values(received_at=mid_month))
    db.session.execute(update(Purchase).where(Purchase.id == delivered["id"]).values(delivered_at=mid_month))
    from reports.rollup_reads import rebuild

    rebuild(net.id)  # moved behind the services: roll-ups recomputed
    db.session.commit()
    run(client, h["committee"], client.post(f"/api/v1/summaries/{month}", headers=h["committee"]))
    return {"network": net, "groups": groups, "users": users, "h": h, "month": month,
            "rounds": {"draft": draft, "open": open_id, "combined": done_id, "delivered": paid_id},
            "po": done_pos[0]["id"], "po_received": po["id"], "invoice": done_invoices[0]["id"], "payment": paid["id"],
            "listing": listing["id"], "purchase": placed["id"], "supplier": supplier["id"],
            "rfq": rfq["id"], "quote_token": rfq["invitations"][0]["token"], "sheet_token": sheet_token}
