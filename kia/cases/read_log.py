"""The read log: who opened which case (or incident), when and how, written with the read, and its review by the
auditors. Only inserted, never changed: there is no update or delete here, and the database refuses them (the
read_log migration's trigger). Thinning the log out (gallring of the log itself) is not done."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kia.access import Actor, access_log_visibility, may_review_access_log
from kia.cases.models import AccessLogEntry, Case
from kia.errors import N_, Forbidden, Msg
from kia.orgs.models import User

# How a case was opened: its page or the API (read), its timeline, its comments through the API, an attachment, a revealed personal number, the
# messages with an anonymous reporter; an incident through the API; a registerutdrag search.
ACTIONS = ("read", "read_timeline", "read_comments", "download", "reveal_personal_number", "read_messages", "read_incident",
           "subject_access_search")


def log_case_read(session: Session, actor: Actor, case: Case, action: str = "read", detail: str = "") -> None:
    """One row for this read, committed at once: the log holds even if the rest of the request fails."""
    session.add(case_read(actor, case, action, detail))
    session.commit()


def case_read(actor: Actor, case: Case, action: str, detail: str = "") -> AccessLogEntry:
    return AccessLogEntry(case_id=case.id, incident_id=case.incident_id, org_unit_id=case.org_unit_id,
                          user_id=actor.user_id, action=action, detail=detail)


def log_incident_read(session: Session, actor: Actor, incident) -> None:
    session.add(AccessLogEntry(incident_id=incident.id, org_unit_id=incident.org_unit_id, user_id=actor.user_id,
                               action="read_incident"))
    session.commit()


def subject_hash(secret: str, personal_number: str) -> str:
    """A keyed hash of a (normalised) personal number: the log can say that two searches were for the same person,
    and an auditor holding the number can find its searches, but the log itself never holds it."""
    return hmac.new(secret.encode(), personal_number.encode(), hashlib.sha256).hexdigest()


# ---- the review -----------------------------------------------------------------------------------

@dataclass
class AccessLogFilter:
    case_id: int | None = None    # this case's reads, and the API reads of its incident
    user_id: int | None = None
    cursor: int | None = None     # the id of the last entry of the previous page
    limit: int = 100


@dataclass
class AccessLogRow:
    entry: AccessLogEntry
    case_number: str | None       # None: no case (an incident or a search), or one destroyed since
    user_name: str


def list_access_log(session: Session, actor: Actor,
                    query: AccessLogFilter) -> tuple[list[AccessLogRow], int | None]:
    """The reads logged in the auditor's subtree, newest first."""
    if not may_review_access_log(actor):
        raise Forbidden(Msg(N_("Only auditors and administrators may review the read log.")))
    conditions = [access_log_visibility(actor)]
    if query.case_id is not None:
        of_incident = select(Case.incident_id).where(Case.id == query.case_id).scalar_subquery()
        conditions.append(or_(AccessLogEntry.case_id == query.case_id,
                              and_(AccessLogEntry.case_id.is_(None), AccessLogEntry.incident_id == of_incident)))
    if query.user_id is not None:
        conditions.append(AccessLogEntry.user_id == query.user_id)
    if query.cursor is not None:
        conditions.append(AccessLogEntry.id < query.cursor)
    rows = session.execute(
        select(AccessLogEntry, Case.number, User.name)
        .outerjoin(Case, Case.id == AccessLogEntry.case_id).join(User, User.id == AccessLogEntry.user_id)
        .where(*conditions).order_by(AccessLogEntry.id.desc()).limit(query.limit + 1)
    ).all()
    page = [AccessLogRow(*row) for row in rows[: query.limit]]
    return page, page[-1].entry.id if len(rows) > query.limit else None
