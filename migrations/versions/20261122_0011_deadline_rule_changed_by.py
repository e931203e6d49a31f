"""deadline rule changed by: who last added or changed a deadline rule, and when

Revision ID: deadline_rule_changed_by
Revises: one_notification_per_user
Create Date: 2026-11-22 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kia.db

revision = 'deadline_rule_changed_by'
down_revision = 'one_notification_per_user'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for the rules already there: which admin changed them through the JSON page is not known.
    with op.batch_alter_table('deadline_rules') as batch:
        batch.add_column(sa.Column('changed_at', kia.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('changed_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_deadline_rules_changed_by_id_users'), 'users', ['changed_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('deadline_rules') as batch:
        batch.drop_constraint(batch.f('fk_deadline_rules_changed_by_id_users'), type_='foreignkey')
        batch.drop_column('changed_by_id')
        batch.drop_column('changed_at')
