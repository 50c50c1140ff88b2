"""The JSON API under fuzzing: no request its OpenAPI schema allows, or breaks, gets a 5xx,
and every answer fits the schema documented for its status.

Schemathesis generates requests for every operation from /api/openapi.json, valid ones
and ones that break the schema, against the app in-process with an admin's token. Those
on a path that names a record are also sent to a real asset and incident, so they reach
past the 404.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.testclient import TestClient

from testament.accounts import users
from testament.store import Store
from testament.web.app import create_app
from tests import web_support as ws

pytestmark = pytest.mark.slow

EXAMPLES = 50  # per operation
FUZZING = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _token(store: Store) -> dict[str, str]:
    ws.make_user(store, "ana", "admin")
    with store.write() as session:
        secret = users.issue_token(session, users.find_user(session, "ana"), "fuzzing")
    return {"Authorization": f"Bearer {secret}"}


def _cases(operation, known: dict[str, object]) -> st.SearchStrategy:
    """Valid and invalid requests; on a path naming a record, also to one that exists."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    names = [parameter.name for parameter in operation.path_parameters]
    if names and all(name in known for name in names):
        pinned = {name: known[name] for name in names}
        strategies += [operation.as_strategy(mode, path_parameters=pinned) for mode in modes]
    return st.one_of(strategies)


def _fuzz(operation, known: dict[str, object], headers: dict[str, str]) -> tuple[int, list[str]]:
    """How many requests were sent to `operation`, and each that got a server error."""
    sent, errors = 0, []

    @FUZZING
    @given(case=_cases(operation, known))
    def run(case) -> None:
        nonlocal sent
        sent += 1
        try:
            response = case.call(headers=headers)
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )
        except FailureGroup as failed:
            errors.append(f"{operation.label} {case.path_parameters} {case.query}: {failed}")
        except Exception as exc:  # noqa: BLE001 - the app raised: a server error, recorded
            errors.append(f"{operation.label} {case.path_parameters} {case.query}: {exc!r}")

    run()
    return sent, errors


def test_no_request_gets_a_server_error(store: Store, tmp_path: Path) -> None:
    headers = _token(store)
    app = create_app(store, tile_url="")
    incident = TestClient(app).post(
        "/api/incidents", json={"title": "Fuzzed", "violations": ["torture"]}, headers=headers
    )
    assert incident.status_code == 201, incident.text
    known = {"sha256": ws.small_video(store, tmp_path), "incident_id": incident.json()["id"]}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    sent: Counter[str] = Counter()
    errors: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        sent[operation.label], found = _fuzz(operation, known, headers)
        errors += found
    assert len(sent) >= 15 and min(sent.values()) > 0, sent
    assert not errors, f"{len(errors)} of {sum(sent.values())} requests:\n" + "\n".join(errors)
