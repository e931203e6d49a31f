"""session epoch: users.session_epoch, counted up when a password is set or changed; a web session keeps the epoch
it signed in with (its Flask-Login id "<user id>:<epoch>"), so the user's sessions from before are signed out

Revision ID: session_epoch
Revises: retention
Create Date: 2026-12-04 02:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'session_epoch'
down_revision = 'retention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_epoch')
