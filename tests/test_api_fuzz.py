"""The REST API fuzzed with Schemathesis against its own OpenAPI document: every operation, with data generated from
its schema (valid and invalid), must answer without a server error, with a documented status code, a declared content
type and a body that matches its schema. The caller holds a token with every function and the sign-off role, against
a server with a review awaiting decisions, a finalised one and executed contracts with obligations."""

from __future__ import annotations

import pytest
import schemathesis
from conftest import SAMPLES
from hypothesis import HealthCheck, settings
from schemathesis import checks
from test_api import RENEWING
from test_review_cli import cli

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


def _server(tmp_path_factory):
    from datetime import datetime, timezone

    from agents.schema import Decision
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService
    from web_app.accounts import Accounts
    from web_app.server import create_app

    data = tmp_path_factory.mktemp("fuzz")
    config = ReviewConfig.from_env(data, "local")
    service = ReviewService(config)
    service.start(SAMPLES / "supply_ferrotech.docx", data / "out")
    done = service.start(SAMPLES / "nda_bluepeak.docx", data / "out")
    service.decide(done.thread_id, [Decision(suggestion_id=s.id, action="approve", reviewer="fuzz",
                                             decided_at=datetime.now(timezone.utc)) for s in done.redlines.suggestions])
    service.finalise(done.thread_id, "fuzz")
    folder = data / "executed"
    folder.mkdir()
    (folder / "orion.txt").write_text(RENEWING, encoding="utf-8")
    cli("import", str(folder), "--workers", "1", data_dir=data)
    accounts = Accounts(config.audit_store)
    accounts.add_user("fuzz", "a long enough password 1", ["legal", "security", "finance", "procurement"],
                      ["sign-off", "all-contracts"])
    return create_app(config, service), accounts.issue_api_token("fuzz", by="test")


_state: dict = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not _state:
        _state["app"], _state["token"] = _server(tmp_path_factory)
    return _state


# an operation whose only input is a free-form path parameter: there is no invalid input to generate
NOTHING_INVALID = {("GET /reviews/{thread_id}", "negative")}
# intake runs a review per valid example (a second or two each): fewer of those
EXAMPLES = {"POST /intake": 6}


def _operations():
    """Every operation of the API, by its label (test_the_fuzzed_operations_are_every_operation keeps it complete)."""
    return ["GET /reviews", "GET /reviews/{thread_id}", "POST /reviews/{thread_id}/decisions",
            "POST /reviews/{thread_id}/sign-off", "GET /reviews/{thread_id}/outputs/{kind}", "POST /intake",
            "GET /renewals", "GET /obligations", "POST /obligations/{obligation_id}/mark", "GET /search"]


def test_the_fuzzed_operations_are_every_operation(served):
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", served["app"])
    assert sorted(r.ok().label for r in loaded.get_all_operations()) == sorted(_operations())


@pytest.mark.parametrize("label, mode", [(label, mode) for label in _operations() for mode in ("positive", "negative")
                                         if (label, mode) not in NOTHING_INVALID])
def test_every_operation_answers_within_its_schema(served, label, mode):
    from hypothesis import given
    from schemathesis.generation import GenerationMode

    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", served["app"])
    operation = loaded.find_operation_by_label(label)
    headers = {"Authorization": f"Bearer {served['token']}"}

    @given(case=operation.as_strategy(GenerationMode(mode)))
    @settings(max_examples=EXAMPLES.get(label, 15), deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()




def test_stateful_sequences_along_the_documented_links(served):
    """Intake or the review list, then the review, its decisions and its sign-off with the thread id each answer
    gave (the OpenAPI links): no server error and no schema violation anywhere along the way."""
    from hypothesis.stateful import run_state_machine_as_test

    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", served["app"])
    machine = loaded.as_state_machine()
    headers = {"Authorization": f"Bearer {served['token']}"}

    class Machine(machine):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(Machine, settings=settings(max_examples=20, stateful_step_count=6, deadline=None,
                                                         suppress_health_check=list(HealthCheck), database=None))
