"""alarms: alarm types (data, seeded by kia.seed), alarms with roll call, chat and checklist ticks, the events pushed
to connected clients, subscriptions of units above, drill requirements and their reminders; the outbox gains the
alarm and drill notification kinds

Revision ID: alarms
Revises: session_epoch
Create Date: 2026-12-04 20:34:59.746729
"""
from alembic import op
import sqlalchemy as sa
import kia.db
from sqlalchemy.dialects import postgresql

revision = 'alarms'
down_revision = 'session_epoch'
branch_labels = None
depends_on = None


OLD_KINDS = "'new_case', 'assigned', 'reminder', 'overdue', 'escalated', 'closed', 'anonymous_message'"
NEW_KINDS = OLD_KINDS + ", 'alarm', 'alarm_ended', 'drill_reminder', 'drill_overdue', 'drill_escalated'"


def _kind_check(values: str) -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint(batch.f('ck_notifications_notificationkind'), type_='check')
        batch.create_check_constraint(batch.f('ck_notifications_notificationkind'), sa.text(f"kind IN ({values})"))


def upgrade() -> None:
    _kind_check(NEW_KINDS)
    op.create_table('alarm_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_alarm_subscriptions_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alarm_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_subscriptions')),
    sa.UniqueConstraint('user_id', 'org_unit_id', name=op.f('uq_alarm_subscriptions_user_id_org_unit_id'))
    )
    with op.batch_alter_table('alarm_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_subscriptions_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('alarm_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_sv', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('instruction_sv', sa.Text(), nullable=False),
    sa.Column('instruction_en', sa.Text(), nullable=False),
    sa.Column('may_be_silent', sa.Boolean(), nullable=False),
    sa.Column('asks_roll_call', sa.Boolean(), nullable=False),
    sa.Column('needs_confirm', sa.Boolean(), nullable=False),
    sa.Column('event_type_id', sa.Integer(), nullable=False),
    sa.Column('event_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_type_id'], ['incident_types.id'], name=op.f('fk_alarm_types_event_type_id_incident_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_types')),
    sa.UniqueConstraint('code', name=op.f('uq_alarm_types_code'))
    )
    op.create_table('alarm_checklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_type_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text_sv', sa.String(length=300), nullable=False),
    sa.Column('text_en', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['alarm_type_id'], ['alarm_types.id'], name=op.f('fk_alarm_checklist_items_alarm_type_id_alarm_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_checklist_items'))
    )
    with op.batch_alter_table('alarm_checklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_checklist_items_alarm_type_id'), ['alarm_type_id'], unique=False)

    op.create_table('alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_type_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=False),
    sa.Column('silent', sa.Boolean(), nullable=False),
    sa.Column('drill', sa.Boolean(), nullable=False),
    sa.Column('ended_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('notices_queued_at', kia.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alarm_type_id'], ['alarm_types.id'], name=op.f('fk_alarms_alarm_type_id_alarm_types')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_alarms_ended_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_alarms_incident_id_incidents')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_alarms_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_alarms_raised_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index('ix_alarms_ended_at', ['ended_at'], unique=False)
        batch_op.create_index('ix_alarms_org_unit_id_ended_at', ['org_unit_id', 'ended_at'], unique=False)

    op.create_table('drill_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('alarm_type_id', sa.Integer(), nullable=False),
    sa.Column('every_months', sa.Integer(), nullable=False),
    sa.Column('starts_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['alarm_type_id'], ['alarm_types.id'], name=op.f('fk_drill_requirements_alarm_type_id_alarm_types')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_drill_requirements_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_requirements')),
    sa.UniqueConstraint('org_unit_id', 'alarm_type_id', name=op.f('uq_drill_requirements_org_unit_id_alarm_type_id'))
    )
    op.create_table('alarm_checklist_ticks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('ticked_by_id', sa.Integer(), nullable=False),
    sa.Column('ticked_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_alarm_checklist_ticks_alarm_id_alarms')),
    sa.ForeignKeyConstraint(['item_id'], ['alarm_checklist_items.id'], name=op.f('fk_alarm_checklist_ticks_item_id_alarm_checklist_items')),
    sa.ForeignKeyConstraint(['ticked_by_id'], ['users.id'], name=op.f('fk_alarm_checklist_ticks_ticked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_checklist_ticks')),
    sa.UniqueConstraint('alarm_id', 'item_id', name=op.f('uq_alarm_checklist_ticks_alarm_id_item_id'))
    )
    op.create_table('alarm_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_alarm_events_alarm_id_alarms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_events'))
    )
    with op.batch_alter_table('alarm_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_events_alarm_id'), ['alarm_id'], unique=False)

    op.create_table('alarm_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_alarm_messages_alarm_id_alarms')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_alarm_messages_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_messages'))
    )
    with op.batch_alter_table('alarm_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_messages_alarm_id'), ['alarm_id'], unique=False)

    op.create_table('alarm_roll_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('safe', 'need_help', 'not_on_site', name='rollcallstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('answered_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_alarm_roll_calls_alarm_id_alarms')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alarm_roll_calls_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_roll_calls')),
    sa.UniqueConstraint('alarm_id', 'user_id', name=op.f('uq_alarm_roll_calls_alarm_id_user_id'))
    )
    with op.batch_alter_table('alarm_roll_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_roll_calls_user_id'), ['user_id'], unique=False)

    op.create_table('drill_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=False),
    sa.Column('due_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('step', sa.Enum('reminder', 'due', 'escalated', name='drillstep', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sent_at', kia.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requirement_id'], ['drill_requirements.id'], name=op.f('fk_drill_reminders_requirement_id_drill_requirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_reminders')),
    sa.UniqueConstraint('requirement_id', 'due_at', 'step', name=op.f('uq_drill_reminders_requirement_id_due_at_step'))
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind IN ('alarm', 'alarm_ended', 'drill_reminder', 'drill_overdue', "
               "'drill_escalated')")
    _kind_check(OLD_KINDS)
    op.drop_table('drill_reminders')
    with op.batch_alter_table('alarm_roll_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarm_roll_calls_user_id'))

    op.drop_table('alarm_roll_calls')
    with op.batch_alter_table('alarm_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarm_messages_alarm_id'))

    op.drop_table('alarm_messages')
    with op.batch_alter_table('alarm_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarm_events_alarm_id'))

    op.drop_table('alarm_events')
    op.drop_table('alarm_checklist_ticks')
    op.drop_table('drill_requirements')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_org_unit_id_ended_at')
        batch_op.drop_index('ix_alarms_ended_at')

    op.drop_table('alarms')
    with op.batch_alter_table('alarm_checklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarm_checklist_items_alarm_type_id'))

    op.drop_table('alarm_checklist_items')
    op.drop_table('alarm_types')
    with op.batch_alter_table('alarm_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarm_subscriptions_org_unit_id'))

    op.drop_table('alarm_subscriptions')
