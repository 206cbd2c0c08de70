"""access_links: one-time links that let a user set a password (invitations, password resets)

Revision ID: imports1
Revises: paying1
Create Date: 2026-12-04

Written by hand; works on PostgreSQL and SQLite (the embedded default). Only the token's SHA-256 is stored.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = 'imports1'
down_revision = 'paying1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'access_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('invitation','reset')", name=op.f('ck_access_links_purpose_known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_links_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_access_links_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_access_links_token_hash')),
    )
    op.create_index(op.f('ix_access_links_user_id'), 'access_links', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_access_links_user_id'), table_name='access_links')
    op.drop_table('access_links')
