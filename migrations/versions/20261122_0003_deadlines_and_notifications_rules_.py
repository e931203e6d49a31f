"""deadlines and notifications: rules, obligations, escalations, outbox, webhooks, digest preference

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:03:02.101175
"""
from alembic import op
import sqlalchemy as sa
import kia.db
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadline_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name_sv', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.Enum('work_environment', 'pupil', 'safety', 'information_security', name='category', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('only_serious', sa.Boolean(), nullable=False),
    sa.Column('start', sa.Enum('occurred_at', 'known_at', 'reported_at', 'field', 'milestone', name='deadlinestart', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('start_field', sa.String(length=40), nullable=True),
    sa.Column('start_milestone', sa.Enum('principal_notified', 'principal_org_notified', 'investigation_started', 'reported_to_av', 'reported_to_fk', 'reported_to_imy', 'police_report_made', 'property_owner_notified', 'guardians_informed', 'support_offered', name='start_milestone', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('due_hours', sa.Integer(), nullable=True),
    sa.Column('due_working_days', sa.Integer(), nullable=True),
    sa.Column('met_by_milestone', sa.Enum('principal_notified', 'principal_org_notified', 'investigation_started', 'reported_to_av', 'reported_to_fk', 'reported_to_imy', 'police_report_made', 'property_owner_notified', 'guardians_informed', 'support_offered', name='met_by_milestone', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('met_by_state', sa.Enum('received', 'acknowledged', 'investigating', 'actions', 'follow_up', 'closed', 'rejected', name='met_by_state', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('escalate_after_hours', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('needs_resync', sa.Boolean(), nullable=False),
    sa.Column('updated_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_deadline_rules_incident_type_id_incident_types'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_rules')),
    sa.UniqueConstraint('code', name=op.f('uq_deadline_rules_code'))
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('kinds', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_webhook_subscriptions_org_unit_id_org_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('webhook_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('email', 'in_app', 'webhook', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('kind', sa.Enum('new_case', 'assigned', 'reminder', 'overdue', 'escalated', 'closed', 'anonymous_message', name='notificationkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='deliverystatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('read_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook_subscriptions.id'], name=op.f('fk_notifications_webhook_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    op.create_index(op.f('ix_notifications_case_id'), 'notifications', ['case_id'], unique=False)
    op.create_index('ix_notifications_status_next_attempt_at', 'notifications', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_notifications_user_id_channel_read_at', 'notifications', ['user_id', 'channel', 'read_at'], unique=False)
    op.create_table('obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'met', 'cancelled', name='obligationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('met_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_step', sa.Enum('reminder', 'due', 'escalated', name='escalationstep', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('next_step_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['case_actions.id'], name=op.f('fk_obligations_action_id_case_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_obligations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['deadline_rules.id'], name=op.f('fk_obligations_rule_id_deadline_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligations')),
    sa.UniqueConstraint('action_id', name=op.f('uq_obligations_action_id')),
    sa.UniqueConstraint('case_id', 'rule_id', name=op.f('uq_obligations_case_id_rule_id'))
    )
    op.create_index(op.f('ix_obligations_case_id'), 'obligations', ['case_id'], unique=False)
    op.create_index('ix_obligations_status_next_step_at', 'obligations', ['status', 'next_step_at'], unique=False)
    op.create_index('ix_obligations_status_due_at', 'obligations', ['status', 'due_at'], unique=False)
    op.create_table('obligation_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Enum('reminder', 'due', 'escalated', name='escalationstep', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligations.id'], name=op.f('fk_obligation_escalations_obligation_id_obligations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation_escalations')),
    sa.UniqueConstraint('obligation_id', 'step', name=op.f('uq_obligation_escalations_obligation_id_step'))
    )
    # Existing users get e-mails at once, as before; the default is only for those rows.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('daily_digest', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('users') as batch:
        batch.alter_column('daily_digest', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('daily_digest')
    op.drop_table('obligation_escalations')
    op.drop_index('ix_obligations_status_next_step_at', table_name='obligations')
    op.drop_index('ix_obligations_status_due_at', table_name='obligations')
    op.drop_index(op.f('ix_obligations_case_id'), table_name='obligations')
    op.drop_table('obligations')
    op.drop_index('ix_notifications_user_id_channel_read_at', table_name='notifications')
    op.drop_index('ix_notifications_status_next_attempt_at', table_name='notifications')
    op.drop_index(op.f('ix_notifications_case_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('webhook_subscriptions')
    op.drop_table('deadline_rules')
