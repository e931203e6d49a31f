"""property owners: who owns the units' buildings and how they take fault reports (Open311 GeoReport v2 or e-mail),
the fault reports sent from cases, the outbox channel and kinds that deliver them, and the event types' flag
concerns_building (on for fire, vandalism/break-in and risk observations, what a skyddsrond finds)

Revision ID: property_owners
Revises: two_factor
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import kia.db

revision = 'property_owners'
down_revision = 'two_factor'
branch_labels = None
depends_on = None

BUILDING_TYPES = ('fire', 'property_damage', 'risk_observation')
CHANNELS = ('email', 'webhook')
KINDS = ('new_case', 'assigned', 'reminder', 'overdue', 'escalated', 'closed', 'anonymous_message')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _method():
    return sa.Enum('open311', 'email', name='deliverymethod', native_enum=False, create_constraint=True, length=32)


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _checks(batch, channels, kinds) -> None:
    batch.drop_constraint(batch.f('ck_notifications_channel'), type_='check')
    batch.create_check_constraint(batch.f('ck_notifications_channel'), sa.text(f"channel IN ({_in(channels)})"))
    batch.drop_constraint(batch.f('ck_notifications_notificationkind'), type_='check')
    batch.create_check_constraint(batch.f('ck_notifications_notificationkind'), sa.text(f"kind IN ({_in(kinds)})"))


def upgrade() -> None:
    # Not a batch: on SQLite that would copy the table, which the incidents' foreign keys refuse.
    op.add_column('incident_types', sa.Column('concerns_building', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    incident_types = sa.table('incident_types', sa.column('code', sa.String), sa.column('concerns_building', sa.Boolean))
    op.execute(incident_types.update().where(incident_types.c.code.in_(BUILDING_TYPES))
               .values(concerns_building=True))
    op.create_table('property_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('method', _method(), nullable=False),
    sa.Column('endpoint_url', sa.String(length=500), nullable=False),
    sa.Column('api_key', sa.String(length=200), nullable=False),
    sa.Column('jurisdiction_id', sa.String(length=100), nullable=False),
    sa.Column('service_codes', JSON, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_owners')),
    sa.UniqueConstraint('name', name=op.f('uq_property_owners_name'))
    )
    op.create_table('property_owner_units',
    sa.Column('org_unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('property_owner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_property_owner_units_org_unit_id_org_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_owner_id'], ['property_owners.id'], name=op.f('fk_property_owner_units_property_owner_id_property_owners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_unit_id', name=op.f('pk_property_owner_units'))
    )
    op.create_index(op.f('ix_property_owner_units_property_owner_id'), 'property_owner_units', ['property_owner_id'])
    op.create_table('fault_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('property_owner_id', sa.Integer(), nullable=False),
    sa.Column('method', _method(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('urgency', sa.Enum('low', 'normal', 'urgent', name='urgency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sent', 'failed', 'closed', name='faultreportstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('service_request_id', sa.String(length=100), nullable=True),
    sa.Column('token', sa.String(length=100), nullable=True),
    sa.Column('owner_status', sa.String(length=20), nullable=False),
    sa.Column('status_notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('polled_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_fault_reports_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fault_reports_created_by_id_users')),
    sa.ForeignKeyConstraint(['property_owner_id'], ['property_owners.id'], name=op.f('fk_fault_reports_property_owner_id_property_owners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_reports'))
    )
    op.create_index(op.f('ix_fault_reports_case_id'), 'fault_reports', ['case_id'])
    op.create_index(op.f('ix_fault_reports_property_owner_id'), 'fault_reports', ['property_owner_id'])
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('fault_report_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_notifications_fault_report_id_fault_reports'), 'fault_reports',
                                 ['fault_report_id'], ['id'], ondelete='CASCADE')
        _checks(batch, CHANNELS + ('property_owner',), KINDS + ('fault_report', 'fault_report_closed'))


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE channel = 'property_owner' "
               "OR kind IN ('fault_report', 'fault_report_closed')")
    with op.batch_alter_table('notifications') as batch:
        _checks(batch, CHANNELS, KINDS)
        batch.drop_constraint(batch.f('fk_notifications_fault_report_id_fault_reports'), type_='foreignkey')
        batch.drop_column('fault_report_id')
    op.drop_index(op.f('ix_fault_reports_property_owner_id'), table_name='fault_reports')
    op.drop_index(op.f('ix_fault_reports_case_id'), table_name='fault_reports')
    op.drop_table('fault_reports')
    op.drop_index(op.f('ix_property_owner_units_property_owner_id'), table_name='property_owner_units')
    op.drop_table('property_owner_units')
    op.drop_table('property_owners')
    op.execute('ALTER TABLE incident_types DROP COLUMN concerns_building')
