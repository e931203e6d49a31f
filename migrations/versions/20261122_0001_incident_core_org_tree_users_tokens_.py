"""incident core: org tree, users, tokens, event types, incidents, cases

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 01:49:18.351291
"""
from alembic import op
import sqlalchemy as sa
import kia.db
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_sv', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('help_sv', sa.String(length=300), nullable=False),
    sa.Column('help_en', sa.String(length=300), nullable=False),
    sa.Column('category', sa.Enum('work_environment', 'pupil', 'safety', 'information_security', name='category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('case_per_affected_pupil', sa.Boolean(), nullable=False),
    sa.Column('allows_anonymous', sa.Boolean(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_types')),
    sa.UniqueConstraint('code', name=op.f('uq_incident_types_code'))
    )
    op.create_table('org_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('city', 'administration', 'department', 'unit', 'site', name='orgkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('code', name=op.f('uq_org_units_code'))
    )
    op.create_index(op.f('ix_org_units_parent_id'), 'org_units', ['parent_id'], unique=False)
    op.create_index('ix_org_units_path', 'org_units', ['path'], unique=False, postgresql_ops={'path': 'text_pattern_ops'})
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=300), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('incident_type_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('text', 'number', 'boolean', 'date', 'datetime', 'choice', 'multichoice', name='fieldkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('label_sv', sa.String(length=200), nullable=False),
    sa.Column('label_en', sa.String(length=200), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_incident_type_fields_incident_type_id_incident_types'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_type_fields')),
    sa.UniqueConstraint('incident_type_id', 'key', name=op.f('uq_incident_type_fields_incident_type_id_key'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('known_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reported_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('field_values', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_incidents_incident_type_id_incident_types')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_incidents_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_incidents_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('number', name=op.f('uq_incidents_number'))
    )
    op.create_index(op.f('ix_incidents_incident_type_id'), 'incidents', ['incident_type_id'], unique=False)
    op.create_index('ix_incidents_occurred_at_id', 'incidents', ['occurred_at', 'id'], unique=False)
    op.create_index('ix_incidents_org_unit_id_occurred_at', 'incidents', ['org_unit_id', 'occurred_at'], unique=False)
    op.create_index(op.f('ix_incidents_reporter_id'), 'incidents', ['reporter_id'], unique=False)
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('reporter', 'handler', 'safety_rep', 'safety_officer', 'principal_org', 'analyst', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_memberships_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('user_id', 'org_unit_id', 'role', name=op.f('uq_memberships_user_id_org_unit_id_role'))
    )
    op.create_index(op.f('ix_memberships_org_unit_id'), 'memberships', ['org_unit_id'], unique=False)
    op.create_index(op.f('ix_memberships_user_id'), 'memberships', ['user_id'], unique=False)
    op.create_table('registration_counters',
    sa.Column('administration_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['administration_id'], ['org_units.id'], name=op.f('fk_registration_counters_administration_id_org_units')),
    sa.PrimaryKeyConstraint('administration_id', 'year', name=op.f('pk_registration_counters'))
    )
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_idempotency_keys_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_keys_user_id_key'))
    )
    op.create_table('incident_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('affected', 'perpetrator', 'witness', name='personrole', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('category', sa.Enum('staff', 'pupil', 'guardian', 'visitor', 'other', 'unknown', name='personcategory', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('gender', sa.Enum('female', 'male', 'other', 'unknown', name='gender', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('class_name', sa.String(length=40), nullable=True),
    sa.Column('personal_number', sa.String(length=13), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_persons_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_persons'))
    )
    op.create_index(op.f('ix_incident_persons_incident_id'), 'incident_persons', ['incident_id'], unique=False)
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=48), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('subject_person_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('received', 'acknowledged', 'investigating', 'actions', 'follow_up', 'closed', 'rejected', name='casestate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_cases_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_cases_incident_type_id_incident_types')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_cases_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['subject_person_id'], ['incident_persons.id'], name=op.f('fk_cases_subject_person_id_incident_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    op.create_index(op.f('ix_cases_incident_id'), 'cases', ['incident_id'], unique=False)
    op.create_index('ix_cases_org_unit_id_state', 'cases', ['org_unit_id', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_org_unit_id_state', table_name='cases')
    op.drop_index(op.f('ix_cases_incident_id'), table_name='cases')
    op.drop_table('cases')
    op.drop_index(op.f('ix_incident_persons_incident_id'), table_name='incident_persons')
    op.drop_table('incident_persons')
    op.drop_table('idempotency_keys')
    op.drop_table('registration_counters')
    op.drop_index(op.f('ix_memberships_user_id'), table_name='memberships')
    op.drop_index(op.f('ix_memberships_org_unit_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index(op.f('ix_incidents_reporter_id'), table_name='incidents')
    op.drop_index('ix_incidents_org_unit_id_occurred_at', table_name='incidents')
    op.drop_index('ix_incidents_occurred_at_id', table_name='incidents')
    op.drop_index(op.f('ix_incidents_incident_type_id'), table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('incident_type_fields')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_index('ix_org_units_path', table_name='org_units', postgresql_ops={'path': 'text_pattern_ops'})
    op.drop_index(op.f('ix_org_units_parent_id'), table_name='org_units')
    op.drop_table('org_units')
    op.drop_table('incident_types')
