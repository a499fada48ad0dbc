"""Property-based requests from the API's own OpenAPI document, sent over HTTP to the local stack.

schemathesis generates requests for every operation in ``GET /v1/openapi.json``, requests that fit
the schemas and requests that do not, sends them with a test key, and fails on any 5xx reply. Each
operation gets at most ``MAX_EXAMPLES`` requests per kind, and there is no stateful phase. Locally
each run draws new requests. With ``CI`` set, Hypothesis's ``ci`` profile makes every run the same.

The operations are run from one test through schemathesis' Python API, because its pytest fixture
loader (``schemathesis.pytest.from_fixture``) reads a private attribute that pytest 9 no longer has.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from cascade.domain.keys import ApiKey
from infra.local.stack import LocalStack

MAX_EXAMPLES = 25

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_api_never_returns_5xx(mode: GenerationMode, local_stack: LocalStack, test_key: tuple[ApiKey, str]) -> None:
    api_url = local_stack.endpoints.api_url
    schema = schemathesis.openapi.from_url(f"{api_url}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {test_key[1]}"}
    failures: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            failures.append(f"an operation of the OpenAPI document is invalid: {result.err()}")
    assert operations, "the OpenAPI document lists no operation"

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def send(case: Any) -> None:
            case.call_and_validate(base_url=api_url, headers=headers, checks=[not_a_server_error], timeout=60)

        try:
            send()
        # Every failing operation is reported, not only the first.
        except Exception as error:
            failures.append(f"{operation.label}: {error}")

    assert not failures, "\n\n".join(failures)
