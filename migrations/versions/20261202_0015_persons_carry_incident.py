"""persons carry their incident: each person row keeps the type, unit and time of its incident (which never change
once filed), and one index holds what the tertial statistics count affected persons by, so a city's lägesbild
reads the persons of a tertial from the index instead of joining every person with the period's incidents

Revision ID: persons_carry_incident
Revises: reference_version
Create Date: 2026-12-02 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import kia.db

revision = 'persons_carry_incident'
down_revision = 'reference_version'
branch_labels = None
depends_on = None

COPIED = ('incident_type_id', 'org_unit_id', 'occurred_at')


def upgrade() -> None:
    with op.batch_alter_table('incident_persons') as batch:
        batch.add_column(sa.Column('incident_type_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('org_unit_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('occurred_at', kia.db.UTCDateTime(timezone=True), nullable=True))
    # Both databases take a correlated subquery; the persons of a city are copied once.
    op.execute("UPDATE incident_persons SET " + ", ".join(
        f"{column} = (SELECT incidents.{column} FROM incidents WHERE incidents.id = incident_persons.incident_id)"
        for column in COPIED))
    with op.batch_alter_table('incident_persons') as batch:
        for column in COPIED:
            batch.alter_column(column, nullable=False)
        batch.create_foreign_key(batch.f('fk_incident_persons_incident_type_id_incident_types'), 'incident_types',
                                 ['incident_type_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_incident_persons_org_unit_id_org_units'), 'org_units',
                                 ['org_unit_id'], ['id'])
        batch.create_index('ix_incident_persons_occurred_at', ['occurred_at', 'org_unit_id', 'incident_type_id',
                                                               'role', 'gender', 'category'])


def downgrade() -> None:
    with op.batch_alter_table('incident_persons') as batch:
        batch.drop_index('ix_incident_persons_occurred_at')
        batch.drop_constraint(batch.f('fk_incident_persons_org_unit_id_org_units'), type_='foreignkey')
        batch.drop_constraint(batch.f('fk_incident_persons_incident_type_id_incident_types'), type_='foreignkey')
        for column in reversed(COPIED):
            batch.drop_column(column)
