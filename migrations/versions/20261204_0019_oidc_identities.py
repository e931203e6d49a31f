"""oidc identities: user_identities, a user's account at an OpenID Connect provider (issuer + subject, unique
together), linked on the first single sign-on (kia/auth/oidc.py), with when it was made and last signed in with

Revision ID: oidc_identities
Revises: gallring_heartbeat
Create Date: 2026-12-04 20:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import kia.db

revision = 'oidc_identities'
down_revision = 'gallring_heartbeat'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identities')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_user_identities_issuer_subject'))
    )
    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_identities_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_identities_user_id'))

    op.drop_table('user_identities')
