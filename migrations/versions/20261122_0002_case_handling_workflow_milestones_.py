"""case handling: workflow, milestones, actions, comments, attachments, routing, timeline, feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:56:38.817213
"""
from alembic import op
import sqlalchemy as sa
import kia.db
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limit_windows',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_start', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_limit_windows'))
    )
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.Enum('work_environment', 'pupil', 'safety', 'information_security', name='category', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('only_serious', sa.Boolean(), nullable=False),
    sa.Column('role', sa.Enum('reporter', 'handler', 'safety_rep', 'safety_officer', 'principal_org', 'analyst', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('purpose', sa.Enum('handle', 'inform', name='routingpurpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_routing_rules_incident_type_id_incident_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_routing_rules_org_unit_id_org_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    op.create_table('substitutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('substitute_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_substitutes_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_substitutes_created_by_id_users')),
    sa.ForeignKeyConstraint(['substitute_id'], ['users.id'], name=op.f('fk_substitutes_substitute_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_substitutes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_substitutes'))
    )
    op.create_index('ix_substitutes_user_id_starts_at', 'substitutes', ['user_id', 'starts_at'], unique=False)
    op.create_table('workflow_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=True),
    sa.Column('from_state', sa.Enum('received', 'acknowledged', 'investigating', 'actions', 'follow_up', 'closed', 'rejected', name='from_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('to_state', sa.Enum('received', 'acknowledged', 'investigating', 'actions', 'follow_up', 'closed', 'rejected', name='to_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_workflow_transitions_incident_type_id_incident_types'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_transitions')),
    sa.UniqueConstraint('incident_type_id', 'from_state', 'to_state', name=op.f('uq_workflow_transitions_incident_type_id_from_state_to_state'))
    )
    op.create_table('follow_up_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_follow_up_codes_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_follow_up_codes_code_hash')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_follow_up_codes_incident_id'))
    )
    op.create_table('reporter_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('from_reporter', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_reporter_messages_author_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_reporter_messages_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporter_messages'))
    )
    op.create_index(op.f('ix_reporter_messages_incident_id'), 'reporter_messages', ['incident_id'], unique=False)
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_access_log_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    op.create_index('ix_access_log_case_id_at', 'access_log', ['case_id', 'at'], unique=False)
    op.create_index(op.f('ix_access_log_user_id'), 'access_log', ['user_id'], unique=False)
    op.create_table('case_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'done', 'cancelled', name='actionstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('follow_up_note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_actions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_case_actions_created_by_id_users')),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_case_actions_responsible_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_actions'))
    )
    op.create_index(op.f('ix_case_actions_case_id'), 'case_actions', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_actions_responsible_id'), 'case_actions', ['responsible_id'], unique=False)
    op.create_table('case_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_attachments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_case_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachments'))
    )
    op.create_index(op.f('ix_case_attachments_case_id'), 'case_attachments', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_attachments_sha256'), 'case_attachments', ['sha256'], unique=False)
    op.create_table('case_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_comments_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_comments_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_comments'))
    )
    op.create_index(op.f('ix_case_comments_case_id'), 'case_comments', ['case_id'], unique=False)
    op.create_table('case_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('linked_case_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('case_id < linked_case_id', name=op.f('ck_case_links_ordered_pair')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_links_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_case_links_created_by_id_users')),
    sa.ForeignKeyConstraint(['linked_case_id'], ['cases.id'], name=op.f('fk_case_links_linked_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_links')),
    sa.UniqueConstraint('case_id', 'linked_case_id', name=op.f('uq_case_links_case_id_linked_case_id'))
    )
    op.create_index(op.f('ix_case_links_case_id'), 'case_links', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_links_linked_case_id'), 'case_links', ['linked_case_id'], unique=False)
    op.create_table('case_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('principal_notified', 'principal_org_notified', 'investigation_started', 'reported_to_av', 'reported_to_fk', 'reported_to_imy', 'police_report_made', 'property_owner_notified', 'guardians_informed', 'support_offered', name='milestonekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_milestones_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_milestones_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_milestones')),
    sa.UniqueConstraint('case_id', 'kind', name=op.f('uq_case_milestones_case_id_kind'))
    )
    op.create_table('case_timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=True),
    sa.Column('old', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('new', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_timeline_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_timeline_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_timeline'))
    )
    op.create_index('ix_case_timeline_case_id_id', 'case_timeline', ['case_id', 'id'], unique=False)
    op.create_table('case_watchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_watchers_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_watchers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_watchers')),
    sa.UniqueConstraint('case_id', 'user_id', name=op.f('uq_case_watchers_case_id_user_id'))
    )
    op.create_index(op.f('ix_case_watchers_case_id'), 'case_watchers', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_watchers_user_id'), 'case_watchers', ['user_id'], unique=False)
    # Existing cases take the defaults; batch mode lets SQLite add the foreign key by copying the table.
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('serious', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('serious_checklist', json_type, nullable=False, server_default='{}'))
        for column in ('investigation', 'closing_summary', 'decision', 'open_actions_reason', 'rejection_reason'):
            batch.add_column(sa.Column(column, sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('closed_at', kia.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('next_due_at', kia.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_index(op.f('ix_cases_assignee_id'), ['assignee_id'], unique=False)
        batch.create_index('ix_cases_state_next_due_at', ['state', 'next_due_at'], unique=False)
        batch.create_foreign_key(op.f('fk_cases_assignee_id_users'), 'users', ['assignee_id'], ['id'])
    # The defaults were only for the rows already there; the application always sets these.
    with op.batch_alter_table('cases') as batch:
        for column in ('serious', 'serious_checklist', 'investigation', 'closing_summary', 'decision',
                       'open_actions_reason', 'rejection_reason'):
            batch.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_constraint(op.f('fk_cases_assignee_id_users'), type_='foreignkey')
        batch.drop_index('ix_cases_state_next_due_at')
        batch.drop_index(op.f('ix_cases_assignee_id'))
        for column in ('next_due_at', 'closed_at', 'rejection_reason', 'open_actions_reason', 'decision',
                       'closing_summary', 'investigation', 'serious_checklist', 'serious', 'assignee_id'):
            batch.drop_column(column)
    op.drop_index(op.f('ix_case_watchers_user_id'), table_name='case_watchers')
    op.drop_index(op.f('ix_case_watchers_case_id'), table_name='case_watchers')
    op.drop_table('case_watchers')
    op.drop_index('ix_case_timeline_case_id_id', table_name='case_timeline')
    op.drop_table('case_timeline')
    op.drop_table('case_milestones')
    op.drop_index(op.f('ix_case_links_linked_case_id'), table_name='case_links')
    op.drop_index(op.f('ix_case_links_case_id'), table_name='case_links')
    op.drop_table('case_links')
    op.drop_index(op.f('ix_case_comments_case_id'), table_name='case_comments')
    op.drop_table('case_comments')
    op.drop_index(op.f('ix_case_attachments_sha256'), table_name='case_attachments')
    op.drop_index(op.f('ix_case_attachments_case_id'), table_name='case_attachments')
    op.drop_table('case_attachments')
    op.drop_index(op.f('ix_case_actions_responsible_id'), table_name='case_actions')
    op.drop_index(op.f('ix_case_actions_case_id'), table_name='case_actions')
    op.drop_table('case_actions')
    op.drop_index(op.f('ix_access_log_user_id'), table_name='access_log')
    op.drop_index('ix_access_log_case_id_at', table_name='access_log')
    op.drop_table('access_log')
    op.drop_index(op.f('ix_reporter_messages_incident_id'), table_name='reporter_messages')
    op.drop_table('reporter_messages')
    op.drop_table('follow_up_codes')
    op.drop_table('workflow_transitions')
    op.drop_index('ix_substitutes_user_id_starts_at', table_name='substitutes')
    op.drop_table('substitutes')
    op.drop_table('routing_rules')
    op.drop_table('rate_limit_windows')
