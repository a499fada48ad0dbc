"""The local stack's buckets and queues, created in moto from ``cascade.storage.schema`` as the CDK app does.

Every bucket of ``BUCKETS`` gets the name its settings field gives (``files_bucket`` ...). Every queue of
``QUEUES`` gets a dead-letter queue and a redrive policy with the spec's ``max_receive_count``, and the
spec's visibility timeout. The files bucket keeps versions and sends ObjectCreated events under
``uploads/`` to the ingest queue; moto 5.2 delivers those events to SQS itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cascade.storage.schema import BUCKETS, FILES, INGEST, QUEUES, UPLOADS_PREFIX, QueueSpec
from infra.bulk_consumers import queue_url_variable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from cascade.settings import Settings

# Queue names in moto. On AWS, CloudFormation generates them.
QUEUE_NAME_PREFIX = "cascade-"
DEAD_LETTER_SUFFIX = "-dlq"
# SQS's maximum retention, as the CDK app gives the dead-letter queues.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class LocalQueue:
    """A queue created in moto and its dead-letter queue."""

    spec: QueueSpec
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


def bucket_names(settings: Settings) -> dict[str, str]:
    """Map each bucket's logical name in ``schema.BUCKETS`` to its physical name from ``settings``."""
    names: dict[str, str] = {}
    for spec in BUCKETS:
        physical = getattr(settings, f"{spec.logical_name}_bucket", None)
        if not isinstance(physical, str):
            raise ValueError(f"settings has no {spec.logical_name}_bucket field for the {spec.logical_name!r} bucket")
        names[spec.logical_name] = physical
    return names


def create_buckets(s3: S3Client, names: Mapping[str, str]) -> None:
    """Create every bucket of ``names`` (logical name to physical name); the files bucket keeps versions."""
    for logical_name, physical in names.items():
        s3.create_bucket(Bucket=physical)
        s3.put_public_access_block(
            Bucket=physical,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        if logical_name == FILES.logical_name:
            s3.put_bucket_versioning(Bucket=physical, VersioningConfiguration={"Status": "Enabled"})


def create_queues(sqs: SQSClient) -> dict[str, LocalQueue]:
    """Create every queue of ``schema.QUEUES`` with its dead-letter queue, and map each logical name to it."""
    created: dict[str, LocalQueue] = {}
    for spec in QUEUES:
        name = f"{QUEUE_NAME_PREFIX}{spec.logical_name}"
        dead_letter_url = sqs.create_queue(
            QueueName=f"{name}{DEAD_LETTER_SUFFIX}",
            Attributes={"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)},
        )["QueueUrl"]
        dead_letter_arn = _queue_arn(sqs, dead_letter_url)
        redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": spec.max_receive_count}
        url = sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(spec.visibility_timeout_seconds),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        created[spec.logical_name] = LocalQueue(
            spec=spec,
            url=url,
            arn=_queue_arn(sqs, url),
            dead_letter_url=dead_letter_url,
            dead_letter_arn=dead_letter_arn,
        )
    return created


def notify_ingest_queue(s3: S3Client, bucket: str, queues: Mapping[str, LocalQueue]) -> None:
    """Send the bucket's ObjectCreated events under ``uploads/`` to the ingest queue.

    S3 sends an ``s3:TestEvent`` message to the queue when the configuration is stored, as on AWS.
    """
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "uploads-to-ingest",
                    "QueueArn": queues[INGEST.logical_name].arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOADS_PREFIX}]}},
                }
            ]
        },
    )


def queue_environment(queues: Mapping[str, LocalQueue]) -> dict[str, str | None]:
    """Return the ``CASCADE_<NAME>_QUEUE_URL`` variables of the created queues."""
    return {queue_url_variable(queue.spec): queue.url for queue in queues.values()}


def _queue_arn(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return attributes["QueueArn"]
