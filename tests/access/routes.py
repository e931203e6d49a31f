"""Who may call each route: one entry per method and rule of the app's URL map, read by tests/access/test_matrix.py,
which fails on a route missing here. An entry says which callers may use the route, the API scope it needs and, for
a route whose path names a record, the kind of record (tests/access/world.py builds each kind inside and outside
the callers' subtrees, and knows who sees which). A caller who does not see the record gets a 404; one who sees it
but is not among `may` gets `otherwise` (403); a token without `scope` a 403; no sign-in a 401 (API) or the sign-in
page (web). Callers: reporter, handler, safety_rep, safety_officer, principal_org, analyst, admin (of an
administration), auditor and data_protection_officer (of the same administration), city_admin (of the whole city),
anonymous."""
from __future__ import annotations

from dataclasses import dataclass

from tests.access.world import ANYONE, SIGNED_IN

CITY_ADMIN = frozenset({"city_admin"})
ADMINS = frozenset({"admin", "city_admin"})
# Who works a case (kia.access.may_handle_case): the handler chain; the safety officer on non-confidential cases
# (which of them a caller sees is the record's business).
HANDLERS = frozenset({"handler", "safety_officer"})
# Who sees names and personal numbers (kia.access.SEES_PERSONAL_DATA), on the cases they read.
PERSONAL_DATA = frozenset({"handler", "principal_org", "safety_officer"})
STATISTICS = frozenset({"analyst", "handler", "principal_org", "safety_officer"})
# Who reviews the read log (kia.access.REVIEWS_READ_LOG) and who makes a registerutdrag (ANSWERS_SUBJECT_ACCESS).
READ_LOG = ADMINS | {"auditor"}
SUBJECT_ACCESS = ADMINS | {"data_protection_officer"}
# A valid personal number no record of the world names: the search is what answers.
SUBJECT = {"personal_number": "19900101-0009", "format": "json"}


@dataclass(frozen=True)
class Route:
    may: frozenset[str]
    scope: str | None = None
    record: str | None = None
    otherwise: int = 403
    body: object = None    # a valid JSON body (or FILE), or a function of the World giving one; default {}


FILE = "a PDF as the multipart field file"


def api(may, scope=None, record=None, otherwise=403, body=None) -> Route:
    return Route(frozenset(may), scope, record, otherwise, body)


def handler_id(world) -> int:
    return world.users["handler"].id


# Valid bodies, so that what answers is the access rule and not the input's validation.
ACTION = lambda w: {"what": "Samtal", "responsible": handler_id(w), "due_date": "2030-01-01"}  # noqa: E731
NEW_TYPE = {"code": "matrix_type", "name": {"sv": "Matris", "en": "Matrix"}, "category": "safety",
            "confidential": False, "fields": []}
DEADLINE_RULE = {"code": "matrix_rule", "name_sv": "Matris", "name_en": "Matrix", "type": "fire", "start": "known_at",
                 "due_working_days": 2, "met_by_milestone": "police_report_made"}
FAULT_REPORT = {"place": "Hus A, sal 12", "description": "Fönstret är krossat.", "urgency": "urgent"}
NEW_OWNER = {"name": "Matris fastigheter", "method": "email", "email": "fel@matris.example.se"}
NEW_ALARM_TYPE = {"code": "matrix_alarm", "name": {"sv": "Matris", "en": "Matrix"}, "event_type": "fire"}
ENDS_ALARMS = frozenset({"reporter", "handler", "safety_officer"})
NOT_SERIOUS = {"answers": {"death": False, "serious_injury": [], "several_hurt": False, "serious_near_miss": False,
                           "serious_threat": []}}


web = api   # the same entry; a web route has no scope

ROUTES: dict[str, Route] = {
    # ---- API: incidents, own reports, reference data -------------------------------------------------------------
    "POST /api/v1/incidents": api(SIGNED_IN, "incidents:write"),
    "GET /api/v1/incidents": api(SIGNED_IN, "incidents:read"),
    "GET /api/v1/incidents/<id:incident_id>": api(SIGNED_IN, "incidents:read", "incident"),
    "GET /api/v1/incidents/<id:incident_id>/messages": api(HANDLERS, "cases:read", "incident", 404),
    "POST /api/v1/incidents/<id:incident_id>/messages": api(HANDLERS, "cases:write", "incident", 404, {"body": "Hej"}),
    "GET /api/v1/my/incidents": api(SIGNED_IN, "incidents:read"),
    "GET /api/v1/my/incidents/<id:incident_id>": api(SIGNED_IN, "incidents:read", "own_report"),
    "GET /api/v1/incident-types": api(SIGNED_IN),
    "POST /api/v1/incident-types": api(CITY_ADMIN, "admin", body=NEW_TYPE),
    "PATCH /api/v1/incident-types/<code>": api(CITY_ADMIN, "admin", "type", body={"active": True}),
    "GET /api/v1/org-units": api(SIGNED_IN),
    "PUT /api/v1/org-units/<id:unit_id>/coordinates": api(CITY_ADMIN, "admin", "unit",
                                                          body={"latitude": 59.3293, "longitude": 18.0686}),
    "GET /api/v1/statistics/tertial": api(STATISTICS, "statistics:read", "subtree", 404),
    # ---- API: cases ----------------------------------------------------------------------------------------------
    "GET /api/v1/cases": api(SIGNED_IN, "cases:read"),
    "GET /api/v1/cases/<id:case_id>": api(SIGNED_IN, "cases:read", "case"),
    "PATCH /api/v1/cases/<id:case_id>": api(HANDLERS, "cases:write", "case", body={"investigation": "Utreds."}),
    "GET /api/v1/cases/<id:case_id>/timeline": api(SIGNED_IN, "cases:read", "case"),
    "GET /api/v1/cases/<id:case_id>/obligations": api(SIGNED_IN, "cases:read", "case"),
    "POST /api/v1/cases/<id:case_id>/transitions": api(HANDLERS, "cases:write", "case", body={"to": "acknowledged"}),
    "POST /api/v1/cases/<id:case_id>/milestones": api(HANDLERS, "cases:write", "case", body={"kind": "investigation_started"}),
    "PUT /api/v1/cases/<id:case_id>/serious-check": api(HANDLERS, "cases:write", "case", body=NOT_SERIOUS),
    "POST /api/v1/cases/<id:case_id>/assignment": api(HANDLERS, "cases:write", "case",
                                                       body=lambda w: {"user": handler_id(w)}),
    "POST /api/v1/cases/<id:case_id>/actions": api(HANDLERS, "cases:write", "case", body=ACTION),
    "PATCH /api/v1/cases/<id:case_id>/actions/<id:action_id>": api(HANDLERS, "cases:write", "action",
                                                                   body={"status": "done"}),
    "GET /api/v1/cases/<id:case_id>/comments": api(SIGNED_IN, "cases:read", "case"),
    "POST /api/v1/cases/<id:case_id>/comments": api(HANDLERS, "cases:write", "case", body={"body": "Noterat."}),
    "GET /api/v1/cases/<id:case_id>/attachments": api(SIGNED_IN, "cases:read", "case"),
    "POST /api/v1/cases/<id:case_id>/attachments": api(HANDLERS, "cases:write", "case", body=FILE),
    "GET /api/v1/cases/<id:case_id>/attachments/<id:attachment_id>": api(SIGNED_IN, "cases:read", "attachment"),
    "POST /api/v1/cases/<id:case_id>/links": api(HANDLERS, "cases:write", "case",
                                                  body=lambda w: {"case": w.ids["fire_S1"]}),
    "DELETE /api/v1/cases/<id:case_id>/links/<id:other_id>": api(HANDLERS, "cases:write", "link"),
    "GET /api/v1/cases/<id:case_id>/related-cases": api(SIGNED_IN, "cases:read", "case"),
    "POST /api/v1/cases/<id:case_id>/related-cases": api(HANDLERS, "cases:write", "case",
                                                          body={"type": "near_miss", "persons": [0]}),
    "PUT /api/v1/cases/<id:case_id>/legal-hold": api(HANDLERS, "cases:write", "case", body={"reason": "appeal"}),
    "DELETE /api/v1/cases/<id:case_id>/legal-hold": api(HANDLERS, "cases:write", "case"),
    "GET /api/v1/cases/<id:case_id>/fault-reports": api(SIGNED_IN, "cases:read", "case"),
    "POST /api/v1/cases/<id:case_id>/fault-reports": api(HANDLERS, "cases:write", "case", body=FAULT_REPORT),
    "GET /api/v1/access-log": api(READ_LOG, "admin"),
    "POST /api/v1/subject-access": api(SUBJECT_ACCESS, "admin", body=SUBJECT),
    "GET /api/v1/substitutes": api(SIGNED_IN, "cases:read"),
    "POST /api/v1/substitutes": api(SIGNED_IN, "cases:write"),
    "DELETE /api/v1/substitutes/<id:substitute_id>": api(SIGNED_IN, "cases:write", "substitute"),
    # ---- API: rules, notifications, webhooks ---------------------------------------------------------------------
    "GET /api/v1/deadline-rules": api(CITY_ADMIN, "admin"),
    "POST /api/v1/deadline-rules": api(CITY_ADMIN, "admin", body=DEADLINE_RULE),
    "PUT /api/v1/deadline-rules": api(CITY_ADMIN, "admin", body=[DEADLINE_RULE]),
    "PATCH /api/v1/deadline-rules/<id:rule_id>": api(CITY_ADMIN, "admin", "deadline_rule", body={"active": True}),
    "GET /api/v1/retention-rules": api(CITY_ADMIN, "admin"),
    "GET /api/v1/incident-types/<code>/retention": api(CITY_ADMIN, "admin", "type"),
    "PUT /api/v1/incident-types/<code>/retention": api(CITY_ADMIN, "admin", "type", body={"months": 72}),
    "GET /api/v1/retention/preview": api(CITY_ADMIN, "admin"),
    "GET /api/v1/retention/runs": api(CITY_ADMIN, "admin"),
    "GET /api/v1/routing-rules": api(CITY_ADMIN, "admin"),
    "POST /api/v1/routing-rules": api(CITY_ADMIN, "admin", body={"type": "fire", "org_unit": "GRU", "role": "safety_officer",
                                                               "purpose": "inform"}),
    "PATCH /api/v1/routing-rules/<id:rule_id>": api(CITY_ADMIN, "admin", "routing_rule", body={"active": True}),
    "GET /api/v1/notifications": api(SIGNED_IN),
    "POST /api/v1/notifications/<id:notification_id>/read": api(SIGNED_IN, None, "notification"),
    "GET /api/v1/me/notification-preferences": api(SIGNED_IN),
    "PUT /api/v1/me/notification-preferences": api(SIGNED_IN),
    "GET /api/v1/admin/notifications/failed": api(ADMINS, "admin"),
    "POST /api/v1/admin/notifications/<id:notification_id>/resend": api(ADMINS, "admin", "failed_delivery"),
    "GET /api/v1/admin/webhooks": api(CITY_ADMIN, "admin"),
    "POST /api/v1/admin/webhooks": api(CITY_ADMIN, "admin", body={"name": "Ny", "url": "https://hooks.example.se/ny"}),
    "DELETE /api/v1/admin/webhooks/<id:webhook_id>": api(CITY_ADMIN, "admin", "webhook"),
    "GET /api/v1/property-owners": api(CITY_ADMIN, "admin"),
    "POST /api/v1/property-owners": api(CITY_ADMIN, "admin", body=NEW_OWNER),
    "GET /api/v1/property-owners/<id:owner_id>": api(CITY_ADMIN, "admin", "property_owner"),
    "PATCH /api/v1/property-owners/<id:owner_id>": api(CITY_ADMIN, "admin", "property_owner", body={"active": True}),
    # ---- API: alarms ---------------------------------------------------------------------------------------------
    "GET /api/v1/alarm-types": api(SIGNED_IN),
    "POST /api/v1/alarm-types": api(CITY_ADMIN, "admin", body=NEW_ALARM_TYPE),
    "PATCH /api/v1/alarm-types/<code>": api(CITY_ADMIN, "admin", "alarm_type", body={"active": True}),
    "GET /api/v1/alarms": api(SIGNED_IN, "alarms:read"),
    "POST /api/v1/alarms": api(SIGNED_IN, "alarms:raise", body={"type": "hot", "org_unit": "S1", "drill": True}),
    "GET /api/v1/alarms/stream": api(SIGNED_IN, "alarms:read"),
    "GET /api/v1/alarms/<id:alarm_id>": api(SIGNED_IN, "alarms:read", "alarm"),
    "GET /api/v1/alarms/<id:alarm_id>/roll-call": api(SIGNED_IN, "alarms:read", "alarm"),
    "POST /api/v1/alarms/<id:alarm_id>/roll-call": api(SIGNED_IN, "alarms:read", "alarm", body={"status": "safe"}),
    "GET /api/v1/alarms/<id:alarm_id>/messages": api(SIGNED_IN, "alarms:read", "alarm"),
    "POST /api/v1/alarms/<id:alarm_id>/messages": api(SIGNED_IN, "alarms:read", "alarm", body={"body": "Hej"}),
    "POST /api/v1/alarms/<id:alarm_id>/checklist": api(SIGNED_IN, "alarms:read", "alarm",
                                                        body=lambda w: {"item": w.ids["alarm_item"]}),
    # The one who raised it (the S1 reporter), a rektor (handler) or a safety officer.
    "POST /api/v1/alarms/<id:alarm_id>/end": api(ENDS_ALARMS, "alarms:raise", "alarm"),
    "GET /api/v1/alarm-subscriptions": api(SIGNED_IN, "alarms:read"),
    "PUT /api/v1/alarm-subscriptions": api(SIGNED_IN, "alarms:read", body={"org_units": []}),
    "GET /api/v1/drill-requirements": api(SIGNED_IN, "alarms:read"),
    "PUT /api/v1/drill-requirements": api({"handler", "admin", "city_admin"}, "alarms:raise",
                                          body={"org_unit": "S1", "type": "brand", "every_months": 12}),
    # ---- API: no sign-in -----------------------------------------------------------------------------------------
    "GET /api/v1/openapi.json": api(ANYONE),
    "GET /api/docs": api(ANYONE),
    "GET /api/v1/public/incident-types": api(ANYONE),
    "GET /api/v1/public/org-units": api(ANYONE),
    "POST /api/v1/public/incidents": api(ANYONE),
    "POST /api/v1/public/followup": api(ANYONE),
    "POST /api/v1/public/followup/messages": api(ANYONE),
    # Open311 GeoReport v2 (on in the tests' settings): nobody sees a request of the world, too few of each kind.
    "GET /open311/v2/services.json": api(ANYONE),
    "GET /open311/v2/requests.json": api(ANYONE),
    "GET /open311/v2/requests/<id:request_id>.json": api(ANYONE, record="open311_request"),

    # ---- web: open pages -----------------------------------------------------------------------------------------
    "GET /": web(ANYONE),
    "GET /login": web(ANYONE),
    "POST /login": web(ANYONE),
    # Single sign-on (web/oidc.py); off in this app, so each answers its page saying so (400).
    "GET /login/oidc": web(ANYONE),
    "GET /login/oidc/callback": web(ANYONE),
    "POST /language": web(ANYONE),
    "GET /anonymous": web(ANYONE),
    "POST /anonymous": web(ANYONE),
    "GET /followup": web(ANYONE),
    "POST /followup": web(ANYONE),
    "GET /static/<path:filename>": web(ANYONE, record="static"),
    "GET /manifest.webmanifest": web(ANYONE),
    # ---- web: one's own ------------------------------------------------------------------------------------------
    "POST /logout": web(SIGNED_IN),
    # The second step: for a visitor pending after the password (tests/web/test_two_factor.py); with nothing
    # pending a visitor is sent to sign in, and a signed-in user home.
    "GET /two-factor/verify": web(SIGNED_IN),
    "POST /two-factor/verify": web(SIGNED_IN),
    "GET /two-factor/enrol": web(SIGNED_IN),
    "POST /two-factor/enrol": web(SIGNED_IN),
    "GET /account/two-factor": web(SIGNED_IN),
    "POST /account/two-factor/disable": web(SIGNED_IN),
    "POST /account/two-factor/recovery-codes": web(SIGNED_IN),
    "POST /admin/users/<id:user_id>/two-factor/reset": web(CITY_ADMIN, record="user"),
    "GET /me": web(SIGNED_IN),
    "GET /account/password": web(SIGNED_IN),
    "POST /account/password": web(SIGNED_IN),
    "GET /report": web(SIGNED_IN),
    "POST /report": web(SIGNED_IN),
    "GET /my-reports": web(SIGNED_IN),
    "GET /my-reports/<id:report_id>": web(SIGNED_IN, record="report_page"),
    "GET /notifications": web(SIGNED_IN),
    "POST /notifications/read": web(SIGNED_IN),
    "POST /notifications/<id:notification_id>/read": web(SIGNED_IN, record="notification"),
    "GET /inbox": web(SIGNED_IN),
    # ---- web: alarms ---------------------------------------------------------------------------------------------
    "POST /alarms": web(SIGNED_IN, body={"type": "hot", "org_unit": "S1", "drill": "on"}),
    "GET /alarms": web(SIGNED_IN),
    "GET /alarms/<id:alarm_id>": web(SIGNED_IN, record="alarm"),
    "POST /alarms/<id:alarm_id>/roll-call": web(SIGNED_IN, record="alarm", body={"status": "safe"}),
    "POST /alarms/<id:alarm_id>/messages": web(SIGNED_IN, record="alarm", body={"body": "Hej"}),
    "POST /alarms/<id:alarm_id>/checklist": web(SIGNED_IN, record="alarm",
                                                 body=lambda w: {"item": str(w.ids["alarm_item"])}),
    "POST /alarms/<id:alarm_id>/end": web(ENDS_ALARMS, record="alarm"),
    "GET /lagesbild": web(STATISTICS, otherwise=404),
    "GET /lagesbild.pdf": web(STATISTICS, otherwise=404),
    "GET /karta": web(STATISTICS, record="subtree", otherwise=404),
    # ---- web: a case ---------------------------------------------------------------------------------------------
    "GET /cases/<id:case_id>": web(SIGNED_IN, record="case"),
    "POST /cases/<id:case_id>/transition": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/milestones": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/fault-reports": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/investigation": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/serious-check": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/actions": web(HANDLERS, record="case", body=ACTION),
    "POST /cases/<id:case_id>/actions/<id:action_id>": web(HANDLERS, record="action", body={"status": "done"}),
    "POST /cases/<id:case_id>/comments": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/messages": web(HANDLERS, record="case", otherwise=404),
    "POST /cases/<id:case_id>/delegate": web(HANDLERS, record="case", body=lambda w: {"user": handler_id(w)}),
    "POST /cases/<id:case_id>/links": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/links/<id:other_id>/remove": web(HANDLERS, record="link"),
    "POST /cases/<id:case_id>/attachments": web(HANDLERS, record="case", body=FILE),
    "GET /cases/<id:case_id>/attachments/<id:attachment_id>": web(SIGNED_IN, record="attachment"),
    "POST /cases/<id:case_id>/persons/<id:person_id>/reveal": web(PERSONAL_DATA, record="person"),
    "POST /cases/<id:case_id>/legal-hold": web(HANDLERS, record="case", body={"reason": "appeal"}),
    "POST /cases/<id:case_id>/legal-hold/lift": web(HANDLERS, record="case"),
    "GET /cases/<id:case_id>/related-cases/new": web(HANDLERS, record="case"),
    "POST /cases/<id:case_id>/related-cases": web(HANDLERS, record="case"),
    # ---- web: administration -------------------------------------------------------------------------------------
    "GET /admin": web(ADMINS),
    "GET /admin/access-log": web(READ_LOG),
    "GET /admin/subject-access": web(SUBJECT_ACCESS),
    "POST /admin/subject-access": web(SUBJECT_ACCESS, body=SUBJECT),
    "GET /admin/notifications": web(ADMINS),
    "POST /admin/notifications/<id:notification_id>/resend": web(ADMINS, record="failed_delivery"),
    "GET /admin/mail": web(CITY_ADMIN),
    "GET /admin/mail/<name>": web(CITY_ADMIN, record="mail"),
    "GET /admin/rules": web(CITY_ADMIN),
    "POST /admin/rules": web(CITY_ADMIN),
    "GET /admin/rules/<id:rule_id>": web(CITY_ADMIN, record="routing_rule"),
    "POST /admin/rules/<id:rule_id>": web(CITY_ADMIN, record="routing_rule"),
    "POST /admin/rules/<id:rule_id>/active": web(CITY_ADMIN, record="routing_rule"),
    "POST /admin/deadline-rules": web(CITY_ADMIN),
    "GET /admin/deadline-rules/<id:rule_id>": web(CITY_ADMIN, record="deadline_rule"),
    "POST /admin/deadline-rules/<id:rule_id>": web(CITY_ADMIN, record="deadline_rule"),
    "POST /admin/deadline-rules/<id:rule_id>/active": web(CITY_ADMIN, record="deadline_rule"),
    "GET /admin/retention": web(CITY_ADMIN),
    "GET /admin/legal-holds": web(ADMINS),
    "POST /admin/retention/<code>": web(CITY_ADMIN, record="type", body={"months": "72", "action": "anonymise"}),
    "GET /admin/property-owners": web(CITY_ADMIN),
    "GET /admin/property-owners/new": web(CITY_ADMIN),
    "POST /admin/property-owners/new": web(CITY_ADMIN),
    "GET /admin/property-owners/<id:owner_id>": web(CITY_ADMIN, record="property_owner"),
    "POST /admin/property-owners/<id:owner_id>": web(CITY_ADMIN, record="property_owner"),
    "GET /admin/types": web(CITY_ADMIN),
    "GET /admin/types/new": web(CITY_ADMIN),
    "POST /admin/types/new": web(CITY_ADMIN),
    "GET /admin/types/<code>": web(CITY_ADMIN, record="type"),
    "POST /admin/types/<code>": web(CITY_ADMIN, record="type"),
    "GET /admin/alarm-types": web(CITY_ADMIN),
    "GET /admin/alarm-types/new": web(CITY_ADMIN),
    "POST /admin/alarm-types/new": web(CITY_ADMIN),
    "GET /admin/alarm-types/<code>": web(CITY_ADMIN, record="alarm_type"),
    "POST /admin/alarm-types/<code>": web(CITY_ADMIN, record="alarm_type"),
    "GET /admin/units": web(CITY_ADMIN),
    "POST /admin/units": web(CITY_ADMIN),
    "GET /admin/units/<id:unit_id>": web(CITY_ADMIN, record="unit"),
    "POST /admin/units/<id:unit_id>": web(CITY_ADMIN, record="unit"),
    "POST /admin/units/<id:unit_id>/coordinates": web(CITY_ADMIN, record="unit",
                                                      body={"latitude": "59,3293", "longitude": "18,0686"}),
    "POST /admin/units/<id:unit_id>/active": web(CITY_ADMIN, record="unit"),
    "GET /admin/users": web(CITY_ADMIN),
    "POST /admin/users": web(CITY_ADMIN),
    "GET /admin/users/<id:user_id>": web(CITY_ADMIN, record="user"),
    "POST /admin/users/<id:user_id>": web(CITY_ADMIN, record="user"),
    "POST /admin/users/<id:user_id>/active": web(CITY_ADMIN, record="user"),
    "POST /admin/users/<id:user_id>/password": web(CITY_ADMIN, record="user"),
    "POST /admin/users/<id:user_id>/memberships": web(CITY_ADMIN, record="user"),
    "POST /admin/users/<id:user_id>/memberships/<id:membership_id>/remove": web(CITY_ADMIN, record="membership"),
}
