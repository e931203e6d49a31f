"""retired type fields: an event type's field can be retired (hidden from new reports, its values kept)

Revision ID: retired_type_fields
Revises: deadline_rule_changed_by
Create Date: 2026-11-22 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'retired_type_fields'
down_revision = 'deadline_rule_changed_by'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every field there is stays in use: the default fills the rows already stored.
    with op.batch_alter_table('incident_type_fields') as batch:
        batch.add_column(sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('incident_type_fields') as batch:
        batch.drop_column('retired')
