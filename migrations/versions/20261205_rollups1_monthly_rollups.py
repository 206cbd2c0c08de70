"""allocation_month_offers, allocation_month_groups, market_month_groups: the monthly summary's roll-ups

Revision ID: rollups1
Revises: leftovers1
Create Date: 2026-12-05

Written by hand; works on PostgreSQL and SQLite (the embedded default). The roll-ups are kept by the receipt
(orders/rollups.py) and the marketplace delivery (market/rollups.py) in their own transactions; here they are
backfilled from the data already there, by the same statements, frozen: an allocation counts in the month
(network's time zone) its purchase order was received, a marketplace purchase in the month it was delivered.
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alembic import op
import sqlalchemy as sa


revision = 'rollups1'
down_revision = 'leftovers1'
branch_labels = None
depends_on = None

ALLOCATION_FIGURES = ('actual_s', 'baseline_s', 'fees_s', 'spend_s', 'pooling_s', 'allocated', 'lines')
MARKET_FIGURES = ('bought_spend_s', 'bought_savings_s', 'bought', 'sold_gain_s', 'sold_amount_s', 'sold')


def _figure_columns(names):
    return [sa.Column(n, sa.Integer() if n in ('lines', 'bought', 'sold') else sa.BigInteger(), nullable=False)
            for n in names]


def _zone(name):
    try:
        return ZoneInfo(name or 'Asia/Bangkok')
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo('Asia/Bangkok')


def _month(tz, instant):
    if isinstance(instant, str):  # SQLite hands back text
        instant = datetime.fromisoformat(instant)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    local = instant.astimezone(tz)
    return f'{local.year:04d}-{local.month:02d}'


def _allocation_sums(postgres):
    if postgres:
        def total(e):
            return f'CAST(sum({e}) * 100 AS BIGINT)'
        price, ref, alone, fee, amount = ('coalesce(a.unit_price, 0)', 'a.reference_price', 'a.alone_price',
                                          'a.fee_share', 'a.amount')
    else:
        def total(e):
            return f'sum({e})'
        price, ref, alone, fee, amount = (f'CAST(round(({c}) * 100) AS INTEGER)' for c in (
            'coalesce(a.unit_price, 0)', 'a.reference_price', 'a.alone_price', 'a.fee_share', 'a.amount'))
    return ', '.join([total(f'a.allocated * {price}'), total(f'a.allocated * {ref}'), total(fee), total(amount),
                      total(f'a.allocated * ({alone} - {price})'), 'sum(a.allocated)', 'count(*)'])


def _purchase_figures(postgres):
    def satang(e):
        return f'CAST(({e}) * 100 AS BIGINT)' if postgres else f'CAST(round(({e}) * 100) AS INTEGER)'
    saving = 'coalesce(p.buyer_saving, p.quantity * (coalesce(p.reference_price, p.unit_price) - p.unit_price))'
    gain = ('coalesce(p.income_gain, CASE WHEN p.outside_price IS NULL THEN 0 '
            'ELSE p.quantity * (p.unit_price - p.outside_price) END)')
    return satang('p.amount'), satang(saving), satang(gain)


def upgrade():
    op.create_table(
        'allocation_month_offers',
        sa.Column('offer_id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('purchase_order_id', sa.Integer(), nullable=False),
        *_figure_columns(ALLOCATION_FIGURES),
        sa.PrimaryKeyConstraint('offer_id', name=op.f('pk_allocation_month_offers')),
    )
    op.create_index('ix_allocation_month_offers_network_month', 'allocation_month_offers', ['network_id', 'month'])
    op.create_table(
        'allocation_month_groups',
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        *_figure_columns(ALLOCATION_FIGURES),
        sa.PrimaryKeyConstraint('network_id', 'month', 'group_id', 'round_id', name=op.f('pk_allocation_month_groups')),
    )
    op.create_table(
        'market_month_groups',
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        *_figure_columns(MARKET_FIGURES),
        sa.PrimaryKeyConstraint('network_id', 'month', 'group_id', name=op.f('pk_market_month_groups')),
    )
    _backfill()


def _backfill():
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    sums = _allocation_sums(postgres)
    columns = ', '.join(ALLOCATION_FIGURES)
    zones = {nid: _zone(tz) for nid, tz in bind.execute(sa.text('SELECT id, timezone FROM networks'))}
    orders = bind.execute(sa.text(
        'SELECT po.id, po.round_id, po.received_at, r.network_id FROM purchase_orders po '
        'JOIN buying_rounds r ON r.id = po.round_id WHERE po.received_at IS NOT NULL ORDER BY po.id')).all()
    where = 'WHERE a.round_id = :round_id AND a.purchase_order_id = :po_id'
    offers = sa.text(f'INSERT INTO allocation_month_offers (offer_id, network_id, month, purchase_order_id, {columns}) '
                     f'SELECT a.offer_id, :network_id, :month, :po_id, {sums} FROM allocations a {where} '
                     'GROUP BY a.offer_id')
    groups = sa.text(
        f'INSERT INTO allocation_month_groups (network_id, month, group_id, round_id, {columns}) '
        f'SELECT :network_id, :month, a.group_id, a.round_id, {sums} FROM allocations a {where} '
        'GROUP BY a.group_id, a.round_id '
        'ON CONFLICT (network_id, month, group_id, round_id) DO UPDATE SET '
        + ', '.join(f'{c} = allocation_month_groups.{c} + excluded.{c}' for c in ALLOCATION_FIGURES))
    for po_id, round_id, received_at, network_id in orders:
        params = {'network_id': network_id, 'month': _month(zones[network_id], received_at), 'round_id': round_id,
                  'po_id': po_id}
        bind.execute(offers, params)
        bind.execute(groups, params)

    # The marketplace, per (network, month, group): each delivered purchase read once and added to its
    # buyer's and its seller's row (exact integers; a backfill runs once).
    amount, saving, gain = _purchase_figures(postgres)
    rows = bind.execute(sa.text(
        f'SELECT p.network_id, p.buyer_group_id, p.seller_group_id, p.delivered_at, {amount}, {saving}, {gain} '
        "FROM market_purchases p WHERE p.state = 'delivered' AND p.delivered_at IS NOT NULL"))
    totals = {}
    for network_id, buyer, seller, delivered_at, a, s, g in rows:
        month = _month(zones[network_id], delivered_at)
        b = totals.setdefault((network_id, month, buyer), [0, 0, 0, 0, 0, 0])
        b[0] += int(a)
        b[1] += int(s)
        b[2] += 1
        v = totals.setdefault((network_id, month, seller), [0, 0, 0, 0, 0, 0])
        v[3] += int(g)
        v[4] += int(a)
        v[5] += 1
    if totals:
        table = sa.table('market_month_groups', sa.column('network_id'), sa.column('month'), sa.column('group_id'),
                         *[sa.column(c) for c in MARKET_FIGURES])
        op.bulk_insert(table, [dict(network_id=n, month=m, group_id=g, **dict(zip(MARKET_FIGURES, v)))
                               for (n, m, g), v in totals.items()])


def downgrade():
    op.drop_table('market_month_groups')
    op.drop_table('allocation_month_groups')
    op.drop_index('ix_allocation_month_offers_network_month', table_name='allocation_month_offers')
    op.drop_table('allocation_month_offers')
