"""Webhook events of bulk jobs, queued on the WEBHOOKS queue for the webhook sender.

The message carries the whole payload that the customer receives (the event id, type, time and
the job without URLs), fixed when the event happens, so every delivery attempt sends the same
event id and body. It does not carry the URL or the signing secret: the sender reads both from the
job item when it delivers, so a secret never travels through the queue.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from cascade.bulk.jobs import JobRecord, WebhookEventType
from cascade.storage.queues import QueueSender

_EVENT_ID_HEX_DIGITS = 26


class WebhookMessage(BaseModel):
    """One WEBHOOKS queue message: the job it is about and the exact JSON payload to POST."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    job_id: str
    key_id: str
    type: WebhookEventType
    created_at: AwareDatetime
    payload: dict[str, Any]


def event_id_for(job_id: str, event_type: WebhookEventType, occurrence: str) -> str:
    """Return ``evt_`` and 26 hex digits, the same for every enqueue of one occurrence of an event.

    ``occurrence`` distinguishes repeated events of one type, such as two holds of the same job.
    """
    digest = hashlib.sha256(f"{job_id}\x1f{event_type.value}\x1f{occurrence}".encode()).hexdigest()
    return "evt_" + digest[:_EVENT_ID_HEX_DIGITS]


def webhook_message(
    record: JobRecord, event_type: WebhookEventType, *, now: datetime, occurrence: str
) -> WebhookMessage:
    """Build the message of one event; the payload's ``data`` is the job as ``GET /v1/jobs/{id}`` shows it."""
    event_id = event_id_for(record.job_id, event_type, occurrence)
    data = record.to_job().model_dump(mode="json", exclude={"results_url", "errors_url"})
    payload = {"id": event_id, "type": event_type.value, "created_at": now.isoformat(), "data": data}
    return WebhookMessage(
        event_id=event_id, job_id=record.job_id, key_id=record.key_id, type=event_type, created_at=now, payload=payload
    )


def enqueue_webhook(
    queue: QueueSender, record: JobRecord, event_type: WebhookEventType, *, now: datetime, occurrence: str = ""
) -> bool:
    """Queue the event when the job has a webhook URL; return whether a message was sent."""
    if record.webhook_url is None:
        return False
    message = webhook_message(record, event_type, now=now, occurrence=occurrence)
    queue.send([message.model_dump_json()])
    return True
