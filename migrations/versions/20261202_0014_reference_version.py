"""reference version: one row whose token moves with every change to event types, the org tree, deadline and
routing rules and webhooks, so each process keeps its copy of them until the token moves (kia/reference.py)

Revision ID: reference_version
Revises: admin_changes
Create Date: 2026-12-02 15:00:00.000000
"""
import uuid

from alembic import op
import sqlalchemy as sa

revision = 'reference_version'
down_revision = 'admin_changes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('reference_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'token': uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table('reference_version')
