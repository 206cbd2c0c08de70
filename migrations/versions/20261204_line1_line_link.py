"""LINE that a leader switches on: one-time link codes, wrong-code counters, one LINE account per user.

- line_link_codes: a code's hash, its user, when it expires and when (and by which LINE user) it was used.
- line_link_failures: wrong codes per LINE user in the current window (slows a guesser down).
- notification_settings.line_user_id is unique: LINE Login finds the user by it. Before the index, a LINE
  id held by several users stays with the one of the highest user id (the others' LINE is switched off).

Revision ID: line1
Revises: trust1
Create Date: 2026-12-04

Written by hand; works on PostgreSQL and SQLite (the embedded default).
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = 'line1'
down_revision = 'trust1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'line_link_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('used_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_line_link_codes_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_line_link_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_line_link_codes_code_hash')),
    )
    op.create_index(op.f('ix_line_link_codes_user_id'), 'line_link_codes', ['user_id'])
    op.create_table(
        'line_link_failures',
        sa.Column('line_user_id', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('failures >= 0', name=op.f('ck_line_link_failures_failures_nonnegative')),
        sa.PrimaryKeyConstraint('line_user_id', name=op.f('pk_line_link_failures')),
    )
    op.execute(
        "UPDATE notification_settings SET line = false, line_user_id = NULL "
        "WHERE line_user_id IS NOT NULL AND EXISTS (SELECT 1 FROM notification_settings other "
        "WHERE other.line_user_id = notification_settings.line_user_id "
        "AND other.user_id > notification_settings.user_id)")
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_notification_settings_line_user_id'), ['line_user_id'])


def downgrade():
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_notification_settings_line_user_id'), type_='unique')
    op.drop_table('line_link_failures')
    op.drop_index(op.f('ix_line_link_codes_user_id'), table_name='line_link_codes')
    op.drop_table('line_link_codes')
