"""Who may see and do what. Every read of incidents or cases is filtered here, nowhere else.

A role is held on an org unit and applies to its whole subtree (DOMAIN.md). Records outside
the actor's scope are reported as not found by the callers, never as forbidden.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, func, or_, select

from kia.errors import N_, Forbidden, Msg
from kia.incidents.models import Category, IncidentType
from kia.orgs.models import OrgUnit, Role, User

# Which incident types each role sees inside its subtree.
SEES_ALL_TYPES = {Role.HANDLER, Role.PRINCIPAL_ORG}
SEES_NON_CONFIDENTIAL = {Role.SAFETY_OFFICER}
SEES_WORK_ENVIRONMENT = {Role.SAFETY_REP}
HANDLES_INCIDENTS = SEES_ALL_TYPES | SEES_NON_CONFIDENTIAL | SEES_WORK_ENVIRONMENT


@dataclass(frozen=True)
class Grant:
    role: Role
    unit_id: int
    unit_path: str


@dataclass(frozen=True)
class Actor:
    """A signed-in user as the access rules see them: roles on units, and scopes when using a token."""

    user_id: int
    language: str
    grants: tuple[Grant, ...]
    scopes: frozenset[str] | None = None  # None: a web session, limited only by roles

    @classmethod
    def for_user(cls, user: User, scopes: frozenset[str] | None = None) -> "Actor":
        grants = tuple(Grant(m.role, m.org_unit_id, m.org_unit.path) for m in user.memberships)
        return cls(user_id=user.id, language=user.language, grants=grants, scopes=scopes)

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def require_scope(self, scope: str) -> None:
        if not self.has_scope(scope):
            raise Forbidden(Msg(N_("This token lacks the scope %(scope)s."), {"scope": scope}))

    def paths_for(self, roles: set[Role]) -> list[str]:
        return sorted({g.unit_path for g in self.grants if g.role in roles})

    def holds_role_over(self, unit: OrgUnit, roles: set[Role] | None = None) -> bool:
        return any(unit.path.startswith(g.unit_path) and (roles is None or g.role in roles)
                   for g in self.grants)

    def is_config_admin(self) -> bool:
        """Event types and other city-wide configuration: admin held on a root of the tree."""
        return self.has_scope("admin") and any(
            g.role == Role.ADMIN and g.unit_path.count("/") == 2 for g in self.grants)

    def require_config_admin(self, message: str) -> None:
        """Forbidden, with `message` (an N_ msgid), unless the actor is an admin of the whole organisation."""
        if not self.is_config_admin():
            raise Forbidden(Msg(message))


def subtree_ids(paths: list[str]):
    """A subquery of the ids of all units under any of `paths` (each path includes its own unit)."""
    return select(OrgUnit.id).where(or_(*(OrgUnit.path.like(p + "%") for p in paths)))


def _types_where(*conditions):
    return select(IncidentType.id).where(*conditions)


def record_visibility(actor: Actor, unit_col, type_col, reporter_col=None) -> ColumnElement[bool]:
    """The WHERE clause limiting incidents (or cases) to what `actor` may read."""
    clauses = []
    if reporter_col is not None:
        clauses.append(reporter_col == actor.user_id)
    all_types = actor.paths_for(SEES_ALL_TYPES)
    if all_types:
        clauses.append(unit_col.in_(subtree_ids(all_types)))
    non_confidential = actor.paths_for(SEES_NON_CONFIDENTIAL)
    if non_confidential:
        clauses.append(unit_col.in_(subtree_ids(non_confidential))
                       & type_col.in_(_types_where(IncidentType.confidential.is_(False))))
    work_environment = actor.paths_for(SEES_WORK_ENVIRONMENT)
    if work_environment:
        clauses.append(unit_col.in_(subtree_ids(work_environment))
                       & type_col.in_(_types_where(IncidentType.confidential.is_(False),
                                                   IncidentType.category == Category.WORK_ENVIRONMENT)))
    return or_(*clauses) if clauses else false()


def may_file_on(actor: Actor, unit: OrgUnit) -> bool:
    """Staff file only on units where they hold a role (on the unit or an ancestor)."""
    return actor.holds_role_over(unit)


# Names, classes, personal numbers and sensitive field values: the handler chain and the reporter.
SEES_PERSONAL_DATA = {Role.HANDLER, Role.PRINCIPAL_ORG, Role.SAFETY_OFFICER}


def may_see_personal_data(actor: Actor, incident) -> bool:
    if incident.reporter_id is not None and incident.reporter_id == actor.user_id:
        return True
    roles = SEES_ALL_TYPES if incident.incident_type.confidential else SEES_PERSONAL_DATA
    return actor.holds_role_over(incident.org_unit, roles)


# ---- cases ------------------------------------------------------------------------------------

# Who may work a case (transitions, milestones, actions): the handler chain of its unit, safety
# officers for non-confidential cases, and whoever the case is assigned or delegated to.
HANDLES_CASES = {Role.HANDLER}
HANDLES_NON_CONFIDENTIAL_CASES = {Role.SAFETY_OFFICER}


def case_visibility(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause limiting cases to what `actor` may read (the reporter's view is kia.feedback)."""
    from kia.cases.models import Case

    return or_(record_visibility(actor, Case.org_unit_id, Case.incident_type_id),
               Case.assignee_id == actor.user_id)


def handles_type_on(actor: Actor, incident_type, unit: OrgUnit) -> bool:
    """By role, whether `actor` handles cases of this type on `unit` (also: who may add a related case of it)."""
    roles = HANDLES_CASES if incident_type.confidential else HANDLES_CASES | HANDLES_NON_CONFIDENTIAL_CASES
    return actor.holds_role_over(unit, roles)


def may_handle_case(actor: Actor, case) -> bool:
    if case.assignee_id is not None and case.assignee_id == actor.user_id:
        return True
    return handles_type_on(actor, case.incident_type, case.org_unit)


# Who can be made händelseansvarig of a case, or responsible for one of its actions: anyone working in
# its unit – not analysts (never personal data) nor admins (they configure, they do not handle cases),
# and for a confidential case not the skyddsombud or säkerhetssamordnare, who never see kränkning cases.
TAKES_ON_CASES = {Role.REPORTER, Role.HANDLER, Role.SAFETY_REP, Role.SAFETY_OFFICER, Role.PRINCIPAL_ORG}
TAKES_ON_CONFIDENTIAL_CASES = {Role.REPORTER, Role.HANDLER, Role.PRINCIPAL_ORG}


def roles_taking_on(incident_type) -> set[Role]:
    """The roles that can be given cases of this type (also by a routing rule)."""
    return TAKES_ON_CONFIDENTIAL_CASES if incident_type.confidential else TAKES_ON_CASES


def roles_reading(incident_type) -> set[Role]:
    """The roles that may read this type's cases in their subtree (record_visibility, for one type): only
    they may be told of such a case, since a notice alone says that it exists."""
    roles = set(SEES_ALL_TYPES)
    if not incident_type.confidential:
        roles |= SEES_NON_CONFIDENTIAL
        if incident_type.category == Category.WORK_ENVIRONMENT:
            roles |= SEES_WORK_ENVIRONMENT
    return roles


def may_read_case(actor: Actor, case) -> bool:
    """For a case already loaded, what case_visibility says in SQL."""
    return case.assignee_id == actor.user_id or actor.holds_role_over(case.org_unit, roles_reading(case.incident_type))


def cases_shown_with(actor: Actor, incident) -> list:
    """The incident's cases shown to one reading it: those they may read, and to its reporter those the report
    opened (of its type). A case added later of another type – a pupil's kränkning case beside a threat – is not
    shown to a reporter or skyddsombud who may not read it: its number alone says that it exists."""
    reporter = incident.reporter_id is not None and incident.reporter_id == actor.user_id
    return [case for case in incident.cases
            if reporter and case.incident_type_id == incident.incident_type_id or may_read_case(actor, case)]


def may_take_on(candidate: Actor, case) -> bool:
    return candidate.holds_role_over(case.org_unit, roles_taking_on(case.incident_type))


def may_complete_action(actor: Actor, case, action) -> bool:
    """Whoever handles the case changes its actions; the responsible user may mark their own one done."""
    return may_handle_case(actor, case) or action.responsible_id == actor.user_id


def may_stand_in_for(substitute: Actor, handler: Actor) -> bool:
    """An ersättare receives the handler's new cases, so must handle on every unit the handler handles."""
    handled = [g.unit_path for g in handler.grants if g.role in HANDLES_CASES]
    covered = [g.unit_path for g in substitute.grants if g.role in HANDLES_CASES]
    return bool(handled) and all(any(path.startswith(c) for c in covered) for path in handled)


# The read log is reviewed by the auditor (granskare) – and, as before, by the admins – of a subtree: the reads of
# cases in it. A read naming no case (a registerutdrag search made city-wide) is reviewed from the root only.
REVIEWS_READ_LOG = {Role.ADMIN, Role.AUDITOR}


def may_review_access_log(actor: Actor) -> bool:
    return actor.has_scope("admin") and bool(actor.paths_for(REVIEWS_READ_LOG))


def access_log_visibility(actor: Actor) -> ColumnElement[bool]:
    """An auditor (or admin) reviews the reads logged on units of the subtree where they hold that role."""
    from kia.cases.models import AccessLogEntry

    if not may_review_access_log(actor):
        return false()
    paths = actor.paths_for(REVIEWS_READ_LOG)
    clause = AccessLogEntry.org_unit_id.in_(subtree_ids(paths))
    if any(path.count("/") == 2 for path in paths):
        clause = clause | AccessLogEntry.org_unit_id.is_(None)
    return clause


def legal_hold_visibility(actor: Actor) -> ColumnElement[bool]:
    """An admin sees the legal holds on cases of the subtree where they hold the admin role (the numbers only, as
    in the read log: what a case says is its handlers' business)."""
    from kia.cases.models import Case

    paths = actor.paths_for({Role.ADMIN}) if actor.has_scope("admin") else []
    if not paths:
        return false()
    return Case.org_unit_id.in_(subtree_ids(paths))


# Registerutdrag (GDPR art. 15): every record naming a person, for the admins and the dataskyddsombud of a subtree.
ANSWERS_SUBJECT_ACCESS = {Role.ADMIN, Role.DATA_PROTECTION_OFFICER}


def may_search_data_subject(actor: Actor) -> bool:
    return actor.has_scope("admin") and bool(actor.paths_for(ANSWERS_SUBJECT_ACCESS))


def subject_access_units(actor: Actor):
    """The units (a subquery of ids) whose records a registerutdrag by `actor` covers; None if none."""
    paths = actor.paths_for(ANSWERS_SUBJECT_ACCESS) if may_search_data_subject(actor) else []
    return subtree_ids(paths) if paths else None


# ---- notifications ----------------------------------------------------------------------------

def own_notifications(actor: Actor) -> ColumnElement[bool]:
    """The notifications a user reads in the app and marks read: their own only."""
    return notifications_of(actor.user_id)


def notifications_of(user_id) -> ColumnElement[bool]:
    """own_notifications for a user id, or for a bind parameter giving it (a statement built once)."""
    from kia.outbox.models import Channel, Notification

    return (Notification.user_id == user_id) & (Notification.channel == Channel.EMAIL)


def unread_notifications_of(user_id) -> Select:
    """How many of a user's own notifications are unread (a user id, or a bind parameter giving it)."""
    from kia.outbox.models import Notification

    return select(func.count()).select_from(Notification).where(notifications_of(user_id),
                                                                 Notification.read_at.is_(None))


def may_administer_notifications(actor: Actor) -> bool:
    return actor.has_scope("admin") and bool(actor.paths_for({Role.ADMIN}))


def notification_admin_visibility(actor: Actor) -> ColumnElement[bool]:
    """Deliveries an admin sees and re-sends: those about cases in their admin subtree; the city-wide admin
    sees all (webhook deliveries included)."""
    from sqlalchemy import true

    from kia.cases.models import Case
    from kia.outbox.models import Notification

    if not may_administer_notifications(actor):
        return false()
    if actor.is_config_admin():
        return true()
    in_subtree = select(Case.id).where(Case.org_unit_id.in_(subtree_ids(actor.paths_for({Role.ADMIN}))))
    return Notification.case_id.in_(in_subtree)


def may_manage_webhooks(actor: Actor) -> bool:
    """Webhooks send case events out of KIA, possibly for every unit: city-wide configuration."""
    return actor.is_config_admin()


def may_read_local_mailbox(actor: Actor) -> bool:
    """The local mail folder (no SMTP server configured) holds mail to everyone: the city-wide admin only."""
    return actor.is_config_admin()
