"""unit coordinates: org_units.latitude/longitude (WGS84, for the map and the Open311 API) and an optional event point
incidents.latitude/longitude

Revision ID: unit_coordinates
Revises: oidc_identities
Create Date: 2026-12-04 20:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'unit_coordinates'
down_revision = 'oidc_identities'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, no batch: SQLite adds and drops a nullable column in place (3.35+), where a batch would copy the
# incidents table, and dropping the old copy fails on the persons that point at it.
def upgrade() -> None:
    for table in ('org_units', 'incidents'):
        op.add_column(table, sa.Column('latitude', sa.Double(), nullable=True))
        op.add_column(table, sa.Column('longitude', sa.Double(), nullable=True))


def downgrade() -> None:
    for table in ('incidents', 'org_units'):
        op.drop_column(table, 'longitude')
        op.drop_column(table, 'latitude')
