"""gallring heartbeat: retention_runs.heartbeat_at (set after each batch) and taken_over_at, so a run whose
scheduler died midway is taken over by another the same night

Revision ID: gallring_heartbeat
Revises: session_epoch
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import kia.db

revision = 'gallring_heartbeat'
down_revision = 'session_epoch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('retention_runs') as batch:
        batch.add_column(sa.Column('heartbeat_at', kia.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('taken_over_at', kia.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('retention_runs') as batch:
        batch.drop_column('taken_over_at')
        batch.drop_column('heartbeat_at')
