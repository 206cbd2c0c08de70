"""Paying the Thai way: PromptPay ids, numbered receipts, transfer slips.

- networks.promptpay_id, groups.promptpay_id: where groups pay the network, households their group.
- payments: network_id, method (cash | promptpay | transfer), receipt_number ("<BE year>/<six digits>",
  unique per network), bank_ref (unique per network: a slip used twice is refused), slip_state.
  Payments recorded before this revision get their receipt numbers here, per network and Buddhist-era
  year of paid_at (Asia/Bangkok), in the order they were paid, and the counters continue after them.
- payment_slips: the slip's photo; receipt_counters: the last number per (network, year, series);
  payment_cancellations: the document that cancels a receipt (its own numbered series).

Revision ID: paying1
Revises: households1
Create Date: 2026-12-04

Reviewed by hand: batch mode (SQLite copies the table), constraint names from the naming convention.
"""
from datetime import timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = 'paying1'
down_revision = 'households1'
branch_labels = None
depends_on = None


def _backfill():
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT p.id, r.network_id, p.paid_at, n.timezone FROM payments p "
        "JOIN invoices i ON i.id = p.invoice_id JOIN buying_rounds r ON r.id = i.round_id "
        "JOIN networks n ON n.id = r.network_id ORDER BY p.paid_at, p.id")).all()
    counters = {}
    for payment_id, network_id, paid_at, tz in rows:
        if isinstance(paid_at, str):
            from datetime import datetime
            paid_at = datetime.fromisoformat(paid_at)
        if paid_at.tzinfo is None:
            paid_at = paid_at.replace(tzinfo=timezone.utc)
        year = paid_at.astimezone(ZoneInfo(tz or "Asia/Bangkok")).year + 543
        counters[(network_id, year)] = counters.get((network_id, year), 0) + 1
        conn.execute(sa.text("UPDATE payments SET network_id = :n, receipt_number = :r WHERE id = :id"),
                     {"n": network_id, "r": f"{year}/{counters[(network_id, year)]:06d}", "id": payment_id})
    for (network_id, year), last in counters.items():
        conn.execute(sa.text("INSERT INTO receipt_counters (network_id, year, series, last_number) VALUES (:n, :y, 'receipt', :l)"),
                     {"n": network_id, "y": year, "l": last})


def upgrade():
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promptpay_id', sa.String(length=15), nullable=True))
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promptpay_id', sa.String(length=15), nullable=True))
    op.create_table(
        'receipt_counters',
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=16), server_default='receipt', nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.CheckConstraint('last_number >= 1', name=op.f('ck_receipt_counters_last_number_positive')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_receipt_counters_network_id_networks')),
        sa.PrimaryKeyConstraint('network_id', 'year', 'series', name=op.f('pk_receipt_counters')),
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=16), server_default='cash', nullable=False))
        batch_op.add_column(sa.Column('receipt_number', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('bank_ref', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('slip_state', sa.String(length=16), nullable=True))
    _backfill()
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('network_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('receipt_number', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_index(batch_op.f('ix_payments_network_id'), ['network_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payments_network_id_networks'), 'networks', ['network_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_payments_network_id_receipt_number'), ['network_id', 'receipt_number'])
        batch_op.create_unique_constraint(batch_op.f('uq_payments_network_id_bank_ref'), ['network_id', 'bank_ref'])
        batch_op.create_check_constraint(batch_op.f('ck_payments_method_known'),
                                         "method IN ('cash','promptpay','transfer')")
        batch_op.create_check_constraint(batch_op.f('ck_payments_slip_state_known'),
                                         "slip_state IS NULL OR slip_state IN ('read','check_by_eye')")
    op.create_table(
        'payment_slips',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_slips_payment_id_payments'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_slips')),
        sa.UniqueConstraint('payment_id', name=op.f('uq_payment_slips_payment_id')),
    )
    op.create_table(
        'payment_cancellations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                                name=op.f('fk_payment_cancellations_payment_id_payments')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                                name=op.f('fk_payment_cancellations_network_id_networks')),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'],
                                name=op.f('fk_payment_cancellations_cancelled_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_cancellations')),
        sa.UniqueConstraint('payment_id', name=op.f('uq_payment_cancellations_payment_id')),
        sa.UniqueConstraint('network_id', 'number', name=op.f('uq_payment_cancellations_network_id_number')),
    )
    op.create_index(op.f('ix_payment_cancellations_network_id'), 'payment_cancellations', ['network_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_payment_cancellations_network_id'), table_name='payment_cancellations')
    op.drop_table('payment_cancellations')
    op.drop_table('payment_slips')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payments_slip_state_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payments_method_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_payments_network_id_bank_ref'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_payments_network_id_receipt_number'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_payments_network_id_networks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payments_network_id'))
        batch_op.drop_column('slip_state')
        batch_op.drop_column('bank_ref')
        batch_op.drop_column('receipt_number')
        batch_op.drop_column('method')
        batch_op.drop_column('network_id')
    op.drop_table('receipt_counters')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('promptpay_id')
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_column('promptpay_id')
