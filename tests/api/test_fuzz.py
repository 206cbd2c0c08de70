"""Fuzzing: schemathesis over the whole OpenAPI document, in-process against the Flask app (WSGI).

Every operation, as a committee member and as a group leader, with ids of real objects of a fully
built network (so the requests reach the services, not only the 404 of an unknown id) and with the
ids the fuzzer makes up. Bounded (``MAX_EXAMPLES`` per operation, no deadline) so the whole run stays
well under four minutes. Each response must be no 5xx, and must match the document: status code,
content type, headers and the JSON schema of the body; and the other checks of `--checks all` (see CHECKS).
Everything written is rolled back.
"""
from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from tests.api.authz_world import COMMITTEE, LEADER, build_world
from tests.api.test_authz_matrix import MATRIX

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
# Every check of `schemathesis --checks all` but one: positive_data_acceptance ("a schema-valid request
# is accepted") flags the 422s of rules OpenAPI cannot say — a deadline in the past, an id of another
# network, registered-poor members above members, a wrong current password. Those answers are still
# checked: documented status, the error shape (response_schema_conformance), never a 5xx. The bounds
# OpenAPI can say are in the document (tests/api/test_api_document.py).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, missing_required_header, unsupported_method,
          allow_header_conformance, ignored_auth, use_after_free, ensure_resource_availability]
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module")
def api_schema(app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
          place_order):  # type: ignore[no-untyped-def]
    return build_world(db_session, make_network, make_group, make_user, token_for, make_round, make_offer,
                       place_order)


def real_ids(w: dict[str, Any], path: str) -> dict[str, Any]:
    rounds = {"/offers": "draft", "/open": "draft", "/close": "open", "/orders/": "open",
              "/purchase-orders": "done", "/invoices": "done", "/combine": "done", "/household-bills": "done"}
    round_key = next((key for part, key in rounds.items() if part in path), "open")
    return {"job_id": w["job"].id, "group_id": w["g1"].id, "purchase_order_id": w["po"].id,
            "invoice_id": w["invoice"].id, "listing_id": w["listing"].id, "purchase_id": w["purchase"].id,
            "month": w["month"], "round_id": w[round_key].id, "rfq_id": w["rfq"].id, "token": w["rfq_token"],
            "sheet_token": w["sheet_token"],
            "household_id": w["sheet_household" if path.startswith("/api/v1/sheets/") else "household"]["id"]}


MODES = [(COMMITTEE, "real"), (COMMITTEE, "generated"), (LEADER, "real"), (LEADER, "generated")]


# The authorization matrix's table is checked against the OpenAPI document, so this is every operation.
@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_no_5xx_and_every_response_matches_the_document(api_schema, world, token_for, db_session, operation):  # type: ignore[no-untyped-def]
    """Each generated case is sent four times: by a committee member and by a leader, with the path
    ids the fuzzer made up and with ids of real objects."""
    from flask import g

    method, path = operation
    api_operation = api_schema[path][method]

    @given(case=api_operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def fuzz(case):  # type: ignore[no-untyped-def]
        generated = dict(case.path_parameters or {})
        for role, ids in MODES:
            if not generated and ids == "real":
                continue
            values = real_ids(world, path) if ids == "real" else {}
            case.path_parameters = {name: values.get(name, value) for name, value in generated.items()}
            headers = dict(world["headers"][role])
            if path == "/api/v1/tokens/current":
                headers = token_for(world["users"][role])  # a token of its own: the role's keeps working
            # Answers are compressed when asked (test_offline_server); this WSGI transport would not
            # decode them, so ask for them as they are.
            headers["Accept-Encoding"] = "identity"
            for name in list(g):  # as each request of a real server, start with an empty g
                g.pop(name, None)
            try:
                response = case.call(headers=headers)
            except Exception as exc:
                # TESTING propagates what would be a 500; show the request that caused it.
                raise AssertionError(f"{role}: {case.as_curl_command(headers=headers)}: {exc!r}") from exc
            finally:
                db_session.rollback()  # as the end of a real request does
            TRIED[f"{method} {path}"] = TRIED.get(f"{method} {path}", 0) + 1
            case.validate_response(response, checks=CHECKS, headers=headers)
        case.path_parameters = generated

    fuzz()
    # A strategy that generated nothing would pass silently: this operation must have been called.
    assert TRIED.get(f"{method} {path}", 0) > 0, f"no fuzz case reached {method} {path}"


@pytest.fixture(scope="module", autouse=True)
def _report_fuzz_cases_tried():  # type: ignore[no-untyped-def]
    """Prints how many cases ran (pytest -s) once the module is done."""
    yield
    if TRIED:
        print(f"\nfuzz: {sum(TRIED.values())} cases over {len(TRIED)} operations")
