"""case field values: a related case of another type keeps its own type's fields

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    # The default is only for the rows already there; the application always sets the value.
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('field_values', json_type, nullable=False, server_default='{}'))
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('field_values', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('field_values')
