"""Paying pages through the test client, in Thai: a leader's group PromptPay id (refused with the reason,
then saved), and a receipt cancelled from its page by the committee (a numbered document, the invoice owed
again), which a leader may read but not do."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.authz_world import login_client
from tests.integration.pages_helpers import post_form
from tests.paying_support import combined_invoices


@pytest.fixture
def world(db_session, make_network, make_group, make_user, make_round, make_offer, place_order,
          token_for) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return combined_invoices(db_session, make_network, make_group, make_user, make_round, make_offer, place_order,
                             token_for)


def _form(group: Any, promptpay_id: str) -> dict[str, Any]:
    return {"district": "", "subdistrict": "", "members": str(group.members),
            "registered_poor_members": str(group.registered_poor_members), "promptpay_id": promptpay_id}


def test_leader_sets_the_groups_promptpay_id(app, db_session, world):  # type: ignore[no-untyped-def]
    group = world["groups"][0]
    client = login_client(app, world["leader"])
    url = f"/groups/{group.id}/edit"
    refused = post_form(client, url, url, _form(group, "0812345"))
    assert refused.status_code == 422
    assert "เลขพร้อมเพย์ต้องเป็นเบอร์มือถือ 10 หลัก" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert group.promptpay_id is None
    saved = post_form(client, url, url, _form(group, "๐๘๑-๒๓๔-๕๖๗๘"))
    assert saved.status_code == 302
    db_session.expire_all()
    assert group.promptpay_id == "0812345678"
    assert 'value="0812345678"' in client.get(url).get_data(as_text=True)


def test_committee_cancels_a_receipt_from_its_page(app, db_session, world):  # type: ignore[no-untyped-def]
    api = app.test_client()
    inv = world["invoices"][0]
    paid = api.post(f"/api/v1/invoices/{inv.id}/payments", headers=world["h"], json={"amount": "203.00"}).json
    url = f"/payments/{paid['id']}/receipt"

    leader = login_client(app, world["leader"])
    page = leader.get(url).get_data(as_text=True)
    assert paid["receipt_number"] in page and "สองร้อยสามบาทถ้วน" in page and 'id="cancel-form"' not in page

    committee = login_client(app, world["committee"])
    empty = post_form(committee, url, url, {"reason": ""})
    assert empty.status_code == 422 and "กรุณาบอกเหตุผลที่ยกเลิก" in empty.get_data(as_text=True)
    done = post_form(committee, url, url, {"reason": "บันทึกซ้ำ"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "ใบยกเลิกใบเสร็จรับเงิน" in text and paid["receipt_number"] in text
    assert "บันทึกซ้ำ" in text
    body = api.get(f"/api/v1/invoices/{inv.id}", headers=world["h"]).json
    assert body["due"] == "1203.00" and body["payments"][0]["cancellation_number"] is not None
    assert "ถูกยกเลิกแล้ว" in committee.get(url).get_data(as_text=True)
    # A leader opening the cancellation may read it; posting a cancellation is refused.
    assert leader.get(f"/payments/{paid['id']}/cancellation").status_code == 200
