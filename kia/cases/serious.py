"""The serious-event check (AML 3:3a): a positive answer marks the case serious, brings in the
administration's safety officers and makes reporting to Arbetsmiljöverket a condition for closing."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kia.access import Actor
from kia.cases.lookup import open_handled_case
from kia.cases.models import Case
from kia.cases.timeline import AS_REPORTER, change_field
from kia.db import utcnow
from kia.deadlines.services import sync_obligations
from kia.errors import N_, Conflict, FieldErrors, Msg
from kia.incidents.models import Category, Incident, IncidentType
from kia.routing.services import inform_on_serious

# Question → its sub-kinds. A question without sub-kinds is answered true/false; one with sub-kinds by
# the list of those that apply (an empty list is "no"). Arbetsmiljöverket's list of what must be reported.
CHECKLIST: dict[str, tuple[str, ...]] = {
    "death": (),
    "serious_injury": ("fracture", "heavy_bleeding", "burn", "psychological_shock"),
    "several_hurt": (),
    "serious_near_miss": (),
    "serious_threat": ("knife", "firearm", "serious_death_threat"),
}


def check_applies(incident_type: IncidentType) -> bool:
    """AML 3:3a covers staff and pupils (who count as employees for Arbetsmiljöverket). Decided by the
    type's data: every work-environment type, and the pupil types that are not confidential – that is
    pupil_injury and any such type an admin adds, while kränkande behandling (confidential) falls under
    Skollagen instead."""
    return incident_type.category == Category.WORK_ENVIRONMENT or (
        incident_type.category == Category.PUPIL and not incident_type.confidential)


def _answers(given: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """Every question answered, nothing else; sub-kinds in the checklist's order."""
    for key in given:
        if key not in CHECKLIST:
            errors.add(f"answers.{key}", N_("Not a question of the checklist."))
    answers: dict[str, Any] = {}
    for question, kinds in CHECKLIST.items():
        path, value = f"answers.{question}", given.get(question)
        if value is None:
            errors.add(path, N_("Answer every question of the checklist."))
        elif not kinds:
            if isinstance(value, bool):
                answers[question] = value
            else:
                errors.add(path, N_("Answer true or false."))
        elif isinstance(value, list) and all(isinstance(v, str) and v in kinds for v in value):
            answers[question] = [kind for kind in kinds if kind in value]
        else:
            errors.add(path, N_("A list of those that apply, from: %(kinds)s."), kinds=", ".join(kinds))
    return answers


def is_positive(answers: dict[str, Any]) -> bool:
    return any(bool(value) for value in answers.values())


def check_serious(session: Session, actor: Actor, case_id: int, answers: dict[str, Any], tz: ZoneInfo,
                  clear_reason: str = "", now: datetime | None = None) -> Case:
    """Store the checklist's answers (they can be corrected). A positive answer marks the case serious.
    The mark is not lifted by corrected answers alone: by then the safety officers have been brought in
    and Arbetsmiljöverket may be waiting for a report, so lifting it needs a reason, kept in the timeline."""
    case = open_handled_case(session, actor, case_id)
    if not check_applies(case.incident_type):
        raise Conflict(Msg(N_("The serious-event check (AML 3:3a) does not apply to this event type.")))
    errors = FieldErrors()
    checked = _answers(answers, errors)
    positive, clear_reason = is_positive(checked), clear_reason.strip()
    if case.serious and not positive and not errors and not clear_reason:
        errors.add("clear_reason", N_("The case is marked serious: give the reason the mark is lifted."))
    elif clear_reason and not (case.serious and not positive):
        errors.add("clear_reason", N_("Only given when every answer is no on a case marked serious."))
    errors.raise_if_any()

    now = now or utcnow()
    change_field(session, case, actor.user_id, "serious_checklist", checked)
    if positive and not case.serious:
        change_field(session, case, actor.user_id, "serious", True)
        inform_on_serious(session, case, now, actor_id=actor.user_id)   # writes its own timeline entries
    elif not positive and case.serious:
        change_field(session, case, actor.user_id, "serious", False, note=clear_reason)
    sync_obligations(session, case, tz, now)   # serious brings the report to Arbetsmiljöverket due
    session.commit()
    return case


def check_at_filing(session: Session, actor: Actor, incident_id: int, answers: dict[str, Any], tz: ZoneInfo,
                    now: datetime | None = None) -> list[Case]:
    """The reporter's answers on the report form, once, on the cases of the report they just filed. A
    reporter does not handle the case, yet AML 3:3a wants Arbetsmiljöverket told the same day, and the one
    who saw the knife knows: a positive answer marks the cases serious at once. The handler corrects it with
    check_serious (lifting the mark needs a reason), which is why a case already checked is left alone."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.reporter_id is None or incident.reporter_id != actor.user_id:
        raise Conflict(Msg(N_("Only the reporter answers the checklist when filing.")))
    errors = FieldErrors()
    checked = _answers(answers, errors)
    errors.raise_if_any()
    now = now or utcnow()
    cases = [c for c in incident.cases if check_applies(c.incident_type) and not c.serious_checklist]
    for case in cases:
        change_field(session, case, actor.user_id, "serious_checklist", checked, note=AS_REPORTER)
        if is_positive(checked) and not case.serious:
            change_field(session, case, actor.user_id, "serious", True, note=AS_REPORTER)
            inform_on_serious(session, case, now)   # the rules inform, on the reporter's answer
            sync_obligations(session, case, tz, now)
    session.commit()
    return cases
