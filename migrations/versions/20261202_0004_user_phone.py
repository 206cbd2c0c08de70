"""users.phone: the number a seller calls about a group's order (issue 12)

Revision ID: 20261202_phone
Revises: 0003
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261202_phone'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # A plain add with a server default: fine on PostgreSQL and SQLite alike, existing users get ''.
    op.add_column('users', sa.Column('phone', sa.String(length=32), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('phone')
