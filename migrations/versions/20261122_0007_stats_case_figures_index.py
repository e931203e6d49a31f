"""stats case figures index: the cases-by-period index also holds what the case figures read

Revision ID: stats_case_figures
Revises: inbox_index
Create Date: 2026-11-22 05:00:00.000000
"""
from alembic import op

revision = 'stats_case_figures'
down_revision = 'inbox_index'
branch_labels = None
depends_on = None

NAME, TABLE = 'ix_cases_created_at_org_unit_id', 'cases'
KEYS = ['created_at', 'org_unit_id', 'incident_type_id', 'state']


def upgrade() -> None:
    # Closing time, due time, the serious flag and the id (milestones are looked up by it) too: the
    # case figures stay one index-only range scan.
    op.drop_index(NAME, table_name=TABLE)
    op.create_index(NAME, TABLE, KEYS + ['serious', 'next_due_at', 'closed_at', 'id'])


def downgrade() -> None:
    op.drop_index(NAME, table_name=TABLE)
    op.create_index(NAME, TABLE, KEYS)
