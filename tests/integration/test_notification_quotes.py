"""Requests for quotation tell the committee: a quote received (once per supplier), a request closed
(once, by the periodic work, with the number of quotes). Nobody else hears of them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select


def test_quote_received_and_rfq_closed_reach_the_committee_once(client, db_session, make_network, make_group,
                                                                make_user, token_for):
    from notifications.models import Notification
    from orders.models import Product, Supplier
    from quotes.events import announce_closed_requests
    from quotes.models import Rfq

    network = make_network()
    committee, admin = make_user(network, "committee"), make_user(network, "admin")
    leader = make_user(network, "leader", make_group(network))
    other = make_network()
    outsider = make_user(other, "committee")
    supplier = Supplier(network_id=network.id, name="หนองคายเกษตรภัณฑ์")
    product = Product(network_id=network.id, name="ปุ๋ยยูเรีย", unit="กระสอบ")
    db_session.add_all([supplier, product])
    db_session.commit()
    auth = token_for(committee)
    created = client.post("/api/v1/rfqs", headers=auth, json={
        "name": "ปุ๋ยนาปี 2570", "closes_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "items": [{"product_id": product.id, "quantity": 100, "reference_price": "900.00"}],
        "supplier_ids": [supplier.id]})
    assert created.status_code == 201, created.json
    token = created.json["invitations"][0]["token"]
    quote = {"delivery_fee": "0", "lines": [{"product_id": product.id, "pack_size": 1, "min_quantity": 0,
                                             "tiers": [{"min_quantity": 0, "unit_price": "850.00"}]}]}
    for _ in range(2):  # the supplier sends, then changes its quote: one notification
        sent = client.put(f"/api/v1/quotes/{token}", json=quote)
        assert sent.status_code == 200, sent.json

    def titles(user, kind):
        return [n.title for n in db_session.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.kind == kind))]

    assert titles(committee, "quote_received") == ["ได้รับใบเสนอราคาสำหรับ ปุ๋ยนาปี 2570"]
    assert titles(admin, "quote_received") == ["ได้รับใบเสนอราคาสำหรับ ปุ๋ยนาปี 2570"]
    assert titles(leader, "quote_received") == [] and titles(outsider, "quote_received") == []

    rfq = db_session.get(Rfq, created.json["id"])
    assert announce_closed_requests() == 0  # still open
    rfq.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.commit()
    announce_closed_requests()
    announce_closed_requests()  # the periodic work again: nothing new
    assert titles(committee, "rfq_closed") == ["ปิดรับใบเสนอราคา ปุ๋ยนาปี 2570 แล้ว"]
    body = db_session.scalar(select(Notification.body).where(Notification.user_id == committee.id,
                                                             Notification.kind == "rfq_closed"))
    assert body == "ได้รับใบเสนอราคา 1 ราย ดูการเปรียบเทียบราคาได้"
    assert titles(leader, "rfq_closed") == [] and titles(outsider, "rfq_closed") == []
