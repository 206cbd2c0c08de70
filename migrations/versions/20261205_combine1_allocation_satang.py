"""allocations: money as integer satang; amount and savings no longer stored

Revision ID: combine1
Revises: rollups1
Create Date: 2026-12-05

The combine writes one allocation per order line (a million rows for a large round). Turning each
figure from satang into ``numeric`` money cost a tenth of that statement, and two of the six money
columns only repeated the others: amount = allocated × unit price + fee share, savings = allocated ×
(reference price − unit price) − fee share (``pricing.line_amount``, ``pricing.line_savings``). Now
the four remaining figures are ``bigint`` satang (``unit_price_satang``, ``reference_price_satang``,
``alone_price_satang``, ``fee_share_satang``), converted exactly (every stored figure has two
decimal places), and the amount and savings are computed when read (issue 27,
docs/performance.md). The downgrade puts back the ``numeric`` columns, amount and savings included,
with the same values.

Written by hand; works on PostgreSQL and SQLite (the embedded default).
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = 'combine1'
down_revision = 'rollups1'
branch_labels = None
depends_on = None

_MONEY = ('unit_price', 'reference_price', 'alone_price', 'fee_share')
_CHECK = 'fee_share_nonnegative'  # ck_allocations_fee_share_nonnegative by the naming convention


def _to_satang(column):
    # Exact on PostgreSQL (numeric); SQLite stores REAL, rounded to the satang it stands for.
    if op.get_bind().dialect.name == 'postgresql':
        return f"CAST({column} * 100 AS BIGINT)"
    return f"CAST(round({column} * 100) AS INTEGER)"


def _to_baht(expression):
    if op.get_bind().dialect.name == 'postgresql':
        return f"CAST(({expression}) * 0.01 AS NUMERIC(12, 2))"
    return f"({expression}) / 100.0"


def upgrade():
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        for name in _MONEY:
            batch_op.add_column(sa.Column(f'{name}_satang', sa.BigInteger(), nullable=True))
    op.execute("UPDATE allocations SET " + ", ".join(f"{name}_satang = {_to_satang(name)}" for name in _MONEY))
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_constraint(_CHECK, type_='check')
        for name in _MONEY:
            if name != 'unit_price':
                batch_op.alter_column(f'{name}_satang', existing_type=sa.BigInteger(), nullable=False)
        for name in (*_MONEY, 'amount', 'savings'):
            batch_op.drop_column(name)
        batch_op.create_check_constraint(_CHECK, 'fee_share_satang >= 0')


def downgrade():
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        for name in (*_MONEY, 'amount', 'savings'):
            batch_op.add_column(sa.Column(name, core.db.Money(), nullable=True))
    amount = "coalesce(allocated * unit_price_satang, 0) + fee_share_satang"
    savings = "allocated * (reference_price_satang - coalesce(unit_price_satang, 0)) - fee_share_satang"
    op.execute("UPDATE allocations SET "
               + ", ".join(f"{name} = {_to_baht(f'{name}_satang')}" for name in _MONEY)
               + f", amount = {_to_baht(amount)}, savings = {_to_baht(savings)}")
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_constraint(_CHECK, type_='check')
        for name in (*_MONEY, 'amount', 'savings'):
            if name != 'unit_price':
                batch_op.alter_column(name, existing_type=core.db.Money(), nullable=False)
        for name in _MONEY:
            batch_op.drop_column(f'{name}_satang')
        batch_op.create_check_constraint(_CHECK, 'fee_share >= 0')
