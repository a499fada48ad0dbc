"""The local stack's SQS event source mappings: queue messages in, Lambda handlers called in this process.

``EventPump`` runs one poller thread per queue. A poller long-polls its queue with a short wait, so that
``stop()`` returns promptly. It turns each received batch into an SQS Lambda event shaped like the
samples in ``events/sqs/`` and hands it to a pool of ``max_concurrency`` threads that call the handler. As a
Lambda event source mapping with ``ReportBatchItemFailures`` does, it then deletes every message of the
batch except those listed in ``batchItemFailures``. When the handler raises, it deletes none. A message
left undeleted comes back after its visibility timeout and, after ``maxReceiveCount`` receives, moves to
the queue's dead-letter queue by the queue's redrive policy.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.local.gateway import local_lambda_context

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# SQS caps a long poll at 20 s; a short one lets stop() return within about this many seconds.
DEFAULT_WAIT_SECONDS = 1
_STOP_TIMEOUT_SECONDS = 60.0
# After a failed ReceiveMessage call, the poller waits this long before it tries again.
_RECEIVE_RETRY_SECONDS = 0.5
_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueBinding:
    """One event source mapping: a queue, the handler that consumes it, and how many batches run at once."""

    function_name: str
    queue_url: str
    queue_arn: str
    handler: LambdaHandler
    batch_size: int
    timeout_seconds: int
    max_concurrency: int = 1


def sqs_event(messages: Sequence[MessageTypeDef], *, queue_arn: str, region: str) -> dict[str, Any]:
    """Build the Lambda event that an SQS event source mapping sends for ``messages``."""
    records = []
    for message in messages:
        body = message.get("Body", "")
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": {name: str(value) for name, value in message.get("Attributes", {}).items()},
                "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode("utf-8")).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_message_ids(result: Any, message_ids: Sequence[str]) -> set[str]:
    """Return the ids of the messages to keep, from a handler's ``batchItemFailures`` reply.

    As Lambda treats them, a reply that is not an object, or a failure entry without a known
    ``itemIdentifier``, fails the whole batch. A reply without ``batchItemFailures`` fails nothing.
    """
    if result is None:
        return set()
    if not isinstance(result, Mapping):
        return set(message_ids)
    failures = result.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return set(message_ids)
    kept: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if identifier not in message_ids:
            return set(message_ids)
        kept.add(str(identifier))
    return kept


class EventPump:
    """Pollers that feed each bound queue's messages to its handler until ``stop()``.

    ``client_factory`` builds an SQS client for each poller thread, which its handler threads share to
    delete messages.
    ``account_id`` and ``region`` name the functions in the Lambda context.
    """

    def __init__(
        self,
        client_factory: Callable[[], SQSClient],
        bindings: Sequence[QueueBinding],
        *,
        region: str,
        account_id: str,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self._client_factory = client_factory
        self._bindings = tuple(bindings)
        self._region = region
        self._account_id = account_id
        self._wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pools: list[ThreadPoolExecutor] = []
        self._batches_lock = threading.Lock()
        self._batches_in_flight = 0

    @property
    def busy(self) -> bool:
        """Whether a handler is running now; the queues may still contain messages when it is not."""
        with self._batches_lock:
            return self._batches_in_flight > 0

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the event pump is already running; call stop() first")
        self._stop.clear()
        for binding in self._bindings:
            pool = ThreadPoolExecutor(max_workers=binding.max_concurrency, thread_name_prefix=binding.function_name)
            self._pools.append(pool)
            thread = threading.Thread(
                target=self._poll, args=(binding, pool), name=f"{binding.function_name}-poller", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Stop polling, wait for the running handlers to return and release the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=_STOP_TIMEOUT_SECONDS)
            if thread.is_alive():
                _logger.warning("poller did not stop in time", extra={"thread": thread.name})
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)
        self._threads.clear()
        self._pools.clear()

    def _poll(self, binding: QueueBinding, pool: ThreadPoolExecutor) -> None:
        client = self._client_factory()
        # One permit per batch in flight: the poller receives a batch only when a handler thread is free, so no
        # more than max_concurrency invocations run at once and no received batch waits for a thread.
        permits = threading.Semaphore(binding.max_concurrency)
        while not self._stop.is_set():
            if not permits.acquire(timeout=self._wait_seconds):
                continue
            try:
                messages = self._receive(client, binding)
            except Exception:
                permits.release()
                _logger.exception("receive failed", extra={"queue_url": binding.queue_url})
                self._stop.wait(_RECEIVE_RETRY_SECONDS)
                continue
            if not messages:
                permits.release()
                continue
            with self._batches_lock:
                self._batches_in_flight += 1
            try:
                pool.submit(self._invoke, binding, client, messages, permits)
            except RuntimeError:
                # The pool shut down between the receive and the submit; the messages come back later.
                self._finish_batch(permits)
                return

    def _receive(self, client: SQSClient, binding: QueueBinding) -> list[MessageTypeDef]:
        response = client.receive_message(
            QueueUrl=binding.queue_url,
            MaxNumberOfMessages=binding.batch_size,
            WaitTimeSeconds=self._wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _invoke(
        self,
        binding: QueueBinding,
        client: SQSClient,
        messages: list[MessageTypeDef],
        permits: threading.Semaphore,
    ) -> None:
        try:
            event = sqs_event(messages, queue_arn=binding.queue_arn, region=self._region)
            message_ids = [message["MessageId"] for message in messages]
            context = local_lambda_context(
                binding.function_name, binding.timeout_seconds, self._region, self._account_id
            )
            started = time.monotonic()
            try:
                result = binding.handler(event, context)
            except Exception:
                _logger.exception(
                    "handler failed; the batch is delivered again",
                    extra={"function": binding.function_name, "messages": len(messages)},
                )
                return
            elapsed = time.monotonic() - started
            if elapsed > binding.timeout_seconds:
                _logger.warning(
                    "handler ran longer than its timeout",
                    extra={"function": binding.function_name, "seconds": round(elapsed, 1)},
                )
            kept = failed_message_ids(result, message_ids)
            done = [message for message in messages if message["MessageId"] not in kept]
            if kept:
                _logger.info(
                    "batch items failed; they are delivered again",
                    extra={"function": binding.function_name, "failed": len(kept)},
                )
            self._delete(client, binding, done)
        finally:
            self._finish_batch(permits)

    def _delete(self, client: SQSClient, binding: QueueBinding, messages: list[MessageTypeDef]) -> None:
        if not messages:
            return
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(messages)
        ]
        try:
            response = client.delete_message_batch(QueueUrl=binding.queue_url, Entries=entries)  # type: ignore[arg-type]
        except Exception:
            _logger.exception("delete failed; the messages are delivered again", extra={"queue_url": binding.queue_url})
            return
        for failure in response.get("Failed", []):
            _logger.warning(
                "delete failed; the message is delivered again",
                extra={"queue_url": binding.queue_url, "code": failure.get("Code")},
            )

    def _finish_batch(self, permits: threading.Semaphore) -> None:
        with self._batches_lock:
            self._batches_in_flight -= 1
        permits.release()


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Rename message attribute fields as the Lambda event spells them (``stringValue`` for ``StringValue``)."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return converted
