"""The case-work API: assignment, actions, comments, related cases, links, attachments and substitutes –
status codes, problem+json, scopes, and 404 for cases out of scope."""
from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from kia.app import create_app
from kia.cases.models import AccessLogEntry
from kia.db import utcnow
from tests.conftest import TZ
from tests.factories import ApiClient, incident_body, victimisation_body

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03" + bytes(100) + b"This program cannot be run in DOS mode"
TOMORROW = (utcnow() + timedelta(days=1)).astimezone(TZ).date().isoformat()


def send(user, method: str, url: str, **kwargs):
    """PATCH and DELETE with the user's token (the factory's client has GET and POST)."""
    return user.client.open(url, method=method, headers=user.headers, **kwargs)


@pytest.fixture
def staff(api, tree):
    return api.as_roles(("reporter", "S1"), language="en")


@pytest.fixture
def rektor_user(api, tree):
    return api.make.user(("handler", "S1"), name="Rektor Rut")   # the first handler: cases are routed here


@pytest.fixture
def rektor(api, rektor_user):
    return api.as_user(rektor_user, language="en")


@pytest.fixture
def case_id(staff, rektor_user) -> int:
    return staff.file(incident_body()).get_json()["cases"][0]["id"]


def upload(user, case_id: int, data: bytes, name: str = "intyg.pdf", content_type: str = "application/pdf"):
    return user.post(f"/api/v1/cases/{case_id}/attachments", content_type="multipart/form-data",
                     data={"file": (io.BytesIO(data), name, content_type)})


# ---- assignment ---------------------------------------------------------------------------------

def test_delegating_a_case(rektor, rektor_user, api, case_id):
    teacher = api.make.user(("reporter", "S1"), name="Lärare Lo")
    response = rektor.post(f"/api/v1/cases/{case_id}/assignment", json={"user": teacher.id, "note": "Utred."})
    assert response.status_code == 200
    assert response.get_json()["assignee"] == {"id": teacher.id, "name": "Lärare Lo"}
    entries = rektor.get(f"/api/v1/cases/{case_id}/timeline").get_json()["items"]
    assert [(e["old"], e["new"], e["note"]) for e in entries if e["kind"] == "delegated"] == [
        (rektor_user.id, teacher.id, "Utred.")]


def test_delegating_out_of_scope_is_a_422_with_the_field(rektor, api, case_id):
    outsider = api.make.user(("handler", "S2"))
    response = rektor.post(f"/api/v1/cases/{case_id}/assignment", json={"user": outsider.id})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert list(response.get_json()["errors"]) == ["user"]
    assert rektor.post(f"/api/v1/cases/{case_id}/assignment", json={"user": "x"}).status_code == 422


def test_cases_out_of_scope_are_404_and_scopes_are_enforced(api, rektor_user, case_id):
    other = api.as_roles(("handler", "S2"))
    for method, path, kwargs in [
        ("POST", "assignment", {"json": {"user": rektor_user.id}}),
        ("POST", "comments", {"json": {"body": "Hej"}}), ("GET", "comments", {}),
        ("POST", "actions", {"json": {"what": "x", "responsible": rektor_user.id, "due_date": TOMORROW}}),
        ("GET", "attachments", {}), ("GET", "related-cases", {}),
        ("POST", "related-cases", {"json": {"type": "fire", "fields": {"fire_kind": "fire"}}}),
    ]:
        response = send(other, method, f"/api/v1/cases/{case_id}/{path}", **kwargs)
        assert response.status_code == 404 and response.mimetype == PROBLEM, path
    reader = api.as_user(rektor_user, scopes=["cases:read"])
    assert reader.post(f"/api/v1/cases/{case_id}/comments", json={"body": "Hej"}).status_code == 403
    assert api.as_user(rektor_user, scopes=["cases:write"]).get(f"/api/v1/cases/{case_id}/comments").status_code == 403


# ---- actions and comments -----------------------------------------------------------------------

def test_actions_are_added_and_the_responsible_marks_theirs_done(api, rektor, case_id):
    caretaker_user = api.make.user(("reporter", "S1"), name="Vaktmästare Vic")
    created = rektor.post(f"/api/v1/cases/{case_id}/actions",
                          json={"what": "Laga låset", "responsible": caretaker_user.id, "due_date": TOMORROW})
    assert created.status_code == 201
    action = created.get_json()
    assert (action["status"], action["responsible"]["name"], action["due_date"]) == ("planned", "Vaktmästare Vic",
                                                                                     TOMORROW)
    caretaker = api.as_user(caretaker_user)
    url = f"/api/v1/cases/{case_id}/actions/{action['id']}"
    assert send(caretaker, "PATCH", url, json={"due_date": "2031-01-01"}).status_code == 403
    done = send(caretaker, "PATCH", url, json={"status": "done", "follow_up_note": "Lagat."})
    assert done.status_code == 200
    assert done.get_json()["status"] == "done" and done.get_json()["completed_at"]
    bad = send(rektor, "PATCH", url, json={"status": "finished", "colour": "red"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"status", "colour"}
    assert send(rektor, "PATCH", f"/api/v1/cases/{case_id}/actions/999999", json={}).status_code == 404


def test_action_errors_come_per_field(rektor, api, case_id):
    response = rektor.post(f"/api/v1/cases/{case_id}/actions",
                           json={"what": "", "responsible": api.make.user(("analyst", "STHLM")).id,
                                 "due_date": "2020-01-01"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"what", "responsible", "due_date"}


def test_comments_are_internal_and_listed_for_case_readers(api, rektor, case_id):
    assert rektor.post(f"/api/v1/cases/{case_id}/comments", json={"body": "Samtal bokat."}).status_code == 201
    skyddsombud = api.as_roles(("safety_rep", "S1"))
    listed = skyddsombud.get(f"/api/v1/cases/{case_id}/comments").get_json()["items"]
    assert [(c["body"], c["author"]["name"]) for c in listed] == [("Samtal bokat.", "Rektor Rut")]
    assert skyddsombud.post(f"/api/v1/cases/{case_id}/comments", json={"body": "x"}).status_code == 403


# ---- related cases and links --------------------------------------------------------------------

def test_a_related_case_continues_the_incidents_numbers(rektor, staff, case_id):
    response = rektor.post(f"/api/v1/cases/{case_id}/related-cases", json={
        "type": "pupil_injury", "persons": [1, {"role": "affected", "category": "pupil", "gender": "female"}],
        "fields": {"injury_kind": "bruise", "body_part": "arm_hand"}})
    assert response.status_code == 201
    created = response.get_json()
    assert created["number"].endswith("-2") and created["type"] == "pupil_injury"
    assert created["fields"] == {"injury_kind": "bruise", "body_part": "arm_hand"}
    assert created["assignee"]["name"] == "Rektor Rut"
    related = rektor.get(f"/api/v1/cases/{case_id}/related-cases").get_json()["items"]
    assert [(r["id"], r["relation"]) for r in related] == [(created["id"], "same_incident")]


def test_related_case_errors_name_the_person_and_field(rektor, case_id):
    response = rektor.post(f"/api/v1/cases/{case_id}/related-cases", json={
        "type": "pupil_injury", "persons": [9, {"role": "affected", "category": "pupil", "gender": "x"}, "a"],
        "fields": {}})
    assert response.status_code == 422
    assert {"persons[1].gender", "persons[2]"} <= set(response.get_json()["errors"])
    response = rektor.post(f"/api/v1/cases/{case_id}/related-cases", json={
        "type": "pupil_injury", "persons": [9], "fields": {}})
    assert {"persons[0]", "fields.injury_kind", "fields.body_part"} == set(response.get_json()["errors"])


def test_links_between_visible_cases(api, rektor, staff, case_id):
    other_id = staff.file(incident_body(type="fire", fields={"fire_kind": "fire"})).get_json()["cases"][0]["id"]
    created = rektor.post(f"/api/v1/cases/{case_id}/links", json={"case": other_id})
    assert created.status_code == 201 and created.get_json()["id"] == other_id
    assert rektor.post(f"/api/v1/cases/{case_id}/links", json={"case": other_id}).status_code == 409
    assert [r["relation"] for r in rektor.get(f"/api/v1/cases/{other_id}/related-cases").get_json()["items"]] == [
        "linked"]
    hidden_id = api.as_roles(("reporter", "S2")).file(incident_body(org_unit="S2")).get_json()["cases"][0]["id"]
    assert rektor.post(f"/api/v1/cases/{case_id}/links", json={"case": hidden_id}).status_code == 404
    assert send(rektor, "DELETE", f"/api/v1/cases/{other_id}/links/{case_id}").status_code == 204
    assert send(rektor, "DELETE", f"/api/v1/cases/{other_id}/links/{case_id}").status_code == 404


# ---- attachments --------------------------------------------------------------------------------

def test_upload_list_and_download(rektor, case_id, settings):
    response = upload(rektor, case_id, PDF, name="Polisanmälan åäö.pdf", content_type="image/png")
    assert response.status_code == 201
    attachment = response.get_json()
    assert attachment["content_type"] == "application/pdf"   # the content decides, not the declared type
    assert attachment["filename"] == "Polisanmälan åäö.pdf"
    assert rektor.get(f"/api/v1/cases/{case_id}/attachments").get_json()["items"] == [attachment]
    assert (settings.instance_path / "attachments" / attachment["sha256"][:2] / attachment["sha256"]).is_file()

    download = rektor.get(attachment["download"])
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Polisanm%C3%A4lan%20%C3%A5%C3%A4%C3%B6.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]


def test_a_text_file_downloads_with_its_stored_type_once(rektor, case_id):
    attachment = upload(rektor, case_id, "Klass 8B åäö\n".encode(), name="anteckning.txt",
                        content_type="text/plain").get_json()
    assert attachment["content_type"] == "text/plain; charset=utf-8"
    download = rektor.get(attachment["download"])
    assert download.status_code == 200 and download.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_program_renamed_pdf_is_refused_with_a_message(rektor, case_id):
    response = upload(rektor, case_id, EXE, name="intyg.pdf")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"]["file"][0].startswith("This kind of file is not accepted.")
    assert rektor.get(f"/api/v1/cases/{case_id}/attachments").get_json()["items"] == []
    missing = rektor.post(f"/api/v1/cases/{case_id}/attachments", content_type="multipart/form-data", data={})
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]


def test_a_file_larger_than_the_json_limit_is_accepted(rektor, case_id):
    big = PDF + b"%" + b"x" * (2 * 1024 * 1024)   # 2 MiB: over the 1 MiB JSON limit, under the 20 MiB one
    assert upload(rektor, case_id, big).status_code == 201


def test_the_same_file_twice_is_stored_once(rektor, staff, case_id, settings):
    second_case = staff.file(incident_body()).get_json()["cases"][0]["id"]
    first = upload(rektor, case_id, PDF).get_json()
    second = upload(rektor, second_case, PDF, name="kopia.pdf").get_json()
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert len([p for p in (settings.instance_path / "attachments").rglob("*") if p.is_file()]) == 1


@pytest.fixture
def small_limit_api(settings, session_factory, make):
    app = create_app(dataclasses.replace(settings, attachment_max_bytes=1000), session_factory=session_factory)
    app.config["TESTING"] = True
    return ApiClient(app.test_client(), make)


@pytest.mark.parametrize("size", [1001, 200_000], ids=["just over", "far over"])
def test_over_the_size_limit_is_413(small_limit_api, rektor_user, case_id, size):
    rektor = small_limit_api.as_user(rektor_user)
    response = upload(rektor, case_id, PDF + b"x" * (size - len(PDF)))
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert upload(rektor, case_id, PDF + b"x" * (1000 - len(PDF))).status_code == 201


def test_downloads_follow_the_access_rules_and_are_logged_for_sensitive_cases(api, rektor, rektor_user, staff, db):
    secret_id = staff.file(victimisation_body()).get_json()["cases"][0]["id"]
    attachment = upload(rektor, secret_id, PDF).get_json()
    skyddsombud = api.as_roles(("safety_rep", "S1"))
    assert skyddsombud.get(attachment["download"]).status_code == 404
    assert api.as_roles(("handler", "S2")).get(attachment["download"]).status_code == 404
    assert rektor.get(f"/api/v1/cases/{secret_id}/attachments/999999").status_code == 404
    assert rektor.get(attachment["download"]).status_code == 200
    logged = db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "download")).all()
    assert [(e.case_id, e.user_id) for e in logged] == [(secret_id, rektor_user.id)]


# ---- substitutes --------------------------------------------------------------------------------

def test_substitutes_set_listed_and_ended(api, rektor, staff):
    deputy = api.make.user(("handler", "GRU"), name="Biträdande Bo")
    now = utcnow().astimezone(TZ)
    response = rektor.post("/api/v1/substitutes", json={
        "substitute": deputy.id, "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=7)).isoformat()})
    assert response.status_code == 201
    entry = response.get_json()
    assert entry["substitute"]["name"] == "Biträdande Bo" and entry["user"]["name"] == "Rektor Rut"
    assert rektor.get("/api/v1/substitutes").get_json()["items"] == [entry]
    assert staff.file(incident_body()).get_json()["cases"][0]["id"]   # routed while the period lasts …
    assert api.as_user(deputy).get("/api/v1/cases?assigned=me").get_json()["items"][0]["assignee"]["id"] == deputy.id
    assert send(rektor, "DELETE", f"/api/v1/substitutes/{entry['id']}").status_code == 204
    assert rektor.get("/api/v1/substitutes").get_json()["items"] == []


def test_substitute_errors(api, rektor):
    other_school = api.make.user(("handler", "S2"))
    now = utcnow()
    response = rektor.post("/api/v1/substitutes", json={
        "substitute": other_school.id, "starts_at": (now + timedelta(days=2)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"substitute", "ends_at"}
    assert api.as_roles(("reporter", "S1")).post("/api/v1/substitutes", json={
        "substitute": other_school.id, "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat()}).status_code == 403


def test_every_case_work_path_is_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/cases/{case_id}/assignment", "/cases/{case_id}/actions", "/cases/{case_id}/actions/{action_id}",
                 "/cases/{case_id}/comments", "/cases/{case_id}/attachments",
                 "/cases/{case_id}/attachments/{attachment_id}", "/cases/{case_id}/related-cases",
                 "/cases/{case_id}/links", "/cases/{case_id}/links/{other_id}", "/substitutes",
                 "/substitutes/{substitute_id}"):
        assert path in paths


def test_a_web_session_needs_the_csrf_token_for_non_json_writes(client, db, make, tree):
    """A cross-site form can post multipart with the session cookie; only the page's token makes it ours."""
    from kia.incidents.services import file_incident
    from tests.conftest import TZ
    from tests.incidents.test_filing import threat

    handler = make.user(("handler", "S1"))
    incident, _ = file_incident(db, make.actor(("reporter", "S1")), threat(), TZ)
    case_id = incident.cases[0].id
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = handler.get_id()
        flask_session["_fresh"] = True
        flask_session["csrf"] = "the-page-token"
    upload = {"file": (io.BytesIO(b"plain text notes\n"), "notes.txt")}
    url = f"/api/v1/cases/{case_id}/attachments"
    assert client.post(url, data=upload, content_type="multipart/form-data").status_code == 403
    upload = {"file": (io.BytesIO(b"plain text notes\n"), "notes.txt")}
    response = client.post(url, data=upload, content_type="multipart/form-data",
                           headers={"X-CSRF-Token": "the-page-token"})
    assert response.status_code == 201, response.get_json()
