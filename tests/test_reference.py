"""The reference data each process keeps (kia.reference): a change made anywhere is seen by the next transaction, a
rolled-back one is not, and the kept objects stay out of every session."""
from __future__ import annotations

from sqlalchemy import inspect, select, update

from kia.incidents.type_changes import change_incident_type
from kia.orgs.services import create_org_unit
from kia.reference import ReferenceVersion, reference_data
from kia.routing.models import RoutingRule
from tests.conftest import record_statements
from tests.factories import incident_body


def _token(db) -> str:
    return db.scalar(select(ReferenceVersion.token))


def _reads(statements: list[str]) -> int:
    return sum(not s.startswith(("SAVEPOINT", "RELEASE")) for s in statements)   # not the test's transaction


def test_a_change_by_the_service_is_seen_by_the_next_transaction(db, session_factory, make, tree):
    admin = make.actor(("admin", "STHLM"))
    before = reference_data(db)
    assert before.types["fire"].name_sv == "Brand"
    change_incident_type(db, admin, "fire", {"name": {"sv": "Brand eller brandtillbud"}})   # commits
    other = session_factory()
    assert reference_data(other).types["fire"].name_sv == "Brand eller brandtillbud"
    assert reference_data(db).token != before.token
    assert before.types["fire"].name_sv == "Brand"   # what was handed out is never changed under its reader


def test_a_statement_of_its_own_moves_the_token_and_a_rollback_moves_it_back(db, connection):
    token = _token(db)
    rule_ids = [r.id for r in reference_data(db).routing_rules]
    savepoint = connection.begin_nested()
    db.execute(update(RoutingRule).where(RoutingRule.id == rule_ids[0]).values(active=False))
    assert _token(db) != token
    assert rule_ids[0] not in [r.id for r in reference_data(db).routing_rules]   # seen in the same transaction
    savepoint.rollback()
    db.expire_all()
    assert _token(db) == token
    assert [r.id for r in reference_data(db).routing_rules] == rule_ids


def test_a_new_unit_is_found_by_code_with_its_ancestors(db, tree):
    assert reference_data(db).active_unit_with_ancestors("NEWSCHOOL") == []
    create_org_unit(db, "NEWSCHOOL", "Nya skolan", "unit", tree["S1"])
    chain = reference_data(db).active_unit_with_ancestors("NEWSCHOOL")
    assert [u.code for u in chain][-2:] == [tree["S1"].code, "NEWSCHOOL"]
    assert [u.id for u in chain] == chain[-1].ancestor_ids


def test_the_token_is_read_once_a_transaction_and_nothing_else_while_it_holds(db, connection, request):
    reference_data(db)
    db.commit()
    statements = record_statements(connection, request)
    first = reference_data(db)
    reference_data(db)
    reference_data(db)
    assert _reads(statements) == 1
    db.commit()
    statements = record_statements(connection, request)
    assert reference_data(db) is first
    assert _reads(statements) == 1


def test_what_is_kept_is_in_no_session_after_a_filing(db, api, tree):
    client = api.as_roles(("reporter", "S1"))
    response = client.file(incident_body())
    assert response.status_code == 201, response.json
    data = reference_data(db)
    assert "threat_violence" in data.types and "S1" in data.unit_ids
    for kept in [*data.types.values(), *data.units.values(), *data.deadline_rules, *data.routing_rules]:
        assert inspect(kept).detached
