"""SQS sends in batches of ten, with the entries that SQS rejects sent again.

``SendMessageBatch`` takes at most ten entries, whose ids must be unique within the call, and can
succeed for some entries and fail for others. ``QueueSender.send`` numbers the entries of each call
0 to 9, sends the failed ones again with jittered backoff, and raises ``QueueSendError`` for those
that still fail, so no message is dropped without an error.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from cascade.observability import get_logger
from cascade.storage.dynamo import StorageError, error_code

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SqsClientFactory = Callable[[], "SQSClient"]

MAX_BATCH = 10
_SEND_ATTEMPTS = 5
_BACKOFF_BASE_SECONDS = 0.05
_BACKOFF_CAP_SECONDS = 2.0


class QueueSendError(StorageError):
    """Some messages were not accepted by SQS after every attempt."""


def sqs_client_factory(*, endpoint_url: str | None = None) -> SqsClientFactory:
    """Return a factory that builds one SQS client on its first call and returns it afterwards."""
    lock = threading.Lock()
    built: list[SQSClient] = []

    def factory() -> SQSClient:
        with lock:
            if not built:
                import boto3  # noqa: PLC0415 - boto3 costs about 100 ms to import; only the first client pays it
                from botocore.config import Config  # noqa: PLC0415

                config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
                built.append(boto3.client("sqs", endpoint_url=endpoint_url, config=config))
            return built[0]

    return factory


class QueueSender:
    """Sends messages to one queue. ``queue_url`` is resolved on first use, so an unset URL fails only then."""

    def __init__(
        self,
        client_factory: SqsClientFactory,
        queue_url: str | None,
        *,
        setting: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._factory = client_factory
        self._queue_url = queue_url
        self._setting = setting
        self._sleep = sleep

    @property
    def queue_url(self) -> str:
        if not self._queue_url:
            raise ValueError(f"{self._setting} is not set; set it to the URL of the queue")
        return self._queue_url

    def send(self, bodies: Iterable[str], *, delay_seconds: int = 0) -> int:
        """Send every body as one message, ten per call; return how many were sent.

        Raises ``QueueSendError`` when SQS keeps rejecting an entry, and ``StorageError`` when a call fails.
        """
        sent = 0
        batch: list[str] = []
        for body in bodies:
            batch.append(body)
            if len(batch) == MAX_BATCH:
                sent += self._send_batch(batch, delay_seconds)
                batch = []
        if batch:
            sent += self._send_batch(batch, delay_seconds)
        return sent

    def _send_batch(self, bodies: Sequence[str], delay_seconds: int) -> int:
        queue_url = self.queue_url
        client = self._factory()
        pending = {str(index): body for index, body in enumerate(bodies)}
        for attempt in range(_SEND_ATTEMPTS):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": entry_id, "MessageBody": body, "DelaySeconds": delay_seconds}
                for entry_id, body in pending.items()
            ]
            try:
                reply = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            except client.exceptions.ClientError as error:
                code = error_code(error)
                raise StorageError(f"sending {len(entries)} messages failed with {code}", code=code) from error
            failed = reply.get("Failed", [])
            # An entry that failed through the sender's fault (SenderFault) fails again, so it is not retried.
            lasting = [entry for entry in failed if entry.get("SenderFault")]
            if lasting:
                codes = ", ".join(sorted({entry.get("Code", "?") for entry in lasting}))
                raise QueueSendError(f"SQS rejected {len(lasting)} messages: {codes}", code=lasting[0].get("Code", ""))
            pending = {entry["Id"]: pending[entry["Id"]] for entry in failed}
            if not pending:
                return len(bodies)
            delay = random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311
            get_logger().warning("queue send retry", failed=len(pending), attempt=attempt + 1)
            self._sleep(delay)
        raise QueueSendError(
            f"SQS did not accept {len(pending)} of {len(bodies)} messages after {_SEND_ATTEMPTS} attempts",
            code="SendFailed",
        )
