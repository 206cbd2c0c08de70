"""Issue 22 §4 on the server: the meeting date defaults to today in Bangkok (not the server's UTC day), and
the "no signal" page has no English."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine

from tests.integration.pages_helpers import csrf, login


def test_the_meeting_date_defaults_to_today_in_bangkok(client, make_network, make_user):  # type: ignore[no-untyped-def]
    from reports import services

    network = make_network()
    committee = make_user(network, "committee")
    # 20:00 UTC on 4 December is 03:00 on 5 December in Bangkok.
    with time_machine.travel(datetime(2026, 12, 4, 20, 0, tzinfo=UTC), tick=False):
        services.build_summary(network.id, "2026-11")
        login(client, committee)
        page = client.get("/summaries/2026-11").get_data(as_text=True)
        # ... and that day is not "in the future" when signed at 03:00 Bangkok.
        signed = client.post("/summaries/2026-11", data={"meeting_date": "05/12/2569", "attendance": "12",
                                                         "csrf_token": csrf(page)})
        assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
    field = re.search(r'<input[^>]*id="meeting_date"[^>]*>', page)
    assert field and 'value="05/12/2569"' in field.group(0), field.group(0) if field else page[:300]


def test_the_no_signal_page_is_thai_only(client):  # type: ignore[no-untyped-def]
    page = client.get("/static/offline.html").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[1])
    assert not re.search(r"[A-Za-z]{3,}", text), text
