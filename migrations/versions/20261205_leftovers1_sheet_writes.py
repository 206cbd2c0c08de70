"""household sheet writes: the Idempotency-Key store of a household's write by the sheet's link

A household's entry made offline is kept on the phone and sent when the signal returns, with its own
Idempotency-Key; its first answer is kept here in the same transaction as the lines (issue 24).

Revision ID: leftovers1
Revises: imports1
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'leftovers1'
down_revision = 'imports1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('household_sheet_writes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_sheet_writes_household_id_households')),
    sa.ForeignKeyConstraint(['sheet_id'], ['household_sheets.id'], name=op.f('fk_household_sheet_writes_sheet_id_household_sheets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_sheet_writes')),
    sa.UniqueConstraint('sheet_id', 'key', name=op.f('uq_household_sheet_writes_sheet_id_key'))
    )


def downgrade():
    op.drop_table('household_sheet_writes')
