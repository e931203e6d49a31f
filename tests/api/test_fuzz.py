"""API fuzzing (schemathesis): every operation of the OpenAPI document, called as each role with a token of every
scope and without a token, with examples that fit the document and examples that do not. No answer may be a 5xx,
and each must have a status code, a content type and a body that the document gives for that operation.

Bounded for CI: KIA_FUZZ_EXAMPLES examples per operation, role and mode (default 4; half as many that do not
fit), derandomized so that a run repeats the last; KIA_FUZZ_SEED=<n> explores other examples."""
from __future__ import annotations

import logging
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from api.openapi import build_spec
from tests.factories import incident_body, victimisation_body

log = logging.getLogger(__name__)

EXAMPLES = int(os.environ.get("KIA_FUZZ_EXAMPLES", "4"))
SEED = os.environ.get("KIA_FUZZ_SEED")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = {"reporter": "S1", "handler": "S1", "safety_rep": "S1", "safety_officer": "UTBF",
         "principal_org": "UTBF", "analyst": "STHLM", "admin": "STHLM"}


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), "/api/v1" + path) for path, operations in build_spec()["paths"].items()
            for method in operations}


def test_every_api_route_is_in_the_document(app):
    # What is not documented is not fuzzed: a route of the URL map missing here would go unchecked.
    to_openapi = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
    routes = {(method, to_openapi.sub(r"{\1}", rule.rule)) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi.openapi_json"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented_operations()


@pytest.fixture
def known_ids(api, make, tree) -> dict[str, list[int]]:
    """Records for the path ids to hit besides random ones: a threat and a kränkning in S1, a threat in a förskola
    of another administration (outside every S1/UTBF role)."""
    reporter = api.as_roles(("reporter", "S1"), ("reporter", "F1"))
    filed = [reporter.file(incident_body()).get_json(), reporter.file(victimisation_body()).get_json(),
             reporter.file(incident_body(org_unit="F1")).get_json()]
    return {"incident_id": [i["id"] for i in filed], "case_id": [i["cases"][0]["id"] for i in filed]}


def strategy(operation, mode: GenerationMode, known_ids: dict[str, list[int]]):
    """The operation's examples, half of them with the path's ids of real records."""
    free = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters if p.name in known_ids]
    if not names:
        return free
    real = [operation.as_strategy(generation_mode=mode, path_parameters={name: known_ids[name][i] for name in names})
            for i in range(len(known_ids[names[0]]))]
    return st.one_of(free, *real)


def fuzz(operation, mode: GenerationMode, examples: int, headers: dict, known_ids) -> tuple[int, str | None]:
    """Run the examples; (how many ran, the first failure's report or None)."""
    ran = 0

    @given(case=strategy(operation, mode, known_ids))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        nonlocal ran
        ran += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:
        # Nothing of the operation can be made wrong (no parameters, no body): no negative examples.
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no {mode.value} examples"
    except (Exception, BaseExceptionGroup) as failure:   # schemathesis's FailureGroup is an exception group
        return ran, f"{operation.label} ({mode.value}): {failure}"
    return ran, None


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_operation_answers_as_documented(app, make, tree, known_ids, role):
    headers = {}
    if role != "anonymous":
        headers["Authorization"] = f"Bearer {make.token(make.user((role, ROLES[role])))}"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations, examples, failures = 0, 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, count in ((GenerationMode.POSITIVE, EXAMPLES), (GenerationMode.NEGATIVE, max(1, EXAMPLES // 2))):
            ran, failure = fuzz(operation, mode, count, headers, known_ids)
            examples += ran
            if failure:
                failures.append(failure)
    log.info("fuzzed %d operations with %d examples as %s", operations, examples, role)
    assert operations == len(documented_operations()) and examples >= operations * EXAMPLES
    assert failures == [], "\n\n".join(failures)
