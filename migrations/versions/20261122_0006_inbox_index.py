"""inbox index: the open cases of a unit by due time (partial: most cases are closed)

Revision ID: inbox_index
Revises: stats_indexes
Create Date: 2026-11-22 04:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'inbox_index'
down_revision = 'stats_indexes'
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('received', 'acknowledged', 'investigating', 'actions', 'follow_up')")


def upgrade() -> None:
    # A safety officer's inbox (open, overdue, ~50 units, soonest due first) walks this index per unit
    # instead of every open case of the city (bench/inbox.py).
    op.create_index('ix_cases_open_org_unit_id_next_due_at', 'cases', ['org_unit_id', 'next_due_at'],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_cases_open_org_unit_id_next_due_at', table_name='cases')
