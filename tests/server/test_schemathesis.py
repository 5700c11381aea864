"""Property-based tests from the server's own OpenAPI schema: no 5xx, answers match the schema.

Every operation of `/openapi.json` gets generated requests (valid and invalid) against a real
server on both backends; `call_and_validate` fails on a server error, an undocumented status,
a wrong content type or a body that does not match its documented schema. Hypothesis is driven
directly (schemathesis' pytest plugin does not load under this pytest), bounded per operation.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.server.conftest import LiveServer

EXAMPLES_PER_OPERATION = 15


def test_the_api_answers_every_generated_request_within_its_schema(
    live_server: LiveServer,
) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            # Refusing schema-valid input is allowed: the schema states lengths and shapes, the
            # store adds rules it cannot express (printable names, key characters, no NUL).
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - every operation is checked, then reported
            failures.append(f"{operation.label}: {exc}")
        checked += 1
    assert checked >= 20
    assert not failures, "\n\n".join(failures)
