"""The records the access matrix calls routes on: one caller of each role, and records inside and outside each
caller's subtree – a threat (work environment), a kränkning (confidential) and a fire (safety) in school S1, a threat
and a fire in förskola F1 of another administration – with what hangs off a case (an action, an attachment, a link,
a person), notifications, a substitute, the admin configuration, and the markers that must not leak."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from sqlalchemy import select, update

from kia.alarms.models import AlarmChecklistItem, AlarmType
from kia.cases.models import Case
from kia.deadlines.models import DeadlineRule
from kia.orgs.models import Membership
from kia.outbox.models import DeliveryStatus, Notification
from kia.routing.models import RoutingRule
from notifications.mailbox import mail_folder
from tests.factories import incident_body, victimisation_body

# Each caller's role and the unit it holds it on. "admin" holds it on an administration (it reviews that subtree's
# read log and deliveries), "city_admin" on the root (it configures the city); "anonymous" has no account. The
# auditor reviews the administration's read log, the data protection officer makes its registerutdrag.
CALLERS = {"reporter": "S1", "handler": "S1", "safety_rep": "S1", "safety_officer": "UTBF",
           "principal_org": "UTBF", "analyst": "UTBF", "admin": "UTBF", "auditor": "UTBF",
           "data_protection_officer": "UTBF", "city_admin": "STHLM"}
SIGNED_IN = frozenset(CALLERS)
ANYONE = SIGNED_IN | {"anonymous"}
NOBODY: frozenset[str] = frozenset()

# Who reads a case of each kind in S1 (DOMAIN.md): the handler chain reads all, the safety officer all but the
# confidential kränkning, the skyddsombud only work-environment cases. Nobody of them reads F1's.
READS_THREAT = frozenset({"handler", "safety_rep", "safety_officer", "principal_org"})
READS_VICTIMISATION = frozenset({"handler", "principal_org"})
READS_FIRE = frozenset({"handler", "safety_officer", "principal_org"})


@dataclass(frozen=True)
class Variant:
    """One record a route is called on: the path's arguments (and query), and which callers may see it."""
    name: str
    args: dict
    seen_by: frozenset[str]
    query: str = ""


@dataclass
class World:
    users: dict = field(default_factory=dict)       # caller → User
    records: dict = field(default_factory=dict)     # record kind → [Variant]
    ids: dict = field(default_factory=dict)         # "threat_S1" … → its case id, for bodies that name a case
    secrets: list = field(default_factory=list)     # (text, callers who may read it): what must not leak


FIRE_FIELDS = {"fire_kind": "fire"}


def build_world(api, make, db, settings) -> World:
    world = World(users={caller: make.user((role_of(caller), unit)) for caller, unit in CALLERS.items()})
    # The S1 handler is made before anyone who could handle: routing gives S1's new cases to the nearest handler.
    builder = api.as_roles(("handler", "STHLM"))      # handles everything, to hang work off the cases
    s1_reporter = api.as_user(world.users["reporter"])
    f1_reporter = api.as_roles(("reporter", "F1"))
    filed = {
        "threat_S1": s1_reporter.file(incident_body(description="Hemlig-hot-S1")),
        "victimisation_S1": s1_reporter.file(victimisation_body(description="Hemlig-krank-S1")),
        "fire_S1": s1_reporter.file(incident_body(type="fire", fields=FIRE_FIELDS, description="Hemlig-brand-S1")),
        "threat_F1": f1_reporter.file(incident_body(org_unit="F1", description="Hemlig-hot-F1")),
        "fire_F1": f1_reporter.file(incident_body(org_unit="F1", type="fire", fields=FIRE_FIELDS,
                                                  description="Hemlig-brand-F1")),
    }
    incidents = {name: response.get_json() for name, response in filed.items()}
    assert all(r.status_code == 201 for r in filed.values()), {n: r.get_json() for n, r in filed.items()}
    seen = {"threat_S1": READS_THREAT, "victimisation_S1": READS_VICTIMISATION, "fire_S1": READS_FIRE,
            "threat_F1": NOBODY, "fire_F1": NOBODY}
    for name, incident in incidents.items():
        readers = seen[name] | ({"reporter"} if "S1" in name else NOBODY)
        # The number, not the text, also to the admins and auditor of its subtree: failed deliveries and the read log
        # name it.
        admins = {"admin", "auditor", "city_admin"} if "S1" in name else {"city_admin"}
        world.secrets += [(incident["description"], readers), (incident["number"], readers | admins)]
    world.secrets.append(("Elev 0", READS_VICTIMISATION | {"reporter"}))   # the pupil's name

    cases = world.ids = {name: incident["cases"][0]["id"] for name, incident in incidents.items()}
    actions, attachments = {}, {}
    for name, case_id in cases.items():
        actions[name] = builder.post(f"/api/v1/cases/{case_id}/actions", json={
            "what": "Samtal", "responsible": world.users["handler"].id if "S1" in name else builder_id(db, case_id),
            "due_date": "2030-01-01"}).get_json()["id"]
        attachments[name] = builder.post(f"/api/v1/cases/{case_id}/attachments", data={
            "file": (io.BytesIO(b"%PDF-1.4 matrix"), "bilaga.pdf")}, content_type="multipart/form-data").get_json()["id"]
    for a, b in (("threat_S1", "fire_S1"), ("threat_F1", "fire_F1")):
        assert builder.post(f"/api/v1/cases/{cases[a]}/links", json={"case": cases[b]}).status_code == 201
    persons = {name: db.get(Case, case_id).incident.persons[0].id for name, case_id in cases.items()}
    # A kränkning case added to the threat's event: the threat's readers who may not read it must not learn of it.
    related = builder.post(f"/api/v1/cases/{cases['threat_S1']}/related-cases", json={
        "type": "victimisation", "persons": [{"role": "affected", "category": "pupil", "gender": "male"}],
        "fields": {"classification": "harassment"}}).get_json()
    world.secrets.append((related["number"], READS_VICTIMISATION | {"admin", "auditor", "city_admin"}))

    def variants(**args_of) -> list[Variant]:
        return [Variant(name, {arg: ids[name] for arg, ids in args_of.items()}, seen[name]) for name in cases]

    world.records["case"] = variants(case_id=cases)
    world.records["action"] = variants(case_id=cases, action_id=actions)
    world.records["attachment"] = variants(case_id=cases, attachment_id=attachments)
    world.records["person"] = variants(case_id=cases, person_id=persons)
    world.records["link"] = [Variant("threat_S1+fire_S1", {"case_id": cases["threat_S1"], "other_id": cases["fire_S1"]},
                                     READS_THREAT),
                             Variant("threat_F1+fire_F1", {"case_id": cases["threat_F1"], "other_id": cases["fire_F1"]},
                                     NOBODY)]
    world.records["incident"] = [
        Variant(v.name, {"incident_id": incidents[v.name]["id"]},
                v.seen_by | ({"reporter"} if "S1" in v.name else NOBODY)) for v in world.records["case"]]
    # One's own report: only its reporter, and not the F1 reporter's to anyone here.
    world.records["own_report"] = [Variant("threat_S1", {"incident_id": incidents["threat_S1"]["id"]}, {"reporter"}),
                                   Variant("threat_F1", {"incident_id": incidents["threat_F1"]["id"]}, NOBODY)]
    # Open311 publishes no event of a unit, type and tertial with fewer than the threshold: none of these.
    world.records["open311_request"] = [Variant(v.name, {"request_id": v.args["incident_id"]}, NOBODY)
                                        for v in world.records["own_report"]]
    world.records["report_page"] = [Variant(v.name, {"report_id": v.args["incident_id"]}, v.seen_by)
                                    for v in world.records["own_report"]]

    # The S1 handler's in-app notice of the threat case, and the F1 handler's: each is its addressee's alone.
    handler_notice = _notification_of(db, world.users["handler"].id)
    other_notice = db.scalar(select(Notification.id).where(Notification.case_id == cases["threat_F1"],
                                                           Notification.user_id.is_not(None)))
    world.records["notification"] = [Variant("handler's", {"notification_id": handler_notice}, {"handler"}),
                                     Variant("F1's", {"notification_id": other_notice}, NOBODY)]
    # Failed deliveries about a case of S1 (inside the UTBF admin's subtree) and of F1 (only the city admin's).
    failed = {}
    for name in ("threat_S1", "threat_F1"):
        failed[name] = db.scalar(select(Notification.id).where(Notification.case_id == cases[name]).limit(1))
        db.execute(update(Notification).where(Notification.id == failed[name]).values(status=DeliveryStatus.FAILED))
    db.commit()
    # Who is no admin is refused before the delivery is looked up; only the UTBF admin has F1's outside its subtree.
    world.records["failed_delivery"] = [
        Variant("about S1", {"notification_id": failed["threat_S1"]}, SIGNED_IN),
        Variant("about F1", {"notification_id": failed["threat_F1"]}, SIGNED_IN - {"admin"})]

    handler_client = api.as_user(world.users["handler"])
    substitute = handler_client.post("/api/v1/substitutes", json={
        "substitute": make.user(("handler", "S1")).id, "starts_at": "2030-01-01T08:00",
        "ends_at": "2030-01-10T08:00"}).get_json()["id"]
    world.records["substitute"] = [Variant("the handler's", {"substitute_id": substitute}, {"handler"})]

    # An open alarm in S1, raised by the S1 reporter (every caller holds a role over S1), and one in F1 (only the
    # city admin's); their messages must not leak outside.
    alarms = {}
    for name, raiser, unit in (("alarm_S1", s1_reporter, "S1"), ("alarm_F1", f1_reporter, "F1")):
        response = raiser.post("/api/v1/alarms", json={"type": "brand", "org_unit": unit,
                                                       "message": f"Hemlig-larm-{unit}"})
        assert response.status_code == 201, response.get_json()
        alarms[name] = response.get_json()["id"]
    world.secrets += [("Hemlig-larm-S1", SIGNED_IN), ("Hemlig-larm-F1", frozenset({"city_admin"}))]
    world.records["alarm"] = [Variant("alarm_S1", {"alarm_id": alarms["alarm_S1"]}, SIGNED_IN),
                              Variant("alarm_F1", {"alarm_id": alarms["alarm_F1"]}, frozenset({"city_admin"}))]
    world.ids["alarm_item"] = db.scalar(select(AlarmChecklistItem.id).join(AlarmType).where(AlarmType.code == "brand")
                                        .limit(1))

    # City-wide configuration: there is no subtree to be outside of; whoever is not a city admin is refused first.
    webhook = api.as_user(world.users["city_admin"]).post("/api/v1/admin/webhooks", json={
        "name": "Matris", "url": "https://hooks.example.se/kia"}).get_json()["id"]
    # The owner of UTBF's buildings (S1's fire case offers a fault report to it); city-wide configuration too.
    owner = api.as_user(world.users["city_admin"]).post("/api/v1/property-owners", json={
        "name": "SISAB", "method": "email", "email": "felanmalan@sisab.example.se", "units": ["UTBF"]}).get_json()["id"]
    folder = mail_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "20260310T093000000000Z-matrix.eml").write_bytes(b"Subject: Matris\r\nTo: x@example.se\r\n\r\nHej\r\n")
    membership = db.scalar(select(Membership.id).where(Membership.user_id == world.users["reporter"].id))
    config = {"routing_rule": {"rule_id": db.scalar(select(RoutingRule.id).limit(1))},
              "deadline_rule": {"rule_id": db.scalar(select(DeadlineRule.id).limit(1))},
              "unit": {"unit_id": world.users["reporter"].memberships[0].org_unit_id},
              "user": {"user_id": world.users["reporter"].id},
              "membership": {"user_id": world.users["reporter"].id, "membership_id": membership},
              "webhook": {"webhook_id": webhook}, "property_owner": {"owner_id": owner}, "type": {"code": "threat_violence"},
              "alarm_type": {"code": "brand"},
              "mail": {"name": "20260310T093000000000Z-matrix.eml"}, "static": {"filename": "kia.css"}}
    for kind, args in config.items():
        world.records[kind] = [Variant("the one", args, ANYONE)]

    # Statistics of a subtree inside each reader's (S1 is under every reader's unit) and of one outside (HAGALV).
    world.records["subtree"] = [Variant("S1", {}, SIGNED_IN, "org_unit=S1&year=2026&tertial=1"),
                                Variant("HAGALV", {}, frozenset({"city_admin"}), "org_unit=HAGALV&year=2026&tertial=1")]
    return world


def role_of(caller: str) -> str:
    return "admin" if caller == "city_admin" else caller


def builder_id(db, case_id: int) -> int:
    """Who may be made responsible for an action on an F1 case: its assignee (the builder, F1 has no handler)."""
    return db.get(Case, case_id).assignee_id


def _notification_of(db, user_id: int) -> int:
    return db.scalar(select(Notification.id).where(Notification.user_id == user_id).limit(1))
