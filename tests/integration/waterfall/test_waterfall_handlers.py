"""The four waterfall Lambda entry points, wrapped as on AWS, over injected fake providers.

They live in the integration tier because the Powertools tracer opens a UDP socket when it is built.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from cascade.domain.models import AttemptOutcome
from cascade.handlers import waterfall_failure, waterfall_plan, waterfall_settle, waterfall_step
from cascade.waterfall.dependencies import install_dependencies
from cascade.waterfall.errors import ProviderTransientError
from tests.conftest import LambdaContext
from tests.unit.waterfall.fakes import (
    FakeFinder,
    FakeRegistry,
    MemoryLedger,
    dependencies,
    email_result,
    outcome,
    start,
)


@pytest.fixture
def ledger() -> Iterator[MemoryLedger]:
    ledger = MemoryLedger()
    registry = FakeRegistry(
        [FakeFinder("hunter", [outcome(AttemptOutcome.TIMEOUT)]), FakeFinder("apollo", [email_result()])]
    )
    install_dependencies(dependencies(registry, ledger=ledger))
    yield ledger
    install_dependencies(None)


def test_handlers_run_whole_waterfall(ledger: MemoryLedger, lambda_context: LambdaContext) -> None:
    execution_input = json.loads(start(waterfall={"order": ["hunter", "apollo"]}).model_dump_json())
    state = waterfall_plan.handler(execution_input, lambda_context)
    assert state["plan"]["next"] == "hunter"

    with pytest.raises(ProviderTransientError):
        waterfall_step.handler({"provider": "hunter", "state": state}, lambda_context)
    caught = state | {"error": {"Error": "ProviderTransientError", "Cause": "{}"}}
    state = waterfall_failure.handler(caught, lambda_context)
    assert "error" not in state
    assert state["plan"]["next"] == "apollo"

    state = waterfall_step.handler({"provider": "apollo", "state": state}, lambda_context)
    assert state["done"] is True
    output = waterfall_settle.handler(state, lambda_context)
    assert set(output) == {"result", "providers_unavailable"}
    assert output["providers_unavailable"] is False
    assert output["result"]["status"] == "matched"
    assert output["result"]["billing"]["amount"] == "0.20"
    assert [attempt["outcome"] for attempt in output["result"]["attempts"]] == ["transient_error", "found"]
    assert len(ledger.lines) == 1
    assert json.loads(json.dumps(output)) == output


def test_plan_handler_rejects_unknown_key(ledger: MemoryLedger, lambda_context: LambdaContext) -> None:
    execution_input = json.loads(start().model_dump_json()) | {"plan": {}}
    with pytest.raises(ValueError, match="extra"):
        waterfall_plan.handler(execution_input, lambda_context)
