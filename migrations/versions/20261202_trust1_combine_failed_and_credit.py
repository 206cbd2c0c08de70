"""A failed combine is a state of the round with its reason; an invoice may be overpaid (a credit).

- buying_rounds.state may be 'combine_failed' (a combine that failed for good; the committee fixes the cause
  and retries), with buying_rounds.failure saying why in plain words.
- invoices: ``paid <= total`` is dropped (``paid >= 0`` stays): a delivery short after the group paid in full
  leaves the group in credit, and the receipt is recorded rather than refused (docs/delivery.md).

Revision ID: trust1
Revises: perf1
Create Date: 2026-12-02

Reviewed by hand: batch mode (SQLite copies the table), constraint names from the naming convention.
"""
from alembic import op
import sqlalchemy as sa


revision = 'trust1'
down_revision = 'perf1'
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('draft','open','closed','combined','delivered','settled')"
NEW_STATES = "state IN ('draft','open','closed','combine_failed','combined','delivered','settled')"


def upgrade():
    with op.batch_alter_table('buying_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f('ck_buying_rounds_state_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_buying_rounds_state_known'), NEW_STATES)
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invoices_paid_within_total'), type_='check')
        batch_op.create_check_constraint(op.f('ck_invoices_paid_nonnegative'), 'paid >= 0')


def downgrade():
    op.execute("UPDATE buying_rounds SET state = 'closed' WHERE state = 'combine_failed'")
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invoices_paid_nonnegative'), type_='check')
        batch_op.create_check_constraint(op.f('ck_invoices_paid_within_total'), 'paid >= 0 AND paid <= total')
    with op.batch_alter_table('buying_rounds', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_buying_rounds_state_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_buying_rounds_state_known'), OLD_STATES)
        batch_op.drop_column('failure')
