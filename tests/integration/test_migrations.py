"""The schema comes only from the migrations, and they agree with the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import db


def test_migrations_match_models(app):
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_constraints_are_named_by_convention(app):
    with app.app_context():
        checks = inspect(db.engine).get_check_constraints("order_lines")
    names = {c["name"] for c in checks}
    assert "ck_order_lines_quantity_positive" in names
    assert "ck_order_lines_tolerance_nonnegative" in names
