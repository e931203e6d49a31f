"""The public API without login: anonymous filing, follow-up by code, messages both ways, rate limits."""
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from kia.cases.models import TimelineEntry
from kia.incidents.builtin_types import BUILTIN_CODES
from kia.incidents.models import Incident, IncidentType
from tests.factories import incident_body
from tests.feedback.support import database_text, risk_body

PROBLEM = "application/problem+json"
ADDRESS, AGENT = "203.0.113.77", "Distinctive-Agent/7.7"
CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$")


@pytest.fixture
def settings(settings):
    return replace(settings, public_requests_per_minute=20, public_reports_per_hour=3, followup_failures_per_hour=3)


class Anonymous:
    """The test client as one anonymous client: a fixed address and user agent, no credentials."""

    def __init__(self, client, address=ADDRESS):
        self.client = client
        self.environ = {"REMOTE_ADDR": address, "HTTP_USER_AGENT": AGENT}

    def get(self, url, **kwargs):
        return self.client.get(f"/api/v1/public{url}", environ_base=self.environ, **kwargs)

    def post(self, url, **kwargs):
        return self.client.post(f"/api/v1/public{url}", environ_base=self.environ, **kwargs)

    def file(self, body=None, **kwargs):
        return self.post("/incidents", json=body or risk_body(), **kwargs)


@pytest.fixture
def anonymous(client, tree):
    return Anonymous(client)


@pytest.fixture
def handler(api, tree):
    return api.as_roles(("handler", "S1"), language="en")


def incident_id(db, number: str) -> int:
    return db.scalar(select(Incident.id).where(Incident.number == number))


def test_anonymous_clients_learn_which_types_and_units_they_can_use(anonymous, db):
    types = anonymous.get("/incident-types")
    assert types.status_code == 200 and types.headers["Cache-Control"] == "no-store"
    allowed = set(db.scalars(select(IncidentType.code).where(IncidentType.allows_anonymous.is_(True),
                                                             IncidentType.active.is_(True))))
    assert {t["code"] for t in types.get_json()} == allowed
    assert {"risk_observation", "victimisation"} <= allowed and "threat_violence" not in allowed
    assert allowed < set(BUILTIN_CODES)
    units = anonymous.get("/org-units").get_json()
    assert {"S1", "F1", "UTBF"} <= {u["code"] for u in units}


def test_filing_returns_the_number_and_a_code_that_is_stored_nowhere(anonymous, db):
    response = anonymous.file()
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"number", "follow_up_code", "cases"}
    assert CODE.match(body["follow_up_code"])
    assert body["cases"] == [{"number": body["number"] + "-1", "type": "risk_observation", "state": "received",
                              "closed_at": None, "closing_summary": None}]
    incident = db.get(Incident, incident_id(db, body["number"]))
    assert (incident.reporter_id, incident.anonymous) == (None, True)
    assert {e.actor_id for e in db.scalars(select(TimelineEntry))} == {None}
    text = database_text(db)
    for secret in (body["follow_up_code"], body["follow_up_code"].replace("-", ""), ADDRESS, AGENT):
        assert secret not in text


def test_the_code_opens_the_report_and_is_not_shown_again(anonymous):
    code = anonymous.file().get_json()["follow_up_code"]
    for typed in (code, code.lower(), code.replace("-", "")):
        response = anonymous.post("/followup", json={"code": typed})
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert code not in response.get_data(as_text=True)
    seen = response.get_json()
    assert set(seen) == {"report", "messages"} and seen["messages"] == []
    assert set(seen["report"]) == {"number", "type", "type_name", "org_unit", "org_unit_name", "occurred_at",
                                   "reported_at", "cases"}


def test_a_signed_in_client_is_not_tied_to_a_public_report(anonymous, api, db):
    user = api.make.user(("reporter", "S1"))
    headers = {"Authorization": f"Bearer {api.make.token(user)}"}
    number = anonymous.file(headers=headers).get_json()["number"]
    assert db.get(Incident, incident_id(db, number)).reporter_id is None


@pytest.mark.parametrize("body, path", [
    (incident_body(), "type"),                     # threat_violence is never anonymous
    ({**risk_body(), "anonymous": True}, "anonymous"),
    (risk_body(fields={}), "fields.risk"),
    (risk_body(org_unit="NOPE"), "org_unit"),
])
def test_bad_reports_are_refused_per_field_and_nothing_is_stored(anonymous, db, body, path):
    response = anonymous.file(body, headers={"Accept-Language": "en"})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert path in response.get_json()["errors"]
    assert db.scalar(select(Incident.id)) is None


def test_messages_both_ways(anonymous, handler, db):
    filed = anonymous.file().get_json()
    code, url = filed["follow_up_code"], f"/api/v1/incidents/{incident_id(db, filed['number'])}/messages"
    assert handler.get(url).get_json() == {"anonymous_followup": True, "messages": []}

    answer = handler.post(url, json={"body": "Tack! Var i trapphuset sitter räcket?"})
    assert answer.status_code == 201 and answer.get_json()["author"]["id"]
    sent = anonymous.post("/followup/messages", json={"code": code, "body": "Vid andra våningen."})
    assert sent.status_code == 201
    assert set(sent.get_json()) == {"from", "body", "created_at"}

    thread = anonymous.post("/followup", json={"code": code}).get_json()["messages"]
    assert [(m["from"], m["body"]) for m in thread] == [
        ("handler", "Tack! Var i trapphuset sitter räcket?"), ("reporter", "Vid andra våningen.")]
    assert all(set(m) == {"from", "body", "created_at"} for m in thread)   # not even the handler's name
    seen_by_handler = handler.get(url).get_json()["messages"]
    assert [(m["from"], m["author"]) for m in seen_by_handler] == [
        ("handler", answer.get_json()["author"]), ("reporter", None)]


def test_an_empty_message_is_a_problem_for_the_body(anonymous):
    code = anonymous.file().get_json()["follow_up_code"]
    response = anonymous.post("/followup/messages", json={"code": code, "body": " "}, headers={"Accept-Language": "en"})
    assert response.status_code == 422 and response.get_json()["errors"] == {"body": ["Write a message."]}


def test_wrong_codes_all_get_the_same_404(anonymous):
    anonymous.file()
    answers = [anonymous.post("/followup", json={"code": code}) for code in ("AAAA-BBBB", "x" * 32)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].mimetype == PROBLEM and answers[0].get_json() == answers[1].get_json()
    posted = anonymous.post("/followup/messages", json={"code": "AAAA-BBBB", "body": "Hej"})
    assert posted.status_code == 404 and posted.get_json() == answers[0].get_json()


def test_after_too_many_wrong_codes_even_the_right_one_waits(anonymous, client):
    code = anonymous.file().get_json()["follow_up_code"]
    statuses = [anonymous.post("/followup", json={"code": f"{'A' * 32}-{n}"}).status_code for n in range(3)]
    refused = anonymous.post("/followup", json={"code": code})
    assert statuses == [404, 404, 404] and refused.status_code == 429 and refused.mimetype == PROBLEM
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert Anonymous(client, "203.0.113.78").post("/followup", json={"code": code}).status_code == 200


def _until_refused(send, limit: int):
    """Send until 429; twice the limit and one more is enough even if a window ends in between."""
    for _ in range(2 * limit + 1):
        response = send()
        if response.status_code == 429:
            return response
    pytest.fail("never rate-limited")


def test_requests_per_client_are_limited_with_retry_after(anonymous, client):
    refused = _until_refused(lambda: anonymous.get("/org-units"), 20)
    assert refused.mimetype == PROBLEM and refused.get_json()["status"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert Anonymous(client, "203.0.113.78").get("/org-units").status_code == 200


def test_reports_per_client_are_limited(anonymous, db):
    refused = _until_refused(anonymous.file, 3)
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert len(db.scalars(select(Incident.id)).all()) in (3, 6)


def test_documented_as_public_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    public = {"/public/incident-types", "/public/org-units", "/public/incidents", "/public/followup",
              "/public/followup/messages"}
    assert public <= set(spec["paths"])
    for path in public:
        for operation in spec["paths"][path].values():
            assert operation["security"] == [] and "429" in operation["responses"]
