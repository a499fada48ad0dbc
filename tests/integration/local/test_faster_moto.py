"""``faster_moto``'s caches on the local moto server: they keep moto's results and restore what they replace.

The waterfall definition's own behaviour under the caches (Retry, Catch, Wait) runs in
tests/integration/waterfall/test_moto_bridge.py, whose ``aws`` fixture includes a server with them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.backends import get_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sqs.models import Queue, SQSBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from cascade.waterfall.runner import PollingRunner
from infra.local.moto_bridge import (
    create_express_state_machine,
    create_lambda_functions,
    faster_moto,
    route_lambda_invocations,
    serve_moto,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"


def _client(service: str, endpoint_url: str | None) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def served() -> Iterator[str]:
    with faster_moto(), serve_moto() as endpoint_url:
        yield endpoint_url


def test_faster_moto_restores_what_it_replaced() -> None:
    replaced = [
        (DomainDispatcherApplication, "get_backend_for_host"),
        (ExecutionWorker, "_get_evaluation_entrypoint"),
        (SQSBackend, "is_message_valid_based_on_retention_period"),
        (SQSBackend, "send_message"),
        (Queue, "approximate_number_of_messages"),
        (Queue, "approximate_number_of_messages_delayed"),
        (Queue, "approximate_number_of_messages_not_visible"),
        (lambda_eval_utils, "boto_client_for"),
        (json_path, "parse"),
    ]
    before = [owner.__dict__[name] for owner, name in replaced]
    with faster_moto():
        during = [owner.__dict__[name] for owner, name in replaced]
    after = [owner.__dict__[name] for owner, name in replaced]

    assert all(old is not new for old, new in zip(before, during, strict=True))
    assert after == before


def test_queue_counts_are_exact_after_sends(served: str) -> None:
    sqs = _client("sqs", served)
    url = sqs.create_queue(QueueName=f"counts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "two"}, {"Id": "b", "MessageBody": "three"}]
    )

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert len(received) == 1
    assert attributes["ApproximateNumberOfMessages"] == "2"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "0"


def _receive_after_expiry() -> list[list[str]]:
    """Send an old and a new message, age the old one past the queue's retention, and receive twice."""
    sqs = _client("sqs", None)
    url = sqs.create_queue(QueueName="retention", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.send_message(QueueUrl=url, MessageBody="new")
    queue = get_backend("sqs")[ACCOUNT][REGION].get_queue("retention")
    old: Any = next(message for message in queue._messages if message.body == "old")
    old.sent_timestamp -= 120_000
    return [
        [message["Body"] for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
        for _ in range(2)
    ]


def test_expired_message_handled_as_moto_does() -> None:
    with mock_aws():
        plain = _receive_after_expiry()
    with mock_aws(), faster_moto():
        cached = _receive_after_expiry()

    # moto stops a receive at the first expired message it meets, so "new" comes with the next one.
    assert cached == plain == [[], ["new"]]


def test_concurrent_definitions_keep_own_states(served: str) -> None:
    """The parse-tree cache is keyed by definition text, and each execution gets its own components."""

    def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
        time.sleep(0.05)
        return {"seen": event["value"]}

    lambda_client, iam = _client("lambda", served), _client("iam", served)
    sfn = _client("stepfunctions", served)
    arns = create_lambda_functions(lambda_client, iam, {"echo": "tests.echo.handler"})

    def machine(label: str) -> str:
        definition = {
            "StartAt": "Call",
            "States": {
                "Call": {"Type": "Task", "Resource": arns["echo"], "ResultPath": "$.result", "Next": "Label"},
                "Label": {"Type": "Pass", "Result": label, "ResultPath": "$.label", "End": True},
            },
        }
        return create_express_state_machine(
            sfn, iam, name=f"{label}-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition)
        )

    machines = {"first": machine("first"), "second": machine("second")}

    def run(label: str, value: int) -> dict[str, Any]:
        runner = PollingRunner(lambda: _client("stepfunctions", served), machines[label], timeout_seconds=30)
        return runner.run({"value": value}, name=f"{label}-{value}-{uuid.uuid4().hex[:6]}")

    jobs = [(label, value) for value in range(6) for label in machines]
    with route_lambda_invocations({"echo": echo}), ThreadPoolExecutor(max_workers=6) as pool:
        outputs = list(pool.map(lambda job: run(*job), jobs))

    assert outputs == [{"value": value, "result": {"seen": value}, "label": label} for label, value in jobs]
