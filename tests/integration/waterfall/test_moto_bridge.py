"""The moto bridge, the generated waterfall definition running in moto's interpreter, and the runners.

The first tests are the canary: they fail when the moto internals that the bridge patches move.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend

from cascade.settings import Settings
from cascade.waterfall.errors import ProviderTransientError, WaterfallFailedError
from cascade.waterfall.runner import POLLING_TIMEOUT_ERROR, PollingRunner, SyncExpressRunner
from infra.local.moto_bridge import (
    LambdaHandler,
    create_express_state_machine,
    create_lambda_functions,
    faster_moto,
    moto_internal_problems,
    route_lambda_invocations,
    serve_moto,
)
from infra.waterfall_definition import build_definition, default_definition, render_definition

REGION = "eu-west-1"
FUNCTION_NAMES = {
    "PlanFunctionArn": "cascade-waterfall-plan",
    "StepFunctionArn": "cascade-waterfall-step",
    "RecordFailureFunctionArn": "cascade-waterfall-failure",
    "SettleFunctionArn": "cascade-waterfall-settle",
}
HANDLER_STRINGS = {
    "cascade-waterfall-plan": "cascade.handlers.waterfall_plan.handler",
    "cascade-waterfall-step": "cascade.handlers.waterfall_step.handler",
    "cascade-waterfall-failure": "cascade.handlers.waterfall_failure.handler",
    "cascade-waterfall-settle": "cascade.handlers.waterfall_settle.handler",
}
INPUT = {"request": {"first_name": "Ada", "last_name": "Lovelace"}, "context": {"sync": True}}
FOUND_EMAIL = {"address": "ada@analytical.example", "verdict": "valid", "provider": "prospeo"}


class FlakyVendorError(Exception):
    """Raised by a canary handler; its class name is the error name that Retry and Catch match."""


@dataclass(frozen=True)
class LocalAws:
    """boto3 clients for moto: in-process under mock_aws, or over HTTP when endpoint_url is set."""

    endpoint_url: str | None

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture
def in_process_aws() -> Iterator[LocalAws]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield LocalAws(endpoint_url=None)


@pytest.fixture(params=["in_process", "server", "server_with_caches"])
def aws(request: pytest.FixtureRequest) -> Iterator[LocalAws]:
    """moto in-process, over HTTP, and over HTTP with ``faster_moto``'s caches, as the local stack runs it."""
    if request.param == "in_process":
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield LocalAws(endpoint_url=None)
        return
    with contextlib.ExitStack() as stack:
        if request.param == "server_with_caches":
            stack.enter_context(faster_moto())
        yield LocalAws(endpoint_url=stack.enter_context(serve_moto(host="127.0.0.1", port=0)))


def _create_functions(aws: LocalAws, names: list[str]) -> dict[str, str]:
    return create_lambda_functions(
        aws.client("lambda"), aws.client("iam"), {name: f"tests.{name}.handler" for name in names}
    )


def _state_machine(aws: LocalAws, definition: dict[str, Any] | str) -> str:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    return create_express_state_machine(
        aws.client("stepfunctions"), aws.client("iam"), name=f"machine-{uuid.uuid4().hex[:8]}", definition=text
    )


def _runner(aws: LocalAws, state_machine_arn: str, *, timeout_seconds: float = 30) -> PollingRunner:
    return PollingRunner(lambda: aws.client("stepfunctions"), state_machine_arn, timeout_seconds=timeout_seconds)


def _entered_states(aws: LocalAws, execution_arn: str) -> list[str]:
    events = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]


def _only_execution(aws: LocalAws, state_machine_arn: str) -> str:
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=state_machine_arn)["executions"]
    assert len(executions) == 1
    execution_arn: str = executions[0]["executionArn"]
    return execution_arn


# Canary: the moto internals the bridge patches.


def test_moto_internals_unchanged() -> None:
    assert moto_internal_problems() == []


def test_route_restores_moto_invoke() -> None:
    before = (LambdaBackend.__dict__["invoke"], LambdaSimpleBackend.__dict__["invoke"])

    def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return event

    with route_lambda_invocations({"anything": echo}):
        assert LambdaBackend.__dict__["invoke"] is not before[0]
        assert LambdaSimpleBackend.__dict__["invoke"] is not before[1]
    assert (LambdaBackend.__dict__["invoke"], LambdaSimpleBackend.__dict__["invoke"]) == before


def test_bridge_retry_and_catch_on_class_name(in_process_aws: LocalAws) -> None:
    calls: list[str] = []

    def fetch(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append("fetch")
        return {**event, "fetched_by": context.function_name, "remaining_ms": context.get_remaining_time_in_millis()}

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append("flaky")
        raise FlakyVendorError("vendor returned HTTP 503")

    with route_lambda_invocations({"canary-fetch": fetch, "canary-flaky": flaky}):
        arns = _create_functions(in_process_aws, ["canary-fetch", "canary-flaky"])
        retry = {"ErrorEquals": ["FlakyVendorError"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0}
        catch = {"ErrorEquals": ["FlakyVendorError"], "ResultPath": "$.error", "Next": "Caught"}
        definition = {
            "StartAt": "Fetch",
            "States": {
                "Fetch": {"Type": "Task", "Resource": arns["canary-fetch"], "Next": "Flaky"},
                "Flaky": {
                    "Type": "Task",
                    "Resource": arns["canary-flaky"],
                    "Retry": [retry],
                    "Catch": [catch],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        }
        output = _runner(in_process_aws, _state_machine(in_process_aws, definition)).run({"n": 1}, name="canary")

    cause = json.loads(output["error"]["Cause"])
    assert calls == ["fetch", "flaky", "flaky", "flaky"]
    assert output["n"] == 1
    assert output["fetched_by"] == "canary-fetch"
    assert 0 < output["remaining_ms"] <= 30_000
    assert output["error"]["Error"] == "FlakyVendorError"
    assert cause["errorType"] == "FlakyVendorError"
    assert cause["errorMessage"] == "vendor returned HTTP 503"
    assert cause["stackTrace"]
    assert all(isinstance(line, str) for line in cause["stackTrace"])


def test_bridge_uncaught_error_fails_execution(in_process_aws: LocalAws) -> None:
    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise FlakyVendorError("vendor returned HTTP 500")

    with route_lambda_invocations({"canary-flaky": flaky}):
        arns = _create_functions(in_process_aws, ["canary-flaky"])
        definition = {
            "StartAt": "Flaky",
            "States": {"Flaky": {"Type": "Task", "Resource": arns["canary-flaky"], "End": True}},
        }
        runner = _runner(in_process_aws, _state_machine(in_process_aws, definition))
        with pytest.raises(WaterfallFailedError) as raised:
            runner.run({}, name="uncaught")

    assert raised.value.status == "FAILED"
    assert raised.value.error == "FlakyVendorError"
    assert "vendor returned HTTP 500" in (raised.value.cause or "")


def test_bridge_direct_invoke_reports_unhandled(in_process_aws: LocalAws) -> None:
    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise FlakyVendorError(f"no answer for {event['name']}")

    with route_lambda_invocations({"canary-flaky": flaky}):
        arns = _create_functions(in_process_aws, ["canary-flaky"])
        response = in_process_aws.client("lambda").invoke(FunctionName=arns["canary-flaky"], Payload=b'{"name": "Ada"}')

    payload = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "FlakyVendorError"
    assert payload["errorMessage"] == "no answer for Ada"
    assert isinstance(payload["stackTrace"], list)


def test_bridge_direct_invoke_returns_output(in_process_aws: LocalAws) -> None:
    def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": event, "function": context.function_name, "version": context.function_version}

    with route_lambda_invocations({"canary-echo": echo}):
        _create_functions(in_process_aws, ["canary-echo"])
        response = in_process_aws.client("lambda").invoke(FunctionName="canary-echo", Payload=b'{"a": 1}')

    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {
        "echo": {"a": 1},
        "function": "canary-echo",
        "version": "$LATEST",
    }


def test_bridge_unencodable_output_is_marshal_error(in_process_aws: LocalAws) -> None:
    def unencodable(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"when": datetime(2026, 1, 1, tzinfo=UTC)}

    with route_lambda_invocations({"canary-unencodable": unencodable}):
        _create_functions(in_process_aws, ["canary-unencodable"])
        response = in_process_aws.client("lambda").invoke(FunctionName="canary-unencodable", Payload=b"{}")

    payload = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.MarshalError"


# The generated definition in moto's interpreter, with stand-ins for the four waterfall handlers.


StepBehaviour = Callable[[str, dict[str, Any], int], dict[str, Any]]


class StubWaterfall:
    """Stand-ins for the plan, step, failure and settle handlers that follow the state-document contract."""

    def __init__(self, order: list[str], step: StepBehaviour) -> None:
        self.order = order
        self.step_behaviour = step
        self.steps: list[str] = []
        self.failures: list[dict[str, str]] = []

    def handlers(self) -> dict[str, LambdaHandler]:
        return {
            "cascade-waterfall-plan": self.plan,
            "cascade-waterfall-step": self.step,
            "cascade-waterfall-failure": self.record_failure,
            "cascade-waterfall-settle": self.settle,
        }

    def plan(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            **event,
            "plan": {"remaining": list(self.order), "next": self.order[0], "deadline_ms": 0, "waits": {}},
            "found": {"email": None, "phone": None},
            "attempts": [],
            "suppressed": False,
            "done": False,
            "wait_seconds": 0,
        }

    def step(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        provider = event["provider"]
        self.steps.append(provider)
        return self.step_behaviour(provider, event["state"], self.steps.count(provider))

    def record_failure(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = {key: value for key, value in event.items() if key != "error"}
        self.failures.append(event["error"])
        outcome = {"States.Timeout": "timeout", "ProviderThrottledError": "throttled"}.get(
            event["error"]["Error"], "transient_error"
        )
        attempts = [*state["attempts"], {"provider": state["plan"]["next"], "outcome": outcome}]
        # wait_seconds may still hold the delay that led to this attempt; clear it so Route does not wait again.
        return {**advance(state), "attempts": attempts, "wait_seconds": 0}

    def settle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "result": {"email": event["found"]["email"], "attempts": event["attempts"]},
            "providers_unavailable": False,
        }


def advance(state: dict[str, Any]) -> dict[str, Any]:
    plan = state["plan"]
    remaining = [name for name in plan["remaining"] if name != plan["next"]]
    return {**state, "plan": {**plan, "remaining": remaining, "next": remaining[0] if remaining else None}}


def _throttle_then_fail_then_find(provider: str, state: dict[str, Any], call: int) -> dict[str, Any]:
    if provider == "hunter" and call == 1:
        plan = {**state["plan"], "waits": {"hunter": 1}}
        return {**state, "plan": plan, "wait_seconds": 1}
    if provider == "hunter":
        raise ProviderTransientError("hunter returned HTTP 503")
    attempts = [*state["attempts"], {"provider": provider, "outcome": "found"}]
    found = {**state["found"], "email": FOUND_EMAIL}
    return {**advance(state), "found": found, "attempts": attempts, "done": True, "wait_seconds": 0}


def _deploy_waterfall(aws: LocalAws, definition: dict[str, Any]) -> str:
    arns = _create_functions(aws, list(HANDLER_STRINGS))
    placeholders = {placeholder: arns[name] for placeholder, name in FUNCTION_NAMES.items()}
    return _state_machine(aws, render_definition(definition, placeholders))


def test_generated_definition_runs_end_to_end(aws: LocalAws) -> None:
    waterfall = StubWaterfall(["hunter", "prospeo"], _throttle_then_fail_then_find)
    definition = default_definition(Settings(provider_connect_timeout_seconds=2.0, provider_read_timeout_seconds=8.0))

    with route_lambda_invocations(waterfall.handlers()):
        state_machine_arn = _deploy_waterfall(aws, definition)
        started = time.monotonic()
        output = _runner(aws, state_machine_arn).run(INPUT, name="end-to-end")
        elapsed = time.monotonic() - started

    assert output == {
        "result": {
            "email": FOUND_EMAIL,
            "attempts": [
                {"provider": "hunter", "outcome": "transient_error"},
                {"provider": "prospeo", "outcome": "found"},
            ],
        },
        "providers_unavailable": False,
    }
    # One call that requests a wait, then the first try and two retries that all raise, then prospeo.
    assert waterfall.steps == ["hunter", "hunter", "hunter", "hunter", "prospeo"]
    assert [failure["Error"] for failure in waterfall.failures] == ["ProviderTransientError"]
    assert json.loads(waterfall.failures[0]["Cause"])["errorMessage"] == "hunter returned HTTP 503"
    assert elapsed >= 1.0
    assert _entered_states(aws, _only_execution(aws, state_machine_arn)) == [
        "Plan",
        "Dispatch",
        "Provider_hunter",
        "Route",
        "WaitRetryAfter",
        "Dispatch",
        "Provider_hunter",
        "RecordFailure",
        "Route",
        "Dispatch",
        "Provider_prospeo",
        "Route",
        "Settle",
    ]


def test_generated_definition_settles_when_plan_empty(aws: LocalAws) -> None:
    waterfall = StubWaterfall(["hunter"], _throttle_then_fail_then_find)

    def plan_nothing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        planned = StubWaterfall.plan(waterfall, event, context)
        return {**planned, "plan": {**planned["plan"], "remaining": [], "next": None}}

    definition = default_definition(Settings(provider_connect_timeout_seconds=2.0, provider_read_timeout_seconds=8.0))
    with route_lambda_invocations({**waterfall.handlers(), "cascade-waterfall-plan": plan_nothing}):
        state_machine_arn = _deploy_waterfall(aws, definition)
        output = _runner(aws, state_machine_arn).run(INPUT, name="empty-plan")

    assert output == {"result": {"email": None, "attempts": []}, "providers_unavailable": False}
    assert waterfall.steps == []
    assert _entered_states(aws, _only_execution(aws, state_machine_arn)) == ["Plan", "Dispatch", "Settle"]


def test_generated_task_timeout_caught(in_process_aws: LocalAws) -> None:
    def slow(provider: str, state: dict[str, Any], call: int) -> dict[str, Any]:
        time.sleep(1.5)
        return state

    waterfall = StubWaterfall(["slowpoke"], slow)
    definition = build_definition(["slowpoke"], task_timeout_seconds={"slowpoke": 1})

    with route_lambda_invocations(waterfall.handlers()):
        state_machine_arn = _deploy_waterfall(in_process_aws, definition)
        output = _runner(in_process_aws, state_machine_arn).run(INPUT, name="timeout")

    assert [failure["Error"] for failure in waterfall.failures] == ["States.Timeout"]
    assert output["result"]["attempts"] == [{"provider": "slowpoke", "outcome": "timeout"}]
    assert waterfall.steps == ["slowpoke"]


# Runners.


def test_polling_runner_stops_slow_execution(in_process_aws: LocalAws) -> None:
    definition = {"StartAt": "Linger", "States": {"Linger": {"Type": "Wait", "Seconds": 30, "End": True}}}
    state_machine_arn = _state_machine(in_process_aws, definition)
    runner = _runner(in_process_aws, state_machine_arn, timeout_seconds=0.2)

    with pytest.raises(WaterfallFailedError) as raised:
        runner.run({}, name="slow")

    # moto records the stop when the execution's worker thread ends, shortly after StopExecution returns.
    client = in_process_aws.client("stepfunctions")
    status = "RUNNING"
    for _ in range(250):
        status = client.describe_execution(executionArn=raised.value.execution_arn)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.02)
    assert raised.value.status == "ABORTED"
    assert raised.value.error == POLLING_TIMEOUT_ERROR
    assert status == "ABORTED"


@pytest.mark.parametrize(("field", "value"), [("poll_interval", 0), ("timeout_seconds", -1)])
def test_polling_runner_rejects_invalid_timing(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        PollingRunner(lambda: pytest.fail("the client is built on first use"), "arn:x", **{field: value})


def _stubbed_sfn() -> Any:
    return boto3.client(
        "stepfunctions", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


SYNC_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:waterfall"
SYNC_EXECUTION_ARN = "arn:aws:states:eu-west-1:123456789012:express:waterfall:run-1:abc"


def _sync_response(status: str, **fields: str) -> dict[str, Any]:
    moment = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    return {"executionArn": SYNC_EXECUTION_ARN, "startDate": moment, "stopDate": moment, "status": status, **fields}


def test_sync_runner_returns_output() -> None:
    client = _stubbed_sfn()
    built: list[int] = []

    def factory() -> Any:
        built.append(1)
        return client

    expected_input = {"stateMachineArn": SYNC_ARN, "name": "run-1", "input": json.dumps(INPUT)}
    with Stubber(client) as stubber:
        stubber.add_response("start_sync_execution", _sync_response("SUCCEEDED", output='{"a": 1}'), expected_input)
        stubber.add_response("start_sync_execution", _sync_response("SUCCEEDED", output='{"a": 2}'), expected_input)
        runner = SyncExpressRunner(factory, SYNC_ARN)
        first = runner.run(INPUT, name="run-1")
        second = runner.run(INPUT, name="run-1")

    assert first == {"a": 1}
    assert second == {"a": 2}
    assert built == [1]


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT"])
def test_sync_runner_raises_on_failure(status: str) -> None:
    client = _stubbed_sfn()
    with Stubber(client) as stubber:
        stubber.add_response("start_sync_execution", _sync_response(status, error="States.Timeout", cause="too slow"))
        with pytest.raises(WaterfallFailedError) as raised:
            SyncExpressRunner(lambda: client, SYNC_ARN).run(INPUT, name="run-1")

    assert raised.value.status == status
    assert raised.value.error == "States.Timeout"
    assert raised.value.cause == "too slow"
    assert raised.value.execution_arn == SYNC_EXECUTION_ARN


def test_sync_runner_rejects_non_object_output() -> None:
    client = _stubbed_sfn()
    with Stubber(client) as stubber:
        stubber.add_response("start_sync_execution", _sync_response("SUCCEEDED", output="[1, 2]"))
        with pytest.raises(ValueError, match="not a JSON object"):
            SyncExpressRunner(lambda: client, SYNC_ARN).run(INPUT, name="run-1")
