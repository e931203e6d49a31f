"""Imports every model module so the metadata is complete (Alembic, create_all, mapper configuration)."""
from kia.auth.models import ApiToken  # noqa: F401
from kia.cases.models import Case  # noqa: F401
from kia.db import Base  # noqa: F401
from kia.incidents.models import (  # noqa: F401
    IdempotencyKey, Incident, IncidentPerson, IncidentType, IncidentTypeField, RegistrationCounter,
)
from kia.orgs.models import Membership, OrgUnit, User  # noqa: F401
