"""notifications: in-app rows, deliveries over LINE and e-mail (exactly once by unique key), settings

Revision ID: notify1
Revises: rfq1
Create Date: 2026-12-02

Written by hand; works on PostgreSQL and SQLite (the embedded default).
"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = 'notify1'
down_revision = 'rfq1'
branch_labels = None
depends_on = None

KINDS = ("round_opened", "round_closing_soon", "round_combined", "delivery_shortage", "payment_recorded",
         "purchase_placed", "purchase_confirmed", "purchase_delivered", "quote_received", "rfq_closed",
         "summary_ready", "line_blocked")


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('event_key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=400), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('read_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN (" + ",".join(f"'{k}'" for k in KINDS) + ")",
                           name=op.f('ck_notifications_kind_known')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_notifications_network_id_networks')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('event_key', 'user_id', name=op.f('uq_notifications_event_key_user_id')),
    )
    op.create_index(op.f('ix_notifications_network_id'), 'notifications', ['network_id'])
    op.create_index('ix_notifications_user_id_created_at', 'notifications', ['user_id', 'created_at'])

    op.create_table(
        'notification_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('event_key', sa.String(length=200), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('line','email')", name=op.f('ck_notification_deliveries_channel_known')),
        sa.CheckConstraint("state IN ('pending','sending','sent','failed','skipped')",
                           name=op.f('ck_notification_deliveries_state_known')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_notification_deliveries_attempts_nonnegative')),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                                name=op.f('fk_notification_deliveries_notification_id_notifications')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                                name=op.f('fk_notification_deliveries_network_id_networks')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_deliveries_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_deliveries')),
        sa.UniqueConstraint('event_key', 'user_id', 'channel',
                            name=op.f('uq_notification_deliveries_event_key_user_id_channel')),
    )
    op.create_index(op.f('ix_notification_deliveries_notification_id'), 'notification_deliveries',
                    ['notification_id'])
    op.create_index('ix_notification_deliveries_state_next_attempt_at', 'notification_deliveries',
                    ['state', 'next_attempt_at'])

    op.create_table(
        'notification_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.Column('line', sa.Boolean(), nullable=False),
        sa.Column('line_user_id', sa.String(length=64), nullable=True),
        sa.Column('quiet_from', sa.Time(), nullable=False),
        sa.Column('quiet_until', sa.Time(), nullable=False),
        sa.Column('line_blocked_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('NOT line OR line_user_id IS NOT NULL', name=op.f('ck_notification_settings_line_needs_id')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_settings_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_settings')),
    )


def downgrade():
    op.drop_table('notification_settings')
    op.drop_index('ix_notification_deliveries_state_next_attempt_at', table_name='notification_deliveries')
    op.drop_index(op.f('ix_notification_deliveries_notification_id'), table_name='notification_deliveries')
    op.drop_table('notification_deliveries')
    op.drop_index('ix_notifications_user_id_created_at', table_name='notifications')
    op.drop_index(op.f('ix_notifications_network_id'), table_name='notifications')
    op.drop_table('notifications')
