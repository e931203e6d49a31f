"""stats indexes: covering indexes for tertial statistics (incidents by occurred_at, cases by created_at)

Revision ID: stats_indexes
Revises: 0004
Create Date: 2026-11-22 03:30:00.000000
"""
from alembic import op

revision = 'stats_indexes'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tertial is a range of time grouped by unit and type: with these, one index-only range scan.
    op.create_index('ix_incidents_occurred_at_org_unit_id', 'incidents',
                    ['occurred_at', 'org_unit_id', 'incident_type_id'])
    op.create_index('ix_cases_created_at_org_unit_id', 'cases',
                    ['created_at', 'org_unit_id', 'incident_type_id', 'state'])


def downgrade() -> None:
    op.drop_index('ix_cases_created_at_org_unit_id', table_name='cases')
    op.drop_index('ix_incidents_occurred_at_org_unit_id', table_name='incidents')
