"""retention (gallring): a rule per event type (months kept after its cases close, the legal minimum, anonymise or
destroy), legal holds on cases, the log of the nightly runs (one row per night, which also makes a night's run
happen once), and when an incident's personal data was erased. The built-in types get their default rules here
(kia/retention/defaults.py, as it stood): `kia db upgrade` adds those of types created later

Revision ID: retention
Revises: persons_carry_incident
Create Date: 2026-12-04 01:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import kia.db

revision = 'retention'
down_revision = 'persons_carry_incident'
branch_labels = None
depends_on = None

# code: (months, minimum months), as kia/retention/defaults.py had them when this revision was written.
DEFAULTS = {
    'threat_violence': (60, 24), 'accident': (120, 24), 'near_miss': (60, 24), 'serious_near_miss': (60, 24),
    'risk_observation': (60, 24), 'commuting_accident': (120, 24), 'occupational_illness': (120, 24),
    'pupil_injury': (120, 24), 'victimisation': (60, 24), 'fire': (36, 0), 'property_damage': (36, 0),
    'data_breach': (60, 0), 'undue_influence': (36, 0),
}


def upgrade() -> None:
    op.add_column('incidents', sa.Column('anonymised_at', kia.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table('retention_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_type_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('minimum_months', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('anonymise', 'destroy', name='retentionaction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_retention_rules_changed_by_id_users')),
    sa.ForeignKeyConstraint(['incident_type_id'], ['incident_types.id'], name=op.f('fk_retention_rules_incident_type_id_incident_types'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_rules')),
    sa.UniqueConstraint('incident_type_id', name=op.f('uq_retention_rules_incident_type_id'))
    )
    op.create_table('legal_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('appeal', 'police_investigation', 'open_request', name='holdreason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('held_by_id', sa.Integer(), nullable=True),
    sa.Column('held_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_holds_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['held_by_id'], ['users.id'], name=op.f('fk_legal_holds_held_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds')),
    sa.UniqueConstraint('case_id', name=op.f('uq_legal_holds_case_id'))
    )
    op.create_table('retention_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('started_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_runs')),
    sa.UniqueConstraint('night', name=op.f('uq_retention_runs_night'))
    )
    for code, (months, minimum) in DEFAULTS.items():
        op.execute(sa.text("INSERT INTO retention_rules (incident_type_id, months, minimum_months, action) "
                           "SELECT id, :months, :minimum, 'anonymise' FROM incident_types WHERE code = :code")
                   .bindparams(months=months, minimum=minimum, code=code))


def downgrade() -> None:
    op.drop_table('retention_runs')
    op.drop_table('legal_holds')
    op.drop_table('retention_rules')
    # Not batch mode: on SQLite it would copy and drop the incidents table, and dropping it (foreign keys on)
    # deletes every person and case by their ON DELETE CASCADE. SQLite 3.35+ drops a column in place.
    op.execute('ALTER TABLE incidents DROP COLUMN anonymised_at')
