"""The built-in alarm types every installation starts with (DOMAIN.md, "Alarms"), with their checklists and the
event type each becomes; added when missing, never overwriting what an admin changed."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.alarms.models import AlarmChecklistItem, AlarmType
from kia.incidents.models import IncidentType

PDV_INSTRUCTION_SV = (
    "Fly – Sök skydd – Larma.\n"
    "Fly om du kan, annars sök skydd: lås och barrikadera, släck, tysta telefonen, håll dig undan dörrar och fönster.\n"
    "Ring 112 när du är i säkerhet och säg: var du är, vad som händer, hur många gärningspersoner, vapen, "
    "hur de ser ut och var de sågs senast.")
PDV_INSTRUCTION_EN = (
    "Run – Hide – Tell.\n"
    "Run if you can, otherwise hide: lock and barricade, lights off, silence your phone, keep away from doors and "
    "windows.\nCall 112 when you are safe and say: where you are, what is happening, how many attackers, weapons, "
    "what they look like and where they were last seen.")

# Field values the filed event starts with; the handler completes the rest in the case.
THREAT_FIELDS = {"threat_kind": "physical_violence", "weapon": "other", "police_report_made": "unknown"}

_BUILTIN = [
    dict(code="brand", name_sv="Brand", name_en="Fire", event_type="fire",
         event_fields={"fire_kind": "fire", "evacuated": True},
         instruction_sv="Utrym byggnaden enligt utrymningsplanen. Stäng dörrar efter dig. Gå till återsamlingsplatsen "
                        "och svara på uppropet.",
         instruction_en="Evacuate the building by the evacuation plan. Close doors behind you. Go to the assembly "
                        "point and answer the roll call.",
         checklist=[("Räddningstjänsten är larmad (112)", "The fire service is alerted (112)"),
                    ("Alla elever och all personal är räknade vid återsamlingsplatsen",
                     "Every pupil and staff member is counted at the assembly point"),
                    ("Fastighetsägaren är underrättad", "The property owner is notified"),
                    ("Avlastningssamtal är erbjudet", "Debriefing is offered")]),
    dict(code="hot", name_sv="Hot", name_en="Threat", event_type="threat_violence", event_fields=THREAT_FIELDS,
         instruction_sv="Ett hot pågår. Följ skolans krisplan, håll elever borta från platsen och invänta besked.",
         instruction_en="A threat is ongoing. Follow the school's crisis plan, keep pupils away from the place and "
                        "wait for instructions.",
         checklist=[("Polisen är larmad (112) vid behov", "The police are alerted (112) where needed"),
                    ("Avlastningssamtal är erbjudet", "Debriefing is offered")]),
    dict(code="inrymning", name_sv="Inrymning", name_en="Lockdown", event_type="threat_violence",
         event_fields=THREAT_FIELDS, may_be_silent=True,
         instruction_sv="Inrymning: ta in alla i närmaste rum, lås dörren, håll er borta från fönster och dörrar "
                        "och vänta tills larmet avslutas.",
         instruction_en="Lockdown: bring everyone into the nearest room, lock the door, keep away from windows and "
                        "doors and wait until the alarm is ended.",
         checklist=[("Alla dörrar är låsta", "Every door is locked"),
                    ("Avlastningssamtal är erbjudet", "Debriefing is offered")]),
    dict(code="utrymning", name_sv="Utrymning", name_en="Evacuation", event_type="near_miss",
         event_fields={"possible_consequence": "Utrymning av verksamheten (larm i KIA)."},
         instruction_sv="Utrym byggnaden lugnt enligt utrymningsplanen och gå till återsamlingsplatsen.",
         instruction_en="Evacuate the building calmly by the evacuation plan and go to the assembly point.",
         checklist=[("Alla är räknade vid återsamlingsplatsen", "Everyone is counted at the assembly point")]),
    dict(code="pdv", name_sv="PDV – pågående dödligt våld", name_en="Ongoing lethal violence",
         event_type="threat_violence", event_fields=THREAT_FIELDS, may_be_silent=True, needs_confirm=True,
         instruction_sv=PDV_INSTRUCTION_SV, instruction_en=PDV_INSTRUCTION_EN,
         checklist=[("Polisen är larmad (112)", "The police are alerted (112)"),
                    ("Anmälan till Arbetsmiljöverket är gjord", "Reported to Arbetsmiljöverket"),
                    ("Krisstöd är erbjudet", "Crisis support is offered")]),
]

BUILTIN_ALARM_CODES = tuple(t["code"] for t in _BUILTIN)
DEFAULT_DRILL_TYPE = "brand"


def ensure_builtin_alarm_types(session: Session) -> int:
    """Add the built-in alarm types that are missing (after the event types they become); returns how many."""
    existing = set(session.scalars(select(AlarmType.code)))
    event_types = {t.code: t for t in session.scalars(select(IncidentType))}
    added = 0
    for position, spec in enumerate(_BUILTIN):
        if spec["code"] in existing or spec["event_type"] not in event_types:
            continue
        spec = dict(spec)
        checklist = [AlarmChecklistItem(position=i, text_sv=sv, text_en=en)
                     for i, (sv, en) in enumerate(spec.pop("checklist"))]
        session.add(AlarmType(builtin=True, position=position, checklist=checklist,
                              event_type=event_types[spec.pop("event_type")], **spec))
        added += 1
    session.commit()
    return added
