"""The function that consumes each bulk queue, defined once for the CDK app and the local stack's event pump.

This module imports neither CDK nor boto3, so the local stack can read it without loading either.
"""

from __future__ import annotations

from dataclasses import dataclass

from cascade.storage.schema import INGEST, ROWS, WEBHOOKS, QueueSpec

# The default number of worker invocations that run at once. Each one runs a waterfall per row, so this
# is the knob that keeps bulk traffic within the providers' rate limits. SQS event sources accept 2 to 1000.
DEFAULT_WORKER_MAX_CONCURRENCY = 5
MIN_MAX_CONCURRENCY = 2
MAX_MAX_CONCURRENCY = 1000


@dataclass(frozen=True, slots=True)
class QueueConsumer:
    """A queue, the Lambda handler that consumes it, and how: messages per invocation, timeout and memory.

    ``timeout_seconds`` stays below the queue's visibility timeout, so a message is not delivered again while
    the invocation that received it still runs.
    """

    queue: QueueSpec
    handler: str
    description: str
    batch_size: int
    timeout_seconds: int
    memory_mb: int

    def __post_init__(self) -> None:
        if self.timeout_seconds >= self.queue.visibility_timeout_seconds:
            raise ValueError(
                f"the {self.queue.logical_name} consumer's timeout of {self.timeout_seconds} s is not below the "
                f"queue's visibility timeout of {self.queue.visibility_timeout_seconds} s; lower the timeout"
            )


# An upload is a whole file, which may take Lambda's maximum of 900 s to read and queue.
INGEST_CONSUMER = QueueConsumer(
    queue=INGEST,
    handler="cascade.handlers.bulk_ingest.handler",
    description="Reads an uploaded bulk file and queues one message per row",
    batch_size=1,
    timeout_seconds=900,
    memory_mb=1024,
)
# A row runs one waterfall, so ten rows stay well within 300 s unless the providers are very slow.
WORKER_CONSUMER = QueueConsumer(
    queue=ROWS,
    handler="cascade.handlers.bulk_worker.handler",
    description="Enriches the rows of bulk jobs and writes the results files",
    batch_size=10,
    timeout_seconds=300,
    memory_mb=1024,
)
# A delivery is one HTTP POST with a 10 s limit.
WEBHOOK_CONSUMER = QueueConsumer(
    queue=WEBHOOKS,
    handler="cascade.handlers.bulk_webhook.handler",
    description="Sends signed webhooks about bulk jobs",
    batch_size=1,
    timeout_seconds=30,
    memory_mb=256,
)
CONSUMERS: tuple[QueueConsumer, ...] = (INGEST_CONSUMER, WORKER_CONSUMER, WEBHOOK_CONSUMER)


def queue_url_variable(spec: QueueSpec) -> str:
    """Return the settings variable that carries a queue's URL, such as ``CASCADE_ROWS_QUEUE_URL``."""
    return f"CASCADE_{spec.logical_name.upper()}_QUEUE_URL"


def bucket_variable(logical_name: str) -> str:
    """Return the settings variable that carries a bucket's name, such as ``CASCADE_FILES_BUCKET``."""
    return f"CASCADE_{logical_name.upper()}_BUCKET"
