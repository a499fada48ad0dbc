"""Webhook sender against a real HTTP receiver on 127.0.0.1, with the jobs table and queue in moto."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from cascade.bulk.webhook_queue import WebhookSender, process_webhook_batch
from cascade.bulk.webhooks import WebhookSignatureError, deliver, new_webhook_client, verify_signature
from cascade.storage.dynamo import create_tables
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

SECRET = "whsec_integration-secret"
JOB_ID = "job_" + "a" * 26
JOBS_TABLE = TEST_TABLE_NAMES["jobs"]


@dataclass
class Receiver:
    """Record each request and reply with the next status of ``statuses``, repeating the last one."""

    statuses: list[int]
    requests: list[dict[str, Any]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(statuses=[200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = dict(self.headers.items())
            state.requests.append({"path": self.path, "headers": headers, "body": body})
            try:
                verify_signature(SECRET, headers, body, now=datetime.now(UTC))
                state.verified.append(True)
            except WebhookSignatureError:
                state.verified.append(False)
            status = state.statuses[min(len(state.requests) - 1, len(state.statuses) - 1)]
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cascade"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Setup:
    sender: WebhookSender
    dynamodb: Any
    sqs: Any
    queue_url: str
    queue_arn: str


@pytest.fixture
def setup(aws: None) -> Iterator[Setup]:
    dynamodb = boto3.client("dynamodb", region_name=MOTO_REGION)
    sqs = boto3.client("sqs", region_name=MOTO_REGION)
    create_tables(dynamodb, TEST_TABLE_NAMES)
    dynamodb.put_item(
        TableName=JOBS_TABLE,
        Item={"pk": {"S": JOB_ID}, "key_id": {"S": "key_1"}, "webhook_secret": {"S": SECRET}},
    )
    queue_url = sqs.create_queue(QueueName="test-webhooks", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    http = new_webhook_client()
    sender = WebhookSender(
        dynamodb=dynamodb,
        sqs=sqs,
        http=http,
        jobs_table=JOBS_TABLE,
        queue_url=None,
        max_attempts=3,
        first_retry_seconds=10,
        allow_local=True,
        now=lambda: datetime.now(UTC),
    )
    yield Setup(sender=sender, dynamodb=dynamodb, sqs=sqs, queue_url=queue_url, queue_arn=queue_arn)
    http.close()


def _message(url: str, *, job_id: str = JOB_ID) -> str:
    body = json.dumps({"id": "evt_0001", "type": "job.completed", "created_at": "2026-03-01T12:00:00Z",
                       "data": {"id": job_id, "status": "completed"}})  # fmt: skip
    return json.dumps({"job_id": job_id, "event_id": "evt_0001", "url": url, "body": body, "type": "job.completed"})


def _receive_event(setup: Setup) -> dict[str, Any]:
    """Receive the queued message as Lambda's SQS event source would hand it over."""
    reply = setup.sqs.receive_message(
        QueueUrl=setup.queue_url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    )
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message["Attributes"],
            "eventSource": "aws:sqs",
            "eventSourceARN": setup.queue_arn,
        }
        for message in reply.get("Messages", [])
    ]
    return {"Records": records}


def _job(setup: Setup) -> dict[str, Any]:
    return setup.dynamodb.get_item(TableName=JOBS_TABLE, Key={"pk": {"S": JOB_ID}})["Item"]


def _make_visible(setup: Setup, event: dict[str, Any]) -> None:
    for record in event["Records"]:
        setup.sqs.change_message_visibility(
            QueueUrl=setup.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )


def test_retry_after_500_then_delivered(setup: Setup, receiver: Receiver) -> None:
    receiver.statuses = [500, 200]
    setup.sqs.send_message(QueueUrl=setup.queue_url, MessageBody=_message(receiver.url))

    first = _receive_event(setup)
    result = process_webhook_batch(first, setup.sender)
    assert result == {"batchItemFailures": [{"itemIdentifier": first["Records"][0]["messageId"]}]}
    # The backoff hid the message, so an immediate receive gets nothing.
    assert _receive_event(setup)["Records"] == []

    _make_visible(setup, first)
    second = _receive_event(setup)
    assert second["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert process_webhook_batch(second, setup.sender) == {"batchItemFailures": []}

    assert len(receiver.requests) == 2
    assert receiver.verified == [True, True]
    bodies = {request["body"] for request in receiver.requests}
    event_ids = {request["headers"]["Cascade-Event-Id"] for request in receiver.requests}
    assert len(bodies) == 1
    assert event_ids == {"evt_0001"}
    assert receiver.requests[0]["headers"]["Content-Type"] == "application/json"
    assert json.loads(receiver.requests[0]["body"])["type"] == "job.completed"
    job = _job(setup)
    assert job["webhook_status"] == {"S": "delivered"}
    assert job["webhook_attempts"] == {"N": "2"}


def test_gives_up_after_max_attempts(setup: Setup, receiver: Receiver) -> None:
    receiver.statuses = [503]
    setup.sqs.send_message(QueueUrl=setup.queue_url, MessageBody=_message(receiver.url))
    outcomes = []
    for _ in range(3):
        event = _receive_event(setup)
        outcomes.append(process_webhook_batch(event, setup.sender)["batchItemFailures"])
        _make_visible(setup, event)
    assert [len(failures) for failures in outcomes] == [1, 1, 0]
    assert len(receiver.requests) == 3
    assert _job(setup)["webhook_status"] == {"S": "failed"}


def test_redirect_not_followed(setup: Setup, receiver: Receiver) -> None:
    receiver.statuses = [302]
    outcome = deliver(
        receiver.url, "{}", "evt_9", SECRET, client=setup.sender.http, now=datetime.now(UTC), allow_local=True
    )
    assert outcome.delivered is False
    assert outcome.status_code == 302
    assert [request["path"] for request in receiver.requests] == ["/hooks/cascade"]


def test_connection_refused_is_a_failed_attempt(setup: Setup) -> None:
    outcome = deliver(
        "http://127.0.0.1:9/unused", "{}", "evt_9", SECRET, client=setup.sender.http, now=datetime.now(UTC),
        allow_local=True,
    )  # fmt: skip
    assert outcome.delivered is False
    assert outcome.status_code is None
    assert outcome.error is not None


def test_private_url_not_sent_on_aws(setup: Setup, receiver: Receiver) -> None:
    outcome = deliver(receiver.url, "{}", "evt_9", SECRET, client=setup.sender.http, now=datetime.now(UTC))
    assert outcome.delivered is False
    assert receiver.requests == []


def test_job_without_secret_dropped(setup: Setup, receiver: Receiver) -> None:
    setup.sqs.send_message(QueueUrl=setup.queue_url, MessageBody=_message(receiver.url, job_id="job_" + "b" * 26))
    assert process_webhook_batch(_receive_event(setup), setup.sender) == {"batchItemFailures": []}
    assert receiver.requests == []


def test_duplicate_record_in_batch_sent_once(setup: Setup, receiver: Receiver) -> None:
    setup.sqs.send_message(QueueUrl=setup.queue_url, MessageBody=_message(receiver.url))
    event = _receive_event(setup)
    event["Records"].append(dict(event["Records"][0]))
    assert process_webhook_batch(event, setup.sender) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1


def test_malformed_message_dropped(setup: Setup, receiver: Receiver) -> None:
    setup.sqs.send_message(QueueUrl=setup.queue_url, MessageBody='{"job_id": "x"}')
    assert process_webhook_batch(_receive_event(setup), setup.sender) == {"batchItemFailures": []}
    assert receiver.requests == []


def test_payload_message_uses_job_url(setup: Setup, receiver: Receiver) -> None:
    setup.dynamodb.update_item(
        TableName=JOBS_TABLE,
        Key={"pk": {"S": JOB_ID}},
        UpdateExpression="SET webhook_url = :url",
        ExpressionAttributeValues={":url": {"S": receiver.url}},
    )
    payload = {"id": "evt_0002", "type": "job.failed", "created_at": "2026-03-01T12:00:00+00:00",
               "data": {"id": JOB_ID, "status": "failed", "error": "the file is empty"}}  # fmt: skip
    message = {"event_id": "evt_0002", "job_id": JOB_ID, "key_id": "key_1", "type": "job.failed",
               "created_at": "2026-03-01T12:00:00+00:00", "payload": payload}  # fmt: skip
    setup.sqs.send_message(QueueUrl=setup.queue_url, MessageBody=json.dumps(message))
    assert process_webhook_batch(_receive_event(setup), setup.sender) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1
    assert receiver.verified == [True]
    assert json.loads(receiver.requests[0]["body"]) == payload
    assert receiver.requests[0]["headers"]["Cascade-Event-Id"] == "evt_0002"
