"""The nightly gallring run, once a night however many schedulers run (a unique row per night claims it), its
log (counts per type, never content), and what the next run would erase."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kia.access import Actor
from kia.db import bulk_insert, utcnow
from kia.incidents.models import Incident
from kia.retention.gallring import GallringResult, active_rules, cutoffs, expired_clause, run_gallring
from kia.retention.models import RetentionAction, RetentionRun
from kia.retention.rules import MAY_REVIEW

log = logging.getLogger(__name__)
SAMPLE = 10   # registration numbers shown per type in the preview
# A batch of BATCH events takes seconds; a run with no batch for this long has died.
STALE = timedelta(minutes=15)


def claim_night(session: Session, night, now: datetime) -> int | None:
    """The id of this night's run row for this scheduler to run: a new row, or the row of a run that went silent
    (taken over); None when another scheduler has the night, running or done."""
    added = bulk_insert(session, RetentionRun.__table__, [
        {"night": night, "started_at": now, "finished_at": None, "counts": {}, "status": "running",
         "heartbeat_at": now, "taken_over_at": None}], skip_existing=("night",))
    session.commit()
    if added:
        return session.scalar(select(RetentionRun.id).where(RetentionRun.night == night))
    # One UPDATE decides between schedulers that find the same dead run: the row's lock lets one through, and
    # the others read the heartbeat it has just set.
    taken = session.execute(
        update(RetentionRun)
        .where(RetentionRun.night == night, RetentionRun.status == "running",
               or_(RetentionRun.heartbeat_at.is_(None), RetentionRun.heartbeat_at < now - STALE))
        .values(heartbeat_at=now, taken_over_at=now)
        .returning(RetentionRun.id)).scalar_one_or_none()
    session.commit()
    if taken is not None:
        log.warning("gallring: the night's run fell silent (no batch in %s); this scheduler takes it over", STALE)
    return taken


def nightly_gallring(session_factory: sessionmaker[Session], tz: ZoneInfo, attachments_root: Path | None,
                     now: datetime | None = None) -> GallringResult | None:
    """Run gallring for tonight unless it has run (or is running) already; None then. The run row says how it
    ended; a run that failed midway is not repeated the same night (what it erased stays erased, the rest
    follows the next night). A run whose scheduler died midway is taken over once it has been silent for STALE:
    the expired records it had not reached are erased the same night, and the row counts what the run that
    finished erased."""
    now = now or utcnow()
    with session_factory() as session:
        run_id = claim_night(session, now.astimezone(tz).date(), now)
    if run_id is None:
        return None
    started = utcnow()

    def heartbeat(result: GallringResult) -> None:
        # The run's own clock: `now` advanced by the time it has taken, so a run at a given time sees its like.
        with session_factory() as session:
            session.execute(update(RetentionRun).where(RetentionRun.id == run_id).values(
                heartbeat_at=now + (utcnow() - started), counts=result.counts))
            session.commit()

    status = "failed"
    result = GallringResult()
    try:
        result = run_gallring(session_factory, now, attachments_root, after_batch=heartbeat)
        status = "finished"
    finally:
        with session_factory() as session:
            session.execute(update(RetentionRun).where(RetentionRun.id == run_id).values(
                finished_at=utcnow(), counts=result.counts, status=status))
            session.commit()
    return result


@dataclass
class PreviewRow:
    type: str
    name_sv: str
    name_en: str
    action: RetentionAction
    months: int
    count: int
    earliest: list[str]   # registration numbers, earliest events first


def preview(session: Session, actor: Actor, now: datetime | None = None, sample: int = SAMPLE) -> list[PreviewRow]:
    """What a run now would erase: per type with a rule, how many events and the first registration numbers."""
    actor.require_config_admin(MAY_REVIEW)
    now = now or utcnow()
    rows = []
    rules = active_rules(session)
    cutoff_by_type = cutoffs(rules, now)
    for rule in rules:
        clause = expired_clause(rule.incident_type_id, cutoff_by_type)
        count = session.scalar(select(func.count()).select_from(Incident).where(clause))
        if not count:
            continue
        earliest = list(session.scalars(select(Incident.number).where(clause)
                                        .order_by(Incident.occurred_at, Incident.id).limit(sample)))
        t = rule.incident_type
        rows.append(PreviewRow(t.code, t.name_sv, t.name_en, rule.action, rule.months, count, earliest))
    return rows


def list_runs(session: Session, actor: Actor, limit: int = 30) -> list[RetentionRun]:
    actor.require_config_admin(MAY_REVIEW)
    return list(session.scalars(select(RetentionRun).order_by(RetentionRun.night.desc()).limit(limit)))
