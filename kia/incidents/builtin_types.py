"""The built-in event types of DOMAIN.md, shipped as data. `ensure_builtin_types` adds the missing
ones and never overwrites what an admin has changed since."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kia.incidents.models import Category, FieldKind, IncidentType, IncidentTypeField


def _choices(*triples: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"value": v, "sv": sv, "en": en} for v, sv, en in triples]


def _field(key, kind, sv, en, required=False, sensitive=False, choices=None) -> dict:
    return dict(key=key, kind=FieldKind(kind), label_sv=sv, label_en=en, required=required,
                sensitive=sensitive, choices=choices or [])


YES_NO_UNKNOWN = _choices(("yes", "Ja", "Yes"), ("no", "Nej", "No"), ("unknown", "Vet ej", "Unknown"))
INJURY_KINDS = _choices(
    ("cut", "Skärsår", "Cut"), ("bruise", "Blåmärke/kontusion", "Bruise"),
    ("fracture", "Fraktur", "Fracture"), ("sprain", "Stukning/vrickning", "Sprain"),
    ("burn", "Brännskada", "Burn"), ("head_injury", "Huvudskada", "Head injury"),
    ("bite", "Bett", "Bite"), ("psychological", "Psykisk påfrestning/chock", "Psychological shock"),
    ("other", "Annat", "Other"),
)
BODY_PARTS = _choices(
    ("head", "Huvud", "Head"), ("face_eyes", "Ansikte/ögon", "Face/eyes"), ("neck", "Nacke/hals", "Neck"),
    ("back", "Rygg", "Back"), ("torso", "Bål", "Torso"), ("arm_hand", "Arm/hand", "Arm/hand"),
    ("leg_foot", "Ben/fot", "Leg/foot"), ("multiple", "Flera kroppsdelar", "Several body parts"),
    ("none", "Ingen fysisk skada", "No physical injury"),
)
SICK_LEAVE = _choices(("none", "Ingen", "None"), ("1_14_days", "1–14 dagar", "1–14 days"),
                      ("over_14_days", "Mer än 14 dagar", "More than 14 days"), ("unknown", "Vet ej", "Unknown"))
ACTIVITY = _choices(
    ("lesson", "Lektion", "Lesson"), ("break", "Rast", "Break"), ("pe", "Idrott och hälsa", "Physical education"),
    ("lunch", "Lunch", "Lunch"), ("excursion", "Utflykt/studiebesök", "Excursion"),
    ("after_school", "Fritidshem", "After-school care"), ("other", "Annat", "Other"),
)
THREAT_KINDS = _choices(
    ("verbal_threat", "Verbalt hot", "Verbal threat"), ("written_threat", "Skriftligt/digitalt hot", "Written or online threat"),
    ("physical_violence", "Fysiskt våld", "Physical violence"), ("death_threat", "Dödshot", "Death threat"),
    ("harassment", "Trakasserier", "Harassment"),
)
PERPETRATOR_KINDS = _choices(
    ("pupil", "Elev", "Pupil"), ("guardian", "Vårdnadshavare", "Guardian"), ("colleague", "Kollega", "Colleague"),
    ("visitor", "Besökare", "Visitor"), ("unknown", "Okänd", "Unknown"),
)
WEAPONS = _choices(("none", "Inget", "None"), ("knife", "Kniv/stickvapen", "Knife or blade"),
                   ("firearm", "Skjutvapen", "Firearm"), ("blunt", "Tillhygge", "Blunt object"),
                   ("other", "Annat", "Other"))
SUPPORT = _choices(("offered_accepted", "Erbjudet och mottaget", "Offered and accepted"),
                   ("offered_declined", "Erbjudet, avböjt", "Offered, declined"),
                   ("not_offered", "Inte erbjudet ännu", "Not offered yet"))
CLASSIFICATION = _choices(
    ("degrading_treatment", "Kränkande behandling", "Degrading treatment"),
    ("harassment", "Trakasserier", "Harassment"),
    ("sexual_harassment", "Sexuella trakasserier", "Sexual harassment"),
    ("discrimination", "Diskriminering", "Discrimination"),
)
DISCRIMINATION_GROUNDS = _choices(
    ("sex", "Kön", "Sex"),
    ("transgender_identity", "Könsöverskridande identitet eller uttryck", "Transgender identity or expression"),
    ("ethnicity", "Etnisk tillhörighet", "Ethnicity"),
    ("religion", "Religion eller annan trosuppfattning", "Religion or other belief"),
    ("disability", "Funktionsnedsättning", "Disability"),
    ("sexual_orientation", "Sexuell läggning", "Sexual orientation"),
    ("age", "Ålder", "Age"),
)
VICTIMISATION_FORMS = _choices(
    ("verbal", "Verbal", "Verbal"), ("physical", "Fysisk", "Physical"), ("written", "Skriftlig", "Written"),
    ("online", "Digital/nätet", "Online"), ("psychosocial", "Psykosocial (t.ex. utfrysning)", "Psychosocial (e.g. exclusion)"),
)
DATA_CATEGORIES = _choices(
    ("identity", "Identitetsuppgifter", "Identity data"), ("contact", "Kontaktuppgifter", "Contact details"),
    ("personal_number", "Personnummer", "Personal identity numbers"), ("health", "Hälsouppgifter", "Health data"),
    ("protected_identity", "Skyddad identitet", "Protected identity"), ("grades", "Betyg/bedömningar", "Grades and assessments"),
    ("social", "Sociala förhållanden", "Social circumstances"), ("other", "Annat", "Other"),
)
FIRE_KINDS = _choices(("fire", "Brand", "Fire"), ("arson", "Anlagd brand", "Arson"),
                      ("false_alarm", "Falsklarm", "False alarm"), ("smoke", "Rökutveckling", "Smoke"))
DAMAGE_KINDS = _choices(("vandalism", "Skadegörelse", "Vandalism"), ("break_in", "Inbrott", "Break-in"),
                        ("theft", "Stöld", "Theft"), ("graffiti", "Klotter", "Graffiti"))
INFLUENCE_KINDS = _choices(("threat", "Hot", "Threats"), ("bribe", "Mutförsök", "Bribery attempt"),
                           ("harassment", "Trakasserier", "Harassment"), ("infiltration", "Infiltration", "Infiltration"))

_BUILTIN: list[dict] = [
    dict(code="threat_violence", name_sv="Hot och våld mot anställd", name_en="Threat or violence against staff",
         help_sv="En anställd har blivit hotad eller utsatt för våld.", help_en="A staff member was threatened or attacked.",
         category=Category.WORK_ENVIRONMENT, fields=[
             _field("threat_kind", "choice", "Typ av hot/våld", "Kind of threat or violence", required=True, choices=THREAT_KINDS),
             _field("perpetrator_kind", "choice", "Vem utövade hotet/våldet", "Who made the threat or attack", choices=PERPETRATOR_KINDS),
             _field("weapon", "choice", "Vapen eller tillhygge", "Weapon", required=True, choices=WEAPONS),
             _field("police_report_made", "choice", "Polisanmälan gjord", "Police report made", required=True, choices=YES_NO_UNKNOWN),
             _field("police_report_number", "text", "K-nummer", "Police report number", sensitive=True),
             _field("support_offered", "choice", "Stöd (avlastningssamtal) erbjudet", "Support offered (debriefing)", choices=SUPPORT),
             _field("injured", "boolean", "Personskada", "Someone was injured"),
         ]),
    dict(code="accident", name_sv="Olycksfall (personskada)", name_en="Accident (injury)",
         help_sv="En anställd skadades i arbetet – ”aj”.", help_en="A staff member was injured at work.",
         category=Category.WORK_ENVIRONMENT, fields=[
             _field("injury_kind", "choice", "Typ av skada", "Kind of injury", required=True, choices=INJURY_KINDS),
             _field("body_part", "choice", "Skadad kroppsdel", "Injured body part", required=True, choices=BODY_PARTS),
             _field("sick_leave", "choice", "Sjukfrånvaro", "Sick leave", choices=SICK_LEAVE),
             _field("medical_care", "boolean", "Vård sökt", "Medical care sought"),
             _field("cause", "text", "Orsak", "Cause"),
         ]),
    dict(code="near_miss", name_sv="Tillbud", name_en="Near miss",
         help_sv="Något hände som kunde ha lett till skada – ”oj”.", help_en="Something happened that could have caused injury.",
         category=Category.WORK_ENVIRONMENT, fields=[
             _field("possible_consequence", "text", "Vad kunde ha hänt", "What could have happened", required=True),
             _field("cause", "text", "Orsak", "Cause"),
         ]),
    dict(code="serious_near_miss", name_sv="Allvarligt tillbud", name_en="Serious near miss",
         help_sv="Ett tillbud som kunde ha lett till allvarlig skada. Anmäls till Arbetsmiljöverket samma dag.",
         help_en="A near miss that could have caused serious injury; reported to the Work Environment Authority the same day.",
         category=Category.WORK_ENVIRONMENT, fields=[
             _field("possible_consequence", "text", "Vad kunde ha hänt", "What could have happened", required=True),
             _field("people_at_risk", "number", "Antal personer i fara", "Number of people at risk"),
             _field("cause", "text", "Orsak", "Cause"),
         ]),
    dict(code="risk_observation", name_sv="Riskobservation", name_en="Risk observation",
         help_sv="En risk i arbetsmiljön som bör åtgärdas.", help_en="A risk in the work environment that should be fixed.",
         # What a skyddsrond finds is mostly a fault in the building: a felanmälan to the property owner.
         category=Category.WORK_ENVIRONMENT, allows_anonymous=True, concerns_building=True, fields=[
             _field("risk", "text", "Risken", "The risk", required=True),
             _field("suggested_action", "text", "Förslag på åtgärd", "Suggested action"),
         ]),
    dict(code="commuting_accident", name_sv="Färdolycksfall", name_en="Commuting accident",
         help_sv="En anställd skadades på väg till eller från arbetet.", help_en="A staff member was injured travelling to or from work.",
         category=Category.WORK_ENVIRONMENT, fields=[
             _field("travel_mode", "choice", "Färdsätt", "Means of travel", required=True, choices=_choices(
                 ("walk", "Till fots", "On foot"), ("bicycle", "Cykel", "Bicycle"), ("car", "Bil", "Car"),
                 ("public_transport", "Kollektivtrafik", "Public transport"), ("other", "Annat", "Other"))),
             _field("injury_kind", "choice", "Typ av skada", "Kind of injury", required=True, choices=INJURY_KINDS),
             _field("sick_leave", "choice", "Sjukfrånvaro", "Sick leave", choices=SICK_LEAVE),
         ]),
    dict(code="occupational_illness", name_sv="Arbetssjukdom", name_en="Occupational illness",
         help_sv="Ohälsa som beror på arbetet, t.ex. belastning eller stress.", help_en="Ill health caused by work, e.g. strain or stress.",
         category=Category.WORK_ENVIRONMENT, fields=[
             _field("illness_kind", "choice", "Typ av ohälsa", "Kind of illness", required=True, choices=_choices(
                 ("musculoskeletal", "Belastning", "Musculoskeletal"), ("stress", "Stress/psykosocial", "Stress"),
                 ("hearing", "Hörsel", "Hearing"), ("skin_allergy", "Hud/allergi", "Skin or allergy"), ("other", "Annat", "Other"))),
             _field("since", "date", "Sedan", "Since"),
             _field("sick_leave", "choice", "Sjukfrånvaro", "Sick leave", choices=SICK_LEAVE),
         ]),
    dict(code="pupil_injury", name_sv="Elevolycksfall", name_en="Pupil injury",
         help_sv="En elev skadades i verksamheten. Vårdnadshavare ska informeras.", help_en="A pupil was injured at school; guardians are informed.",
         category=Category.PUPIL, fields=[
             _field("injury_kind", "choice", "Typ av skada", "Kind of injury", required=True, choices=INJURY_KINDS),
             _field("body_part", "choice", "Skadad kroppsdel", "Injured body part", required=True, choices=BODY_PARTS),
             _field("activity", "choice", "Aktivitet", "Activity", choices=ACTIVITY),
             _field("medical_care", "boolean", "Vård sökt", "Medical care sought"),
             _field("guardians_informed", "boolean", "Vårdnadshavare informerade", "Guardians informed"),
         ]),
    dict(code="victimisation", name_sv="Kränkande behandling", name_en="Degrading treatment",
         help_sv="En elev har upplevt sig kränkt. Ett ärende per utsatt elev; anmäls till rektor samma dag.",
         help_en="A pupil has felt degraded. One case per affected pupil; reported to the principal the same day.",
         category=Category.PUPIL, confidential=True, case_per_affected_pupil=True, allows_anonymous=True, fields=[
             _field("classification", "choice", "Bedömning", "Classification", required=True, choices=CLASSIFICATION),
             _field("discrimination_grounds", "multichoice", "Diskrimineringsgrund", "Discrimination grounds",
                    sensitive=True, choices=DISCRIMINATION_GROUNDS),
             _field("forms", "multichoice", "Form", "Form", choices=VICTIMISATION_FORMS),
             _field("by_staff", "boolean", "Utförd av personal", "Committed by staff"),
             _field("immediate_measures", "text", "Omedelbara åtgärder", "Immediate measures"),
         ]),
    dict(code="fire", name_sv="Brand", name_en="Fire",
         help_sv="Brand, anlagd brand, rökutveckling eller falsklarm.", help_en="Fire, arson, smoke or a false alarm.",
         category=Category.SAFETY, concerns_building=True, fields=[
             _field("fire_kind", "choice", "Typ", "Kind", required=True, choices=FIRE_KINDS),
             _field("evacuated", "boolean", "Utrymning genomförd", "Building evacuated"),
             _field("fire_service_called", "boolean", "Räddningstjänst larmad", "Fire service called"),
             _field("damage_estimate_sek", "number", "Uppskattad skada (kr)", "Estimated damage (SEK)"),
         ]),
    dict(code="property_damage", name_sv="Skadegörelse, inbrott, stöld", name_en="Vandalism, break-in, theft",
         help_sv="Skadegörelse, inbrott eller stöld; fastighetsägaren får en felanmälan.",
         help_en="Vandalism, break-in or theft; the property owner is notified.",
         category=Category.SAFETY, allows_anonymous=True, concerns_building=True, fields=[
             _field("damage_kind", "choice", "Typ", "Kind", required=True, choices=DAMAGE_KINDS),
             _field("police_report_made", "choice", "Polisanmälan gjord", "Police report made", choices=YES_NO_UNKNOWN),
             _field("property_owner_notified", "boolean", "Fastighetsägaren underrättad", "Property owner notified"),
             _field("damage_estimate_sek", "number", "Uppskattad skada (kr)", "Estimated damage (SEK)"),
         ]),
    dict(code="data_breach", name_sv="Personuppgiftsincident", name_en="Personal data breach",
         help_sv="Personuppgifter har kommit i orätta händer, ändrats eller förlorats. IMY inom 72 timmar.",
         help_en="Personal data disclosed, altered or lost; report to IMY within 72 hours.",
         category=Category.INFORMATION_SECURITY, fields=[
             _field("discovered_at", "datetime", "Upptäckt", "Discovered at", required=True),
             _field("data_categories", "multichoice", "Kategorier av personuppgifter", "Categories of personal data",
                    required=True, choices=DATA_CATEGORIES),
             _field("people_affected", "number", "Antal berörda personer", "Number of people affected", required=True),
             _field("breach_kind", "choice", "Typ av incident", "Kind of breach", required=True, choices=_choices(
                 ("confidentiality", "Obehörigt röjande", "Confidentiality"), ("integrity", "Otillåten ändring", "Integrity"),
                 ("availability", "Förlust/otillgänglighet", "Availability"))),
             _field("contained", "boolean", "Incidenten är stoppad", "The breach is contained"),
         ]),
    dict(code="undue_influence", name_sv="Otillåten påverkan", name_en="Undue influence",
         help_sv="Hot, trakasserier eller mutförsök för att påverka en anställds beslut.",
         help_en="Threats, harassment or bribes aimed at a staff member's decisions.",
         category=Category.SAFETY, allows_anonymous=True, fields=[
             _field("influence_kind", "choice", "Typ", "Kind", required=True, choices=INFLUENCE_KINDS),
             _field("decision_concerned", "text", "Beslut/ärende som berördes", "Decision concerned", sensitive=True),
             _field("police_report_made", "choice", "Polisanmälan gjord", "Police report made", choices=YES_NO_UNKNOWN),
         ]),
]

BUILTIN_CODES = tuple(t["code"] for t in _BUILTIN)


def ensure_builtin_types(session: Session) -> int:
    """Add the built-in types that are missing; returns how many were added."""
    existing = set(session.scalars(select(IncidentType.code)))
    added = 0
    for spec in _BUILTIN:
        if spec["code"] in existing:
            continue
        spec = dict(spec)
        fields = [IncidentTypeField(position=i, **f) for i, f in enumerate(spec.pop("fields"))]
        session.add(IncidentType(builtin=True, fields=fields, **spec))
        added += 1
    session.commit()
    return added
