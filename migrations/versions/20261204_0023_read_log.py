"""read log: every read of a case is logged (not only of sensitive ones), with the unit it was read on, API reads of
incidents and registerutdrag searches (a keyed hash of the personal number) too; the log is only ever inserted into,
a trigger refuses UPDATE and DELETE. The roles auditor and data_protection_officer; persons are found by personal
number (the registerutdrag).

The log loses its foreign key to the case: a case destroyed by gallring would cascade into (delete) its reads, which
the trigger refuses; the reads outlive what was read.

Revision ID: read_log
Revises: property_owners
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'read_log'
down_revision = 'property_owners'
branch_labels = None
depends_on = None

ROLES = "'reporter', 'handler', 'safety_rep', 'safety_officer', 'principal_org', 'analyst', 'admin'"
NEW_ROLES = ", 'auditor', 'data_protection_officer'"
REFUSAL = "the read log is never changed or deleted"

POSTGRES_TRIGGER = f"""
CREATE FUNCTION access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER access_log_insert_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();
"""
POSTGRES_DROP = """
DROP TRIGGER access_log_no_truncate ON access_log;
DROP TRIGGER access_log_insert_only ON access_log;
DROP FUNCTION access_log_refuse_change();
"""


def _role_checks(values: str) -> None:
    for table in ('memberships', 'routing_rules'):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(batch.f(f'ck_{table}_role'), type_='check')
            batch.create_check_constraint(batch.f(f'ck_{table}_role'), sa.text(f"role IN ({values})"))


def _triggers(create: bool) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_TRIGGER if create else POSTGRES_DROP)
    else:   # SQLite: one statement each; a later batch_alter_table of access_log must create them again
        for what in ('update', 'delete'):
            op.execute(f"CREATE TRIGGER access_log_no_{what} BEFORE {what.upper()} ON access_log "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END" if create
                       else f"DROP TRIGGER access_log_no_{what}")


def upgrade() -> None:
    _role_checks(ROLES + NEW_ROLES)
    with op.batch_alter_table('access_log') as batch:
        batch.drop_constraint('fk_access_log_case_id_cases', type_='foreignkey')
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('org_unit_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('subject_hash', sa.String(length=64), nullable=True))
        batch.create_foreign_key(batch.f('fk_access_log_org_unit_id_org_units'), 'org_units', ['org_unit_id'], ['id'])
        batch.create_index(batch.f('ix_access_log_incident_id'), ['incident_id'], unique=False)
        batch.create_index(batch.f('ix_access_log_org_unit_id'), ['org_unit_id'], unique=False)
        batch.create_index(batch.f('ix_access_log_subject_hash'), ['subject_hash'], unique=False)
    of_case = "FROM cases WHERE cases.id = access_log.case_id"
    op.execute(f"UPDATE access_log SET incident_id = (SELECT incident_id {of_case}), "
               f"org_unit_id = (SELECT org_unit_id {of_case})")
    _triggers(create=True)
    op.create_index(op.f('ix_incident_persons_personal_number'), 'incident_persons', ['personal_number'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_incident_persons_personal_number'), table_name='incident_persons')
    _triggers(create=False)
    # Reads naming no case, or a case since destroyed, cannot stay under the old foreign key and NOT NULL.
    op.execute("DELETE FROM access_log WHERE case_id IS NULL OR case_id NOT IN (SELECT id FROM cases)")
    with op.batch_alter_table('access_log') as batch:
        batch.drop_index(batch.f('ix_access_log_subject_hash'))
        batch.drop_index(batch.f('ix_access_log_org_unit_id'))
        batch.drop_index(batch.f('ix_access_log_incident_id'))
        batch.drop_constraint(batch.f('fk_access_log_org_unit_id_org_units'), type_='foreignkey')
        batch.drop_column('subject_hash')
        batch.drop_column('org_unit_id')
        batch.drop_column('incident_id')
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key('fk_access_log_case_id_cases', 'cases', ['case_id'], ['id'], ondelete='CASCADE')
    op.execute("DELETE FROM memberships WHERE role IN ('auditor', 'data_protection_officer')")
    op.execute("DELETE FROM routing_rules WHERE role IN ('auditor', 'data_protection_officer')")
    _role_checks(ROLES)
