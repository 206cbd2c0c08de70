"""allocations keyed by (round, group, order line); no foreign keys or secondary indexes

Revision ID: perf1
Revises: notify1
Create Date: 2026-12-02

The combine writes every allocation in one INSERT ... SELECT from the order lines, their group
orders and the purchase orders it has just written in the same transaction: each foreign key held
by construction and cost a lookup per row, and each secondary index an insert per row (issue 14,
docs/performance.md). What stays enforced by the database: one allocation per (round, group, order
line), which with round and group taken from the line's own group order is one per line, and the
checks on the figures. The primary key's order serves the reads: a round's invoices (round_id), one
group's invoice and order (round_id, group_id).
"""
from alembic import op
import sqlalchemy as sa


revision = 'perf1'
down_revision = 'notify1'
branch_labels = None
depends_on = None

_FKS = ('fk_allocations_group_id_groups', 'fk_allocations_offer_id_offers',
        'fk_allocations_order_line_id_order_lines', 'fk_allocations_purchase_order_id_purchase_orders',
        'fk_allocations_round_id_buying_rounds')
_INDEXES = ('ix_allocations_group_id', 'ix_allocations_offer_id', 'ix_allocations_purchase_order_id',
            'ix_allocations_round_id')


def upgrade():
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)
        for name in _FKS:
            batch_op.drop_constraint(name, type_='foreignkey')
        batch_op.drop_constraint('uq_allocations_order_line_id', type_='unique')
        batch_op.drop_constraint('pk_allocations', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_allocations', ['round_id', 'group_id', 'order_line_id'])


def downgrade():
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_constraint('pk_allocations', type_='primary')
    # A surrogate key again, numbered in the order of the lines.
    op.add_column('allocations', sa.Column('id', sa.Integer(), nullable=True))
    op.execute("UPDATE allocations SET id = order_line_id")
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.alter_column('id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_primary_key('pk_allocations', ['id'])
        batch_op.create_unique_constraint('uq_allocations_order_line_id', ['order_line_id'])
        batch_op.create_foreign_key('fk_allocations_group_id_groups', 'groups', ['group_id'], ['id'])
        batch_op.create_foreign_key('fk_allocations_offer_id_offers', 'offers', ['offer_id'], ['id'])
        batch_op.create_foreign_key('fk_allocations_order_line_id_order_lines', 'order_lines', ['order_line_id'], ['id'])
        batch_op.create_foreign_key('fk_allocations_purchase_order_id_purchase_orders', 'purchase_orders',
                                    ['purchase_order_id'], ['id'])
        batch_op.create_foreign_key('fk_allocations_round_id_buying_rounds', 'buying_rounds', ['round_id'], ['id'])
        for name, column in zip(_INDEXES, ('group_id', 'offer_id', 'purchase_order_id', 'round_id')):
            batch_op.create_index(name, [column], unique=False)
