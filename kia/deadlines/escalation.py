"""The escalation ladder: a reminder to the handler before the due time, at the due time the handler and
the handler's manager, later the administration's safety officers (the huvudman for confidential cases).
Each step is taken once per obligation: a unique row claims it, and on PostgreSQL the sweep skips rows
another scheduler has locked."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from kia.cases.models import Case, TimelineEntry
from kia.db import bulk_insert, bulk_update
from kia.deadlines.models import Escalation, EscalationStep, Obligation, ObligationStatus
from kia.orgs.models import OrgUnit, Role, User
from kia.outbox.models import NotificationKind
from kia.outbox.services import Audience, case_payload, insert_rows, notification_rows
from kia.routing.services import nearest_holders_for_units

LADDER = [EscalationStep.REMINDER, EscalationStep.DUE, EscalationStep.ESCALATED]
REMINDER_AT_LEAST_BEFORE = timedelta(hours=2)
ACTION_ESCALATE_AFTER = timedelta(hours=24)
BATCH = 1000   # obligations per transaction: what a sweep holds in memory at a time
SWEPT_CASE_COLUMNS = (Case.id, Case.number, Case.incident_id, Case.incident_type_id, Case.org_unit_id, Case.state,
                      Case.assignee_id)
STEP_NOTICE = {EscalationStep.REMINDER: NotificationKind.REMINDER, EscalationStep.DUE: NotificationKind.OVERDUE,
               EscalationStep.ESCALATED: NotificationKind.ESCALATED}


def escalate_after(obligation: Obligation) -> timedelta:
    return timedelta(hours=obligation.rule.escalate_after_hours) if obligation.rule else ACTION_ESCALATE_AFTER


def step_time(obligation: Obligation, step: EscalationStep) -> datetime:
    if step == EscalationStep.REMINDER:
        # Halfway to the due time, but at least two hours before it.
        halfway = obligation.starts_at + (obligation.due_at - obligation.starts_at) / 2
        return min(halfway, obligation.due_at - REMINDER_AT_LEAST_BEFORE)
    if step == EscalationStep.DUE:
        return obligation.due_at
    return obligation.due_at + escalate_after(obligation)


def schedule(obligation: Obligation) -> None:
    """Set next_step_at from the obligation's state; a new obligation starts at the reminder."""
    if obligation.id is None and obligation.next_step is None:
        obligation.next_step = EscalationStep.REMINDER
    if obligation.status != ObligationStatus.OPEN or obligation.next_step is None:
        obligation.next_step_at = None
    else:
        obligation.next_step_at = step_time(obligation, obligation.next_step)


@dataclass
class SweepResult:
    steps: dict[str, int] = field(default_factory=lambda: {str(s): 0 for s in LADDER})
    notifications: int = 0
    obligations: int = 0

    def add(self, other: "SweepResult") -> None:
        for step, count in other.steps.items():
            self.steps[step] += count
        self.notifications += other.notifications
        self.obligations += other.obligations


class _Recipients:
    """Who hears of each step. The nearest holders of the roles are loaded for a whole batch of units in
    one query and kept for the sweep (there are few units and roles, and many obligations)."""

    ROLES = (Role.HANDLER, Role.SAFETY_OFFICER, Role.PRINCIPAL_ORG)

    def __init__(self, session: Session):
        self.session = session
        self.nearest_by_unit: dict[int, dict[Role, list[int]]] = {}
        self.active: dict[int, bool] = {}   # of the handlers and action owners named on the cases

    def prime(self, obligations: list[Obligation]) -> None:
        """Load, for a batch at once, the nearest holders for the cases' units and their parents, and whether
        the people named on the cases (händelseansvarig, an action's responsible) are still active users."""
        units = [u for o in obligations for u in (o.case.org_unit, o.case.org_unit.parent)]
        missing = list({u.id: u for u in units if u is not None and u.id not in self.nearest_by_unit}.values())
        if missing:
            self.nearest_by_unit.update(nearest_holders_for_units(self.session, missing, set(self.ROLES)))
        named = {o.case.assignee_id for o in obligations} | {o.action.responsible_id for o in obligations if o.action}
        unknown = {uid for uid in named if uid is not None and uid not in self.active}
        if unknown:
            active = set(self.session.scalars(select(User.id).where(User.id.in_(unknown), User.active.is_(True))))
            self.active.update({uid: uid in active for uid in unknown})

    def acting(self, user_id: int | None) -> list[int]:
        """The named user if they can still act on the case; someone who has left hears nothing (the steps
        then go to the unit's handlers instead, so nobody misses the deadline for want of a recipient)."""
        return [user_id] if user_id is not None and self.active.get(user_id) else []

    def nearest(self, unit: OrgUnit | None, role: Role) -> list[int]:
        if unit is None:
            return []
        if unit.id not in self.nearest_by_unit:
            self.nearest_by_unit.update(nearest_holders_for_units(self.session, [unit], set(self.ROLES)))
        return self.nearest_by_unit[unit.id].get(role, [])

    def handler(self, case: Case) -> list[int]:
        return self.acting(case.assignee_id) or self.nearest(case.org_unit, Role.HANDLER)

    def for_step(self, obligation: Obligation, step: EscalationStep) -> list[int]:
        case = obligation.case
        first = self.acting(obligation.action.responsible_id) if obligation.action else []
        if step == EscalationStep.REMINDER:
            return first + (self.handler(case) if not first else [])
        if step == EscalationStep.DUE:
            return first + self.handler(case) + self.nearest(case.org_unit.parent, Role.HANDLER)
        # Safety officers may not read confidential cases; for those the huvudman follows up.
        role = Role.PRINCIPAL_ORG if case.incident_type.confidential else Role.SAFETY_OFFICER
        return self.nearest(case.org_unit, role)


def _claim(session: Session, pairs: list[tuple[int, EscalationStep]], now: datetime) -> set[tuple[int, str]]:
    """Claim ladder steps by inserting their unique rows; returns the pairs this transaction won (those not
    taken before, e.g. by a ladder restarted when a due time moved back). The batch's obligations are locked
    (PostgreSQL) or this transaction is the only writer (SQLite), so no other sweep claims them meanwhile;
    should one ever, the unique rows refuse it and the whole batch rolls back."""
    if not pairs:
        return set()
    taken = {(o, str(s)) for o, s in session.execute(select(Escalation.obligation_id, Escalation.step).where(
        Escalation.obligation_id.in_({o for o, _ in pairs})))}
    won = [(o, s) for o, s in pairs if (o, str(s)) not in taken]
    bulk_insert(session, Escalation.__table__, [{"obligation_id": o, "step": s, "at": now} for o, s in won])
    return {(o, str(s)) for o, s in won}


def _obligation_label(obligation: Obligation) -> dict[str, str]:
    if obligation.rule:
        return {"sv": obligation.rule.name_sv, "en": obligation.rule.name_en}
    return {"sv": "Åtgärd", "en": "Action"}


def _due_steps(obligation: Obligation, now: datetime) -> list[EscalationStep]:
    """Advance the obligation past every step due by `now`; returns the steps to take (in order)."""
    steps = []
    while obligation.next_step is not None and obligation.next_step_at is not None and obligation.next_step_at <= now:
        step = obligation.next_step
        # A reminder after the due time helps nobody: go straight to the due step.
        if not (step == EscalationStep.REMINDER and now >= obligation.due_at):
            steps.append(step)
        following = LADDER.index(step) + 1
        obligation.next_step = LADDER[following] if following < len(LADDER) else None
        schedule(obligation)
    return steps


def _advance(session: Session, obligations: list[Obligation], now: datetime) -> list[tuple[Obligation, EscalationStep]]:
    """Move each obligation past the steps due by `now`, in one bulk update rather than the unit of work's
    bookkeeping per object; returns the steps to take."""
    planned = [(o, step) for o in obligations for step in _due_steps(o, now)]
    bulk_update(session, Obligation.__table__, [
        {"id": o.id, "next_step": o.next_step, "next_step_at": o.next_step_at, "updated_at": now}
        for o in obligations])
    for obligation in obligations:   # written already: out of the session, so no flush weighs them again
        session.expunge(obligation)
    return planned


def _take_batch(session: Session, obligations: list[Obligation], now: datetime, recipients: _Recipients,
                result: SweepResult) -> None:
    planned = _advance(session, obligations, now)
    won = _claim(session, [(o.id, step) for o, step in planned], now)
    taken = [(o, step) for o, step in planned if (o.id, str(step)) in won]
    recipients.prime([o for o, _ in taken])
    who = {(o.id, step): recipients.for_step(o, step) for o, step in taken}
    audience = Audience.load(session, {uid for ids in who.values() for uid in ids})
    timeline, rows = [], []
    for obligation, step in taken:
        case, label = obligation.case, _obligation_label(obligation)
        # Named by the obligation, as actions are ("actions[12]"): the case page shows its name in the reader's language.
        timeline.append({"case_id": case.id, "at": now, "actor_id": None, "kind": "escalation",
                         "field": f"obligations[{obligation.id}]", "old": None, "new": str(step), "note": ""})
        payload = case_payload(case, obligation=label, due_at=obligation.due_at.isoformat(), step=str(step))
        rows += notification_rows(audience, STEP_NOTICE[step], f"escalation:{obligation.id}:{step}", case,
                                  who[(obligation.id, step)], payload, now)
        result.steps[str(step)] += 1
    bulk_insert(session, TimelineEntry.__table__, timeline)
    result.notifications += insert_rows(session, rows)


def sweep(session: Session, now: datetime, batch: int = BATCH) -> SweepResult:
    """Take every ladder step that has come due by `now`, a batch per transaction."""
    result = SweepResult()
    recipients = _Recipients(session)
    while True:
        query = (select(Obligation)
                 .where(Obligation.status == ObligationStatus.OPEN, Obligation.next_step_at <= now)
                 .order_by(Obligation.next_step_at).limit(batch)
                 # Of the case, what the recipients and case_payload read: not its texts and JSON.
                 .options(joinedload(Obligation.case).load_only(*SWEPT_CASE_COLUMNS)
                          .joinedload(Case.org_unit).joinedload(OrgUnit.parent),
                          joinedload(Obligation.rule),
                          joinedload(Obligation.action)))
        if session.get_bind().dialect.name == "postgresql":
            # Another scheduler's rows are skipped, not waited for; the claim rows keep steps single.
            query = query.with_for_update(skip_locked=True, of=Obligation)
        obligations = session.scalars(query).unique().all()
        if not obligations:
            session.commit()
            return result
        _take_batch(session, obligations, now, recipients, result)
        result.obligations += len(obligations)
        session.commit()
        session.expunge_all()


def sweep_side_by_side(session_factory: sessionmaker[Session], now: datetime, workers: int,
                       batch: int = BATCH) -> SweepResult:
    """Sweep with `workers` sweeps at once, each in its own session. On PostgreSQL SKIP LOCKED gives each
    batch to one of them, and one's Python work overlaps another's wait on the database; SQLite lets one
    writer in at a time, so there it is one sweep."""
    def one_sweep(_) -> SweepResult:
        with session_factory() as session:
            return sweep(session, now, batch)

    with session_factory() as probe:
        if probe.get_bind().dialect.name != "postgresql":
            workers = 1
    if workers == 1:
        return one_sweep(0)
    total = SweepResult()
    with ThreadPoolExecutor(workers, thread_name_prefix="sweep") as pool:
        for result in pool.map(one_sweep, range(workers)):
            total.add(result)
    return total
