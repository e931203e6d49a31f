"""Imports every model module so the metadata is complete (Alembic, create_all, mapper configuration)."""
from kia.alarms.models import (  # noqa: F401
    Alarm, AlarmChecklistItem, AlarmEvent, AlarmMessage, AlarmSubscription, AlarmType, ChecklistTick, DrillReminder,
    DrillRequirement, RollCallAnswer,
)
from kia.auth.models import ApiToken, RecoveryCode, TwoFactor, UserIdentity  # noqa: F401
from kia.cases.models import (  # noqa: F401
    AccessLogEntry, Attachment, Case, CaseAction, CaseLink, CaseWatcher, Comment, Milestone, TimelineEntry,
)
from kia.cases.workflow_models import WorkflowTransition  # noqa: F401
from kia.db import Base  # noqa: F401
from kia.deadlines.models import DeadlineRule, Escalation, Obligation  # noqa: F401
from kia.feedback.models import FollowUpCode, ReporterMessage  # noqa: F401
from kia.incidents.models import (  # noqa: F401
    IdempotencyKey, Incident, IncidentPerson, IncidentType, IncidentTypeField, RegistrationCounter,
)
from kia.orgs.models import AdminChange, Membership, OrgUnit, User  # noqa: F401
from kia.property.models import FaultReport, PropertyOwner, PropertyOwnerUnit  # noqa: F401
from kia.ratelimit import RateLimitWindow  # noqa: F401
from kia.routing.models import RoutingRule, Substitute  # noqa: F401
from kia.outbox.models import Notification, WebhookSubscription  # noqa: F401
from kia.reference import ReferenceVersion  # noqa: F401
from kia.retention.models import LegalHold, RetentionRule, RetentionRun  # noqa: F401
