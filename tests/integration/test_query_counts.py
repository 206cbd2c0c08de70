"""No N+1: the main endpoints and pages issue as many SQL statements for 3N rows as for N.

Two networks are built, one with N and one with 3N of everything that a page lists (groups,
suppliers, offers, order lines, purchase orders, invoices, listings, summary lines); each request
is made in both and its statements are counted with SQLAlchemy's ``before_cursor_execute`` event.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import flask
import pytest
from sqlalchemy import event

from tests.integration.pages_helpers import login

N = 3


@contextmanager
def count_statements() -> Iterator[list[str]]:
    from core.db import db

    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def real_statements(statements: list[str]) -> list[str]:
    """Without the SAVEPOINT/RELEASE pairs that the test harness's session puts where commits are."""
    return [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


# Absolute bounds where a request is on the hot path (issue 14: placing an order in a few statements).
MAX_STATEMENTS = {"PUT group order": 6}


def _world(db_session: Any, n: int, make: dict[str, Any]) -> dict[str, Any]:
    from market.models import Listing
    from orders import combine, delivery
    from orders.models import GroupOrder, OrderLine, PurchaseOrder, Supplier

    network = make["network"](fee_percent="1")
    groups = [make["group"](network, name=f"Group {i}") for i in range(n)]
    committee = make["user"](network, "committee")
    leader = make["user"](network, "leader", groups[0])
    suppliers = []
    for i in range(n):
        supplier = Supplier(network_id=network.id, name=f"Supplier {i}")
        db_session.add(supplier)
        suppliers.append(supplier)
    db_session.flush()
    now = datetime.now(UTC)

    def round_with_orders(state: str) -> tuple[Any, list[Any]]:
        rnd = make["round"](network, state=state)
        offers = [make["offer"](rnd, pack_size=2, supplier=suppliers[i], delivery_fee="10.00",
                                tiers=[(0, "50.00"), (20, "45.00")]) for i in range(n)]
        for g, group in enumerate(groups):
            order = GroupOrder(round_id=rnd.id, group_id=group.id)
            db_session.add(order)
            db_session.flush()
            for o, offer in enumerate(offers):
                db_session.add(OrderLine(group_order_id=order.id, offer_id=offer.id, quantity=1 + (g + o) % 5,
                                         tolerance=g % 2, placed_at=now - timedelta(minutes=g)))
        db_session.commit()
        return rnd, offers

    open_round, open_offers = round_with_orders("open")
    done_round, _ = round_with_orders("closed")
    combine.combine_round(done_round.id)
    for po in db_session.query(PurchaseOrder).filter_by(round_id=done_round.id).all():
        delivery.record_receipt(committee, po.id, [])
    for i in range(n):
        db_session.add(Listing(network_id=network.id, group_id=groups[i].id, name=f"Listing {i}", unit="kg",
                               price=Decimal("20.00"), outside_price=Decimal("15.00"), stock=10))
    db_session.commit()
    return {"network": network, "groups": groups, "committee": committee, "leader": leader,
            "open": open_round, "open_offers": open_offers, "done": done_round,
            "month": now.astimezone(timezone(timedelta(hours=7))).strftime("%Y-%m")}


@pytest.fixture
def worlds(db_session, make_network, make_group, make_user, make_round, make_offer):  # type: ignore[no-untyped-def]
    make = {"network": make_network, "group": make_group, "user": make_user, "round": make_round,
            "offer": make_offer}
    return {n: _world(db_session, n, make) for n in (N, 3 * N)}


API_CALLS = {
    "GET round": ("committee", "GET", lambda w: f"/api/v1/rounds/{w['done'].id}"),
    "GET group order": ("leader", "GET", lambda w: f"/api/v1/rounds/{w['done'].id}/orders/{w['groups'][0].id}"),
    "PUT group order": ("leader", "PUT", lambda w: f"/api/v1/rounds/{w['open'].id}/orders/{w['groups'][0].id}"),
    "GET purchase orders": ("committee", "GET", lambda w: f"/api/v1/rounds/{w['done'].id}/purchase-orders"),
    "GET invoices": ("committee", "GET", lambda w: f"/api/v1/rounds/{w['done'].id}/invoices"),
    "GET listings": ("leader", "GET", lambda w: "/api/v1/listings"),
    "GET summary": ("committee", "GET", lambda w: f"/api/v1/summaries/{w['month']}"),
}


@pytest.mark.parametrize("name", list(API_CALLS))
def test_api_statements_do_not_grow_with_rows(app, db_session, worlds, token_for, name):
    role, method, path = API_CALLS[name]
    counts = {}
    for n, w in worlds.items():
        headers = token_for(w[role])
        client = app.test_client()
        body = None
        if method == "PUT":
            body = {"lines": [{"offer_id": o.id, "quantity": 7, "tolerance": 1} for o in w["open_offers"]]}
        with count_statements() as statements:
            response = client.open(path(w), method=method, json=body, headers=headers)
        assert response.status_code == 200, (name, response.status_code, response.get_data(as_text=True)[:300])
        counts[n] = len(statements)
        if name in MAX_STATEMENTS:
            assert len(real_statements(statements)) <= MAX_STATEMENTS[name], (name, statements)
    assert counts[3 * N] <= counts[N], f"{name}: {counts[N]} statements for {N} rows, {counts[3 * N]} for {3 * N}"


PAGES = {
    "home": ("committee", lambda w: "/"),
    "round page": ("committee", lambda w: f"/rounds/{w['done'].id}"),
    "open round page": ("leader", lambda w: f"/rounds/{w['open'].id}"),
    "order form": ("leader", lambda w: f"/rounds/{w['open'].id}/order"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_statements_do_not_grow_with_rows(app, db_session, worlds, name):
    role, path = PAGES[name]
    counts = {}
    for n, w in worlds.items():
        client = app.test_client()
        # The test's app context outlives requests: drop the CSRF token Flask-WTF cached in g.
        flask.g.pop("csrf_token", None)
        login(client, w[role])
        client.get(path(w))  # first view: per-session work (translations, flash) is not what is measured
        with count_statements() as statements:
            response = client.get(path(w))
        assert response.status_code == 200, (name, response.status_code)
        counts[n] = len(statements)
    assert counts[3 * N] <= counts[N], f"{name}: {counts[N]} statements for {N} rows, {counts[3 * N]} for {3 * N}"
