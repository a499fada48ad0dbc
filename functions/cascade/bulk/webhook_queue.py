"""Process a batch of webhook messages from the WEBHOOKS queue, with retries through SQS visibility.

Each message body is JSON with ``job_id``, ``event_id``, ``type`` and either ``payload`` (the event
object, serialised compactly in its own key order) or ``body`` (the exact JSON text), so every attempt
sends the same bytes. The URL comes from the message's ``url`` or, when it has none, from the job
item, and the signing secret always comes from the job item. A failed attempt sets the message's
visibility timeout to the backoff delay and reports the message as a batch item failure, so SQS
delivers it again after the delay. The attempt number is SQS's ``ApproximateReceiveCount``. After
``max_attempts`` attempts the message is dropped and the job records ``webhook_status=failed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ValidationError

from cascade.bulk.webhooks import backoff_seconds, deliver, load_webhook_target, record_webhook_status
from cascade.observability import get_logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

DELIVERED = "delivered"
FAILED = "failed"


class WebhookMessage(BaseModel):
    """One queued delivery; other keys of the message (such as ``key_id``) are ignored."""

    job_id: str
    event_id: str
    type: str
    url: str | None = None
    body: str | None = None
    payload: dict[str, Any] | None = None

    def body_text(self) -> str | None:
        if self.body is not None:
            return self.body
        if self.payload is not None:
            return json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False)
        return None


@dataclass(frozen=True, slots=True)
class WebhookSender:
    """What a batch needs: the clients, the jobs table, the queue URL and the retry policy.

    ``queue_url`` may be ``None``, in which case the URL is looked up from the record's queue ARN.
    """

    dynamodb: DynamoDBClient
    sqs: SQSClient
    http: httpx.Client
    jobs_table: str
    queue_url: str | None
    max_attempts: int
    first_retry_seconds: int
    allow_local: bool
    now: Callable[[], datetime]


def process_webhook_batch(event: Mapping[str, Any], sender: WebhookSender) -> dict[str, list[dict[str, str]]]:
    """Deliver each message of an SQS event once; return the ``batchItemFailures`` to retry."""
    failures: list[dict[str, str]] = []
    seen: set[str] = set()
    for record in event.get("Records", []):
        message_id = str(record.get("messageId", ""))
        if message_id in seen:
            continue
        seen.add(message_id)
        if not _process_record(record, sender):
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _process_record(record: Mapping[str, Any], sender: WebhookSender) -> bool:
    """Attempt one delivery; return ``False`` when the message must be received again."""
    logger = get_logger()
    message_id = str(record.get("messageId", ""))
    try:
        message = WebhookMessage.model_validate_json(record.get("body") or "")
    except ValidationError as error:
        # A malformed message never becomes valid, so it is dropped instead of retried.
        logger.error("webhook message is invalid and is dropped", extra={"message_id": message_id, "error": str(error)})
        return True
    attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    log_keys: dict[str, Any] = {
        "job_id": message.job_id,
        "event_id": message.event_id,
        "event_type": message.type,
        "attempt": attempt,
    }
    body = message.body_text()
    target = load_webhook_target(sender.dynamodb, sender.jobs_table, message.job_id)
    url = message.url or (target.url if target else None)
    if target is None or url is None or body is None:
        logger.error("webhook not sent because the job or message has no secret, URL or body", extra=log_keys)
        return True
    log_keys["url_hash"] = hashlib.sha256(url.encode()).hexdigest()[:16]

    outcome = deliver(
        url,
        body,
        message.event_id,
        target.secret,
        client=sender.http,
        now=sender.now(),
        allow_local=sender.allow_local,
    )
    if outcome.delivered:
        logger.info("webhook delivered", extra={**log_keys, "status_code": outcome.status_code})
        record_webhook_status(
            sender.dynamodb, sender.jobs_table, message.job_id, status=DELIVERED, attempts=attempt, now=sender.now()
        )
        return True

    failure_keys = {**log_keys, "status_code": outcome.status_code, "error": outcome.error}
    if attempt >= sender.max_attempts:
        logger.error("webhook delivery abandoned after the last attempt", extra=failure_keys)
        record_webhook_status(
            sender.dynamodb, sender.jobs_table, message.job_id, status=FAILED, attempts=attempt, now=sender.now()
        )
        return True

    delay = backoff_seconds(attempt, sender.first_retry_seconds)
    logger.warning("webhook delivery failed and will be retried", extra={**failure_keys, "retry_in_seconds": delay})
    _delay_retry(record, sender, delay)
    return False


def _delay_retry(record: Mapping[str, Any], sender: WebhookSender, delay: int) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - botocore is imported only when AWS is called

    try:
        queue_url = sender.queue_url or _queue_url(sender.sqs, str(record.get("eventSourceARN", "")))
        sender.sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=str(record["receiptHandle"]), VisibilityTimeout=delay
        )
    except (ClientError, ValueError) as error:
        # The message still comes back, after the queue's own visibility timeout instead of the backoff.
        get_logger().warning(
            "webhook retry delay not set",
            extra={"message_id": record.get("messageId"), "error": type(error).__name__, "detail": str(error)},
        )


def _queue_url(sqs: SQSClient, queue_arn: str) -> str:
    """Look up a queue's URL from its ARN ``arn:aws:sqs:<region>:<account>:<name>``."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"eventSourceARN {queue_arn!r} is not an SQS queue ARN")
    return sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
