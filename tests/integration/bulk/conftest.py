"""Bulk jobs over moto (DynamoDB, S3, SQS), with the waterfall's own functions run in-process.

``InProcessRunner`` runs the real plan, provider step, failure and settle functions in the order the
state machine runs them, with scripted contact finders and the real ledger on moto, so charges and
usage counters are the real ones. ``BulkHarness`` plays the parts of AWS that moto does not: it turns
uploads into S3 notifications on the INGEST queue, and delivers queue messages to the handlers the
way the Lambda SQS poller does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import boto3
import pytest

from cascade.billing.caps import SpendCaps
from cascade.bulk.jobs import JobRecord, RowResult
from cascade.bulk.services import BulkServices, install_bulk_services
from cascade.domain.keys import KeyMode
from cascade.domain.models import AttemptOutcome, NormalisedPerson, RequestedField
from cascade.domain.plans import KeyPlan
from cascade.handlers import bulk_ingest, bulk_worker
from cascade.providers.base import ProviderResult
from cascade.settings import Settings
from cascade.storage.dynamo import create_tables
from cascade.storage.files import FileStore, s3_client_factory
from cascade.storage.jobs import JobRepository, JobRowRepository
from cascade.storage.keys import ApiKeyRepository
from cascade.storage.ledger import LedgerRepository
from cascade.storage.queues import QueueSender
from cascade.storage.usage import UsageRepository
from cascade.verification.mx import StaticMxResolver
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.errors import ProviderTransientError, WaterfallFailedError
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.settle import settle
from cascade.waterfall.state import WaterfallInput
from cascade.waterfall.step import record_failure, run_step
from infra.local.moto_serial import serialized_dynamodb
from tests.conftest import LambdaContext, load_event
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES
from tests.unit.waterfall.fakes import INFOS, MX, FakeRegistry, MemoryFreshness, MemorySuppressions, email_result

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
BUCKET = "test-files"
SHARDS = 2
# The people the scripted finder returns an email for: (first name, last name) of rows on example.com.
KNOWN = frozenset(
    {("Ada", "Quill"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Edsger", "Dijkstra"), ("Barbara", "Liskov")}
)


class WorkerCrash(BaseException):
    """Ends the worker invocation the way a killed Lambda would: nothing after it runs, nothing is reported."""


@dataclass
class DirectoryFinder:
    """A contact finder that finds ``first.last@domain`` for the people in ``KNOWN`` and no one else."""

    info: Any = field(default_factory=lambda: INFOS["hunter"])
    calls: int = 0

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        self.calls += 1
        if (person.first_name, person.last_name) in KNOWN and person.company_domain:
            address = f"{person.first_name}.{person.last_name}@{person.company_domain}".lower()
            return email_result(address)
        return ProviderResult(AttemptOutcome.NOT_FOUND, detail="no match")


class InProcessRunner:
    """A ``WaterfallRunner`` that runs the waterfall functions in-process, as the state machine orders them.

    ``fail_rows`` lists rows whose execution fails. ``crash_after_runs`` raises ``WorkerCrash`` after that
    many settled executions, so the row is charged but the worker never records it.
    """

    def __init__(self, dependencies: WaterfallDependencies) -> None:
        self.dependencies = dependencies
        self.fail_rows: set[int] = set()
        self.crash_after_runs: int | None = None
        self.runs = 0

    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        start = WaterfallInput.model_validate(state)
        if start.context.row in self.fail_rows:
            raise WaterfallFailedError(f"arn:aws:states:{MOTO_REGION}:1:execution:w:{name}", "FAILED", "Boom", "x")
        current = plan_waterfall(start, self.dependencies)
        while not current.done:
            provider = current.plan.next
            assert provider is not None
            try:
                current = run_step(provider, current, self.dependencies)
            except ProviderTransientError as error:
                failed = current.model_copy(update={"error": {"Error": type(error).__name__, "Cause": "{}"}})
                current = record_failure(failed, self.dependencies)
        output = settle(current, self.dependencies)
        self.runs += 1
        if self.crash_after_runs is not None and self.runs > self.crash_after_runs:
            raise WorkerCrash
        return output.model_dump(mode="json")


@dataclass
class BulkHarness:
    """The bulk services on moto, an API key that owns uploads, and helpers that act as AWS would."""

    services: BulkServices
    runner: InProcessRunner
    finder: DirectoryFinder
    ledger: LedgerRepository
    keys: ApiKeyRepository
    s3: S3Client
    sqs: SQSClient
    ingest_queue_url: str
    key_id: str
    account_id: str
    context: LambdaContext
    sequence: int = 0

    def upload(self, key: str, data: bytes) -> dict[str, Any]:
        """Put an object and return the SQS event that S3's notification of it produces on the INGEST queue."""
        reply = self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        self.sequence += 1
        notification = load_event("s3/object_created.json")
        stored = notification["Records"][0]["s3"]
        stored["bucket"]["name"] = BUCKET
        # S3 form-encodes the key in the notification.
        stored["object"] = {
            "key": quote_plus(key, safe="/"),
            "size": len(data),
            "eTag": reply["ETag"].strip('"'),
            "sequencer": f"{self.sequence:018X}",
        }
        # S3 names the version in the event when the bucket keeps versions, as the files bucket does.
        if reply.get("VersionId"):
            stored["object"]["versionId"] = reply["VersionId"]
        event = load_event("sqs/ingest_object_created.json")
        event["Records"][0]["body"] = json.dumps(notification)
        event["Records"][0]["messageId"] = f"ingest-{self.sequence}"
        return event

    def ingest(self, event: dict[str, Any]) -> dict[str, Any]:
        return bulk_ingest.handler(event, self.context)

    def receive_rows(self, max_messages: int = 10) -> list[dict[str, Any]]:
        """Receive up to ``max_messages`` ROWS messages as the records of a worker event."""
        url = self.services.rows_queue.queue_url
        reply = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=max_messages, AttributeNames=["ApproximateReceiveCount"]
        )
        return [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": message["Attributes"]["ApproximateReceiveCount"]},
                "eventSource": "aws:sqs",
            }
            for message in reply.get("Messages", [])
        ]

    def work(self, records: list[dict[str, Any]]) -> list[str]:
        """Invoke the worker on ``records``, delete the messages it processed, and return the failed ids."""
        reply = bulk_worker.handler({"Records": records}, self.context)
        failed = [item["itemIdentifier"] for item in reply["batchItemFailures"]]
        # One delete per message id, as a message delivered twice in a batch needs deleting only once.
        handles = {record["messageId"]: record["receiptHandle"] for record in reversed(records)}
        for message_id, handle in handles.items():
            if message_id not in failed:
                self.sqs.delete_message(QueueUrl=self.services.rows_queue.queue_url, ReceiptHandle=handle)
        return failed

    def redeliver(self, records: list[dict[str, Any]]) -> None:
        """Make received messages visible again at once, as their visibility timeout ending would."""
        for record in records:
            self.sqs.change_message_visibility(
                QueueUrl=self.services.rows_queue.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
            )

    def drain_rows(self) -> list[str]:
        """Deliver every ROWS message to the worker in batches of ten; return every failed message id."""
        failed: list[str] = []
        while True:
            records = self.receive_rows()
            if not records:
                return failed
            failed.extend(self.work(records))

    def webhook_messages(self) -> list[dict[str, Any]]:
        url = self.services.webhooks_queue.queue_url
        messages: list[dict[str, Any]] = []
        while True:
            reply = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            batch = reply.get("Messages", [])
            if not batch:
                return messages
            messages.extend(json.loads(message["Body"]) for message in batch)

    def queued_rows(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.services.rows_queue.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def job(self, job_id: str) -> JobRecord:
        record = self.services.jobs.get(job_id)
        assert record is not None
        return record

    def rows(self, job_id: str) -> list[RowResult]:
        return list(self.services.rows.iter_rows(job_id))

    def only_job_id(self) -> str:
        jobs = self.services.jobs.list_for_key(self.key_id)
        assert len(jobs) == 1, [job.job_id for job in jobs]
        return jobs[0].job_id

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def ledger_lines(self) -> list[Any]:
        return self.ledger.lines_for_month(self.key_id, "2026-12")


def _queue(sqs: SQSClient, name: str) -> str:
    # Failed messages stay invisible for the rest of a test unless it makes them visible with redeliver().
    return sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "300"})["QueueUrl"]


def build_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {f"{name}_table": table for name, table in TEST_TABLE_NAMES.items()}
    values.update(files_bucket=BUCKET, retention_days=30, usage_counter_shards=SHARDS)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def plan() -> KeyPlan:
    return KeyPlan()


@pytest.fixture
def harness(aws: None, plan: KeyPlan, lambda_context: LambdaContext) -> Iterator[BulkHarness]:
    dynamodb: DynamoDBClient = boto3.client("dynamodb", region_name=MOTO_REGION)
    create_tables(dynamodb, TEST_TABLE_NAMES)
    s3: S3Client = boto3.client("s3", region_name=MOTO_REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    sqs: SQSClient = boto3.client("sqs", region_name=MOTO_REGION)
    rows_url = _queue(sqs, "test-rows")
    webhooks_url = _queue(sqs, "test-webhooks")
    ingest_url = _queue(sqs, "test-ingest")
    settings = build_settings(rows_queue_url=rows_url, webhooks_queue_url=webhooks_url, ingest_queue_url=ingest_url)

    keys = ApiKeyRepository(dynamodb, table=TEST_TABLE_NAMES["api_keys"])
    key, _ = keys.create("acct_bulk", KeyMode.TEST, plan, "bulk tests", now=NOW)
    ledger = LedgerRepository(
        dynamodb, ledger_table=TEST_TABLE_NAMES["ledger"], usage_table=TEST_TABLE_NAMES["usage"], shards=SHARDS
    )
    finder = DirectoryFinder()
    dependencies = WaterfallDependencies(
        settings=settings,
        registry=FakeRegistry([finder]),
        mx_resolver=StaticMxResolver(MX),
        ledger=ledger,
        freshness=MemoryFreshness(),
        suppressions=MemorySuppressions(),
        clock=lambda: NOW,
        monotonic=NOW.timestamp,
    )
    runner = InProcessRunner(dependencies)
    usage = UsageRepository(dynamodb, usage_table=TEST_TABLE_NAMES["usage"])
    services = BulkServices(
        settings=settings,
        jobs=JobRepository(dynamodb, table=settings.jobs_table),
        rows=JobRowRepository(dynamodb, rows_table=settings.job_rows_table, jobs_table=settings.jobs_table),
        files=FileStore(s3_client_factory(), BUCKET),
        rows_queue=QueueSender(lambda: sqs, rows_url, setting="CASCADE_ROWS_QUEUE_URL"),
        webhooks_queue=QueueSender(lambda: sqs, webhooks_url, setting="CASCADE_WEBHOOKS_QUEUE_URL"),
        keys=keys,
        caps=SpendCaps(usage),
        ledger=ledger,
        runner=runner,
        clock=lambda: NOW,
    )
    install_bulk_services(services)
    # moto evaluates a condition and applies the write without a lock, so two threads could both pass
    # one conditional update; DynamoDB applies writes to one item one at a time, as the block makes moto do.
    with serialized_dynamodb():
        yield BulkHarness(
            services=services,
            runner=runner,
            finder=finder,
            ledger=ledger,
            keys=keys,
            s3=s3,
            sqs=sqs,
            ingest_queue_url=ingest_url,
            key_id=key.key_id,
            account_id=key.account_id,
            context=lambda_context,
        )
    install_bulk_services(None)


def csv_bytes(*rows: str, header: str = "First Name,Last Name,Company Domain") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()
