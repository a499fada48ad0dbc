"""Webhook sender: SQS batches from the WEBHOOKS queue in, ``batchItemFailures`` out (ReportBatchItemFailures)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from cascade.bulk.webhook_queue import WebhookSender, process_webhook_batch
from cascade.bulk.webhooks import new_webhook_client
from cascade.observability import lambda_entry
from cascade.settings import Stage, get_settings
from cascade.storage.dynamo import client_factory


@functools.cache
def get_sender() -> WebhookSender:
    """Build the sender from the settings on first use; the clients live as long as the execution environment."""
    import boto3  # noqa: PLC0415 - boto3 is imported on the first invocation, not at import

    settings = get_settings()
    return WebhookSender(
        dynamodb=client_factory()(),
        sqs=boto3.client("sqs"),
        http=new_webhook_client(),
        jobs_table=settings.jobs_table,
        queue_url=settings.webhooks_queue_url,
        max_attempts=settings.webhook_max_attempts,
        first_retry_seconds=settings.webhook_first_retry_seconds,
        allow_local=settings.stage is Stage.LOCAL,
        now=lambda: datetime.now(UTC),
    )


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return process_webhook_batch(event, get_sender())
