"""admin changes: who changed which user or org unit, what, and when (a password only as set, never its value)

Revision ID: admin_changes
Revises: retired_type_fields
Create Date: 2026-12-01 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kia.db

revision = 'admin_changes'
down_revision = 'retired_type_fields'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty at first: what admins changed before it existed is not known.
    op.create_table('admin_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.Enum('user', 'org_unit', name='changesubject', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=40), nullable=False),
    sa.Column('old', sa.String(length=300), nullable=True),
    sa.Column('new', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_admin_changes_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_changes'))
    )
    op.create_index('ix_admin_changes_subject', 'admin_changes', ['subject_kind', 'subject_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_admin_changes_subject', table_name='admin_changes')
    op.drop_table('admin_changes')
