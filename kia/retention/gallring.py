"""Gallring: the records whose retention time has run out lose their personal data (anonymise) or go (destroy),
in batches of a bounded size, each batch its own transaction.

An event is expired when it has cases, all of them are closed or rejected, each ended longer ago than its own type's
rule keeps it (the event's rule says whether it is anonymised or destroyed), and none of them is held
(kia.retention.holds). Anonymising erases names, classes, personal numbers, free texts (description, place, the
case's texts, actions, milestones' references, the timeline's notes and old → new of texts), field values that are
free text or sensitive, comments, attachments (their files too, once no other attachment has the same bytes), the
messages with the reporter and the follow-up code, and who reported it. The registration number, type, unit, times,
the persons' roles, categories and genders, the cases' states and milestones stay: the tertial statistics of past
periods give the same figures. Destroying deletes the event with all its cases: those statistics then count it no
longer.

On PostgreSQL a batch's events are locked (SKIP LOCKED: two runs never take the same ones), and their eligibility
is read again under the lock, so a hold placed meanwhile (which locks its event first) is seen."""
from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, literal, null, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kia.cases.models import (
    OPEN_STATES, Attachment, Case, CaseAction, Comment, Milestone, TimelineEntry,
)
from kia.cases.attachments import AttachmentStore
from kia.cases.timeline import AS_REPORTER
from kia.db import UTCDateTime, bulk_update, is_postgresql, utcnow
from kia.feedback.models import FollowUpCode, ReporterMessage
from kia.incidents.models import FieldKind, IdempotencyKey, Incident, IncidentPerson, IncidentTypeField
from kia.retention.models import LegalHold, RetentionAction, RetentionRule

BATCH = 500   # events per transaction: what a run holds in memory at a time
# Timeline entries whose old → new say what happened, not what anyone wrote: states, who was assigned or told, links.
STRUCTURAL_KINDS = ("case_created", "state_changed", "assigned", "assigned_to_substitute", "delegated", "informed",
                    "linked", "unlinked", "created_from", "related_case_added", "legal_hold_placed",
                    "legal_hold_lifted")
STRUCTURAL_FIELDS = ("serious", "serious_checklist")
STRUCTURAL_ACTION_FIELDS = (".status", ".due_date", ".responsible")
# Field values that stay: a choice or a number is a category, as the statistics read them; text is free text.
KEPT_KINDS = (FieldKind.NUMBER, FieldKind.BOOLEAN, FieldKind.DATE, FieldKind.DATETIME, FieldKind.CHOICE,
              FieldKind.MULTICHOICE)


@dataclass
class GallringResult:
    # per type code: {"anonymised": n, "destroyed": n, "files": n}
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, code: str, what: str, n: int) -> None:
        self.counts.setdefault(code, {"anonymised": 0, "destroyed": 0, "files": 0})[what] += n

    @property
    def records(self) -> int:
        return sum(c["anonymised"] + c["destroyed"] for c in self.counts.values())


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier (the 31st becomes the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def cutoffs(rules: Iterable[RetentionRule], now: datetime) -> dict[int, datetime]:
    """Per type id of these rules: a case of it that ended before this time has had its time."""
    return {rule.incident_type_id: months_before(now, rule.months) for rule in rules}


def expired_clause(type_id: int, cutoff_by_type: dict[int, datetime]):
    """The WHERE clause of a type's events whose time has run out, unheld and not yet anonymised. Each case counts
    by its own type's rule (a related case may be of another type, kept longer); a case of a type without a rule
    keeps its event."""
    of_incident = Case.incident_id == Incident.id
    cutoff = case({t: literal(c, UTCDateTime()) for t, c in cutoff_by_type.items()}, value=Case.incident_type_id,
                  else_=null())
    return and_(
        Incident.incident_type_id == type_id,
        Incident.anonymised_at.is_(None),
        exists().where(of_incident),
        ~exists().where(of_incident, or_(Case.state.in_(OPEN_STATES), cutoff.is_(None),
                                         func.coalesce(Case.closed_at, Case.updated_at) > cutoff)),
        ~exists().where(of_incident, LegalHold.case_id == Case.id),
    )


def active_rules(session: Session) -> list[RetentionRule]:
    return list(session.scalars(select(RetentionRule).where(RetentionRule.months.is_not(None))
                                .order_by(RetentionRule.incident_type_id)))


def _kept_keys(session: Session) -> dict[int, set[str]]:
    """Per type id, the keys of the fields whose values stay (neither free text nor sensitive)."""
    kept: dict[int, set[str]] = {}
    for type_id, key, kind, sensitive in session.execute(select(
            IncidentTypeField.incident_type_id, IncidentTypeField.key, IncidentTypeField.kind,
            IncidentTypeField.sensitive)):
        if kind in KEPT_KINDS and not sensitive:
            kept.setdefault(type_id, set()).add(key)
    return kept


def _kept_values(rows: Iterable[Any], kept: dict[int, set[str]]) -> list[dict[str, Any]]:
    out = []
    for row_id, type_id, values in rows:
        keep = kept.get(type_id, set())
        remaining = {k: v for k, v in (values or {}).items() if k in keep}
        if remaining != (values or {}):
            out.append({"id": row_id, "field_values": remaining})
    return out


def _timeline_keeps():
    return or_(TimelineEntry.kind.in_(STRUCTURAL_KINDS),
               and_(TimelineEntry.kind == "field_changed", TimelineEntry.field.in_(STRUCTURAL_FIELDS)),
               and_(TimelineEntry.kind == "action_updated",
                    or_(*(TimelineEntry.field.endswith(suffix) for suffix in STRUCTURAL_ACTION_FIELDS))))


def _attachment_hashes(session: Session, case_ids: list[int]) -> set[str]:
    return set(session.scalars(select(Attachment.sha256).where(Attachment.case_id.in_(case_ids))))


def anonymise(session: Session, incident_ids: list[int], now: datetime) -> set[str]:
    """Erase the personal data of these events (in the session's transaction); returns the hashes of the files
    whose attachments went, for removing once committed."""
    case_ids = list(session.scalars(select(Case.id).where(Case.incident_id.in_(incident_ids))))
    kept = _kept_keys(session)
    hashes = _attachment_hashes(session, case_ids)
    execute = session.execute
    execute(update(IncidentPerson).where(IncidentPerson.incident_id.in_(incident_ids))
            .values(name=None, class_name=None, personal_number=None))
    bulk_update(session, Incident.__table__, _kept_values(session.execute(select(
        Incident.id, Incident.incident_type_id, Incident.field_values).where(Incident.id.in_(incident_ids))), kept))
    execute(update(Incident).where(Incident.id.in_(incident_ids))
            .values(description="", location="", reporter_id=None, anonymised_at=now))
    if case_ids:
        bulk_update(session, Case.__table__, _kept_values(session.execute(select(
            Case.id, Case.incident_type_id, Case.field_values).where(Case.id.in_(case_ids))), kept))
        execute(update(Case).where(Case.id.in_(case_ids)).values(
            investigation="", closing_summary="", decision="", open_actions_reason="", rejection_reason="",
            updated_at=Case.updated_at))   # not "changed now": nothing that counts changed
        execute(update(Milestone).where(Milestone.case_id.in_(case_ids)).values(reference=""))
        execute(update(CaseAction).where(CaseAction.case_id.in_(case_ids)).values(what="", follow_up_note=""))
        execute(delete(Comment).where(Comment.case_id.in_(case_ids)))
        execute(delete(Attachment).where(Attachment.case_id.in_(case_ids)))
        in_cases = TimelineEntry.case_id.in_(case_ids)
        # What the reporter did as reporter no longer names them.
        execute(update(TimelineEntry).where(in_cases, or_(TimelineEntry.kind == "case_created",
                                                          TimelineEntry.note == AS_REPORTER)).values(actor_id=None))
        execute(update(TimelineEntry).where(in_cases, TimelineEntry.note != "", TimelineEntry.note != AS_REPORTER)
                .values(note=""))
        execute(update(TimelineEntry).where(in_cases, ~_timeline_keeps()).values(old=null(), new=null()))
    for model in (ReporterMessage, FollowUpCode, IdempotencyKey):
        execute(delete(model).where(model.incident_id.in_(incident_ids)))
    return hashes


def destroy(session: Session, incident_ids: list[int]) -> set[str]:
    """Delete these events with their persons and cases (the foreign keys cascade); returns the files' hashes."""
    hashes = _attachment_hashes(session, list(session.scalars(select(Case.id).where(
        Case.incident_id.in_(incident_ids)))))
    session.execute(delete(Incident).where(Incident.id.in_(incident_ids)))
    return hashes


def remove_unreferenced_files(session: Session, attachments_root: Path | None, hashes: set[str]) -> int:
    """Remove the stored files no attachment refers to any longer (the store keeps one file per content)."""
    if attachments_root is None or not hashes:
        return 0
    still = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(hashes))))
    store, removed = AttachmentStore(attachments_root), 0
    for sha256 in hashes - still:
        path = store.path_for(sha256)
        if path.is_file():
            path.unlink()
            removed += 1
    return removed


def _claim_batch(session: Session, type_id: int, cutoff_by_type: dict[int, datetime], after_id: int,
                 batch: int) -> tuple[int | None, list[int]]:
    """The last id the batch reached (None: no more), and the events of it to erase."""
    statement = (select(Incident.id).where(expired_clause(type_id, cutoff_by_type), Incident.id > after_id)
                 .order_by(Incident.id).limit(batch))
    if not is_postgresql(session):   # SQLite: BEGIN IMMEDIATE, one writer at a time
        ids = list(session.scalars(statement))
        return (ids[-1] if ids else None), ids
    locked = list(session.scalars(statement.with_for_update(of=Incident, skip_locked=True)))
    if not locked:
        return None, []
    # Read again under the locks: a hold committed while this statement waited is seen now.
    return locked[-1], list(session.scalars(select(Incident.id).where(
        Incident.id.in_(locked), expired_clause(type_id, cutoff_by_type)).order_by(Incident.id)))


def run_gallring(session_factory: sessionmaker[Session], now: datetime | None = None,
                 attachments_root: Path | None = None, batch: int = BATCH,
                 after_batch: Callable[[GallringResult], None] | None = None) -> GallringResult:
    """Erase (or destroy) every expired event, rule by rule and batch by batch; returns counts per type.
    `after_batch` is called with the counts so far after each batch is committed (the run's heartbeat)."""
    now = now or utcnow()
    result = GallringResult()
    with session_factory() as session:
        active = active_rules(session)
        rules = [(r.incident_type_id, r.incident_type.code, r.action) for r in active]
        cutoff_by_type = cutoffs(active, now)
    for type_id, code, action in rules:
        after_id = 0
        while True:
            with session_factory() as session:
                last, ids = _claim_batch(session, type_id, cutoff_by_type, after_id, batch)
                if last is None:
                    break
                after_id = last
                if not ids:
                    continue
                if action == RetentionAction.DESTROY:
                    hashes = destroy(session, ids)
                    result.add(code, "destroyed", len(ids))
                else:
                    hashes = anonymise(session, ids, now)
                    result.add(code, "anonymised", len(ids))
                session.commit()
                result.add(code, "files", remove_unreferenced_files(session, attachments_root, hashes))
                session.commit()
            if after_batch is not None:
                after_batch(result)
    return result
