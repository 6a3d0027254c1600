"""schemathesis against /api/openapi.json of the real server: no 5xx, answers match their schemas.

An admin token (every permission), so generated requests reach the routes'
code; the home is this module's own.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.api.conftest import Api
from tests.integration.api.conftest import api as api  # this module's real server


def test_the_api_never_fails_with_a_5xx(api: Api) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=api.url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        call()
