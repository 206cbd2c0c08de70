"""Migration combine1: allocation money to integer satang and back, value for value, on PostgreSQL and SQLite.

The generic walk (test_migration_walk.py) compares only the columns both sides of a migration have; this one
checks the columns combine1 converts: every figure becomes its exact count of satang, the amount and savings
that are no longer stored read back the same through the model, and the downgrade restores the numeric
columns, amount and savings included, with the values they had.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, select, text

from tests.integration.test_migration_walk import Walker, empty_database  # noqa: F401  (the fixture)

# (order_line_id, allocated, unit_price, reference_price, alone_price, fee_share, amount, savings)
ROWS = [
    (1, 17, "750.00", "850.00", "820.00", "236.11", "12986.11", "1463.89"),
    (2, 0, None, "12.34", "12.34", "0.05", "0.05", "-0.05"),
    (3, 3, "0.01", "0.02", "0.01", "0.00", "0.03", "0.03"),
    (4, 1000, "99999.99", "99999.99", "99999.99", "9999999.99", "109999989.99", "-9999999.99"),
]


def _engine(url: str) -> Any:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _baht(value: Any) -> Decimal | None:
    # SQLite stores numeric money as REAL: the satang it stands for.
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def test_money_to_satang_and_back(empty_database: str) -> None:  # noqa: F811
    url = empty_database
    walker = Walker(url)
    try:
        walker.migrate("upgrade", "rollups1")
        engine = _engine(url)
        with engine.begin() as conn:
            for line_id, allocated, *money in ROWS:
                conn.execute(text(
                    "INSERT INTO allocations (round_id, group_id, order_line_id, offer_id, purchase_order_id, quantity, "
                    "ordered_allocation, allocated, unit_price, reference_price, alone_price, fee_share, amount, savings) "
                    "VALUES (1, 1, :id, 1, 1, :q, :q, :q, :p, :r, :a, :f, :m, :s)"),
                    {"id": line_id, "q": allocated, "p": money[0], "r": money[1], "a": money[2], "f": money[3],
                     "m": money[4], "s": money[5]})
        walker.migrate("upgrade", "combine1")
        with engine.connect() as conn:
            got = conn.execute(text(
                "SELECT order_line_id, unit_price_satang, reference_price_satang, alone_price_satang, fee_share_satang "
                "FROM allocations ORDER BY order_line_id")).all()
        assert [tuple(r) for r in got] == [
            (line_id, None if p is None else int(Decimal(p) * 100), int(Decimal(r) * 100), int(Decimal(a) * 100),
             int(Decimal(f) * 100)) for line_id, _, p, r, a, f, _, _ in ROWS]

        from core.db import db
        from orders.models import Allocation

        with walker.app.app_context():
            read = {a.order_line_id: (a.unit_price, a.reference_price, a.alone_price, a.fee_share, a.amount, a.savings)
                    for a in db.session.scalars(select(Allocation))}
            db.session.remove()
        assert read == {line_id: tuple(None if m is None else Decimal(m) for m in money)
                        for line_id, _, *money in ROWS}

        walker.migrate("downgrade", "rollups1")
        with engine.connect() as conn:
            back = conn.execute(text(
                "SELECT order_line_id, allocated, unit_price, reference_price, alone_price, fee_share, amount, savings "
                "FROM allocations ORDER BY order_line_id")).all()
        assert [(r[0], r[1], *(_baht(v) for v in r[2:])) for r in back] == [
            (line_id, allocated, *(None if m is None else Decimal(m) for m in money))
            for line_id, allocated, *money in ROWS]
        engine.dispose()
    finally:
        walker.close()
