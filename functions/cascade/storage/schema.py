"""The DynamoDB tables, defined once for the CDK app, the local stack and the tests.

Keys (every key attribute is a string):

``ledger``: one item per charge or refund; never updated, never deleted.
  - ``pk = "LINE#<line id>"``. A charge's line id is ``match_id``, derived from the API key
    id, the request (or job id and row) and the field, so a repeated charge hits the same
    item and its ``attribute_not_exists(pk)`` condition fails. A refund's line id is
    ``refund-<match id>``, so a match is refunded at most once.
  - GSI ``by_key_month``: ``key_month = "<key id>#<YYYY-MM>"``, ``line_order =
    "<charged_at ISO-8601>#<line id>"``, for the month's lines of one key in time order.
``usage``: sharded counters per key, month and field.
  - ``pk = "<key id>#<YYYY-MM>"``, ``sk = "<field>#<shard, two digits>"``; numeric
    attributes ``count`` and ``amount_micros``. The shard is chosen from the line id, so a
    duplicate charge addresses the same shard; readers sum every shard of the month.
``freshness``: the last verified value per API key, contact identity and field.
  - ``pk = "<key id>#<contact identity hash>"``, ``sk = "<field>"``; ``expires_at`` (epoch
    seconds) is the table's TTL attribute, which enforces the retention period.
``suppressions``: a customer's do-not-enrich list, consulted before any provider call.
  - ``pk = "<account id>"``, ``sk = "<identity kind>#<identity hash>"``.
``api_keys``: API keys, stored only as the SHA-256 of the full key.
  - ``pk = "<key hash>"``, the authorizer's lookup; GSI ``by_key_id`` (``key_id``) for
    revocation and updates, GSI ``by_account`` (``account_id``, ``created_at``) for listing.
``enrichments``: stored enrichment results, read back by ``GET /v1/enrichments/{id}``.
  - ``pk = "<enrichment id>"``; ``key_id`` and ``account_id`` are checked on every read;
    ``expires_at`` is the TTL attribute (the contact-data retention period).
``idempotency``: ``Idempotency-Key`` records of the HTTP API.
  - ``pk = "<key id>#<idempotency key>"``. The item contains the request body's hash and the
    first response, and ``expires_at`` is the TTL attribute.
``jobs``: bulk jobs, their status, counters and file locations.
  - ``pk = "<job id>"``; ``key_id`` and ``account_id`` are checked on every read; GSI ``by_key``
    (``key_id``, ``created_at``) lists a key's jobs, newest last.
``job_rows``: one item per enriched row of a bulk job, written once when the row is done.
  - ``pk = "<job id>"``, ``sk = "<row number, zero-padded to 9 digits>"``, so a query returns the rows in
    file order; ``expires_at`` is the TTL attribute (the contact-data retention period).
  - ``pk = "<job id>#parked"``, ``sk`` as above: the message body of a row parked while its job is on
    hold at the key's spend cap, deleted when the row is sent again.
``companies``: company facts from government registries, cached per natural key.
  - ``pk = "<registry>#<canonical identifier>"`` or ``"query#<hash of the normalised query>"``;
    ``expires_at`` is the TTL attribute.

Buckets and queues are defined here too (``BUCKETS``, ``QUEUES``), for the same three users.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    """A table's logical name, keys, secondary indexes and TTL attribute."""

    logical_name: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None


LEDGER = TableSpec(
    logical_name="ledger",
    partition_key="pk",
    indexes=(IndexSpec("by_key_month", "key_month", "line_order"),),
)
USAGE = TableSpec(logical_name="usage", partition_key="pk", sort_key="sk")
FRESHNESS = TableSpec(logical_name="freshness", partition_key="pk", sort_key="sk", ttl_attribute="expires_at")
SUPPRESSIONS = TableSpec(logical_name="suppressions", partition_key="pk", sort_key="sk")

API_KEYS = TableSpec(
    logical_name="api_keys",
    partition_key="pk",
    indexes=(IndexSpec("by_key_id", "key_id", "pk"), IndexSpec("by_account", "account_id", "created_at")),
)
ENRICHMENTS = TableSpec(logical_name="enrichments", partition_key="pk", ttl_attribute="expires_at")
IDEMPOTENCY = TableSpec(logical_name="idempotency", partition_key="pk", ttl_attribute="expires_at")

JOBS = TableSpec(logical_name="jobs", partition_key="pk", indexes=(IndexSpec("by_key", "key_id", "created_at"),))
JOB_ROWS = TableSpec(logical_name="job_rows", partition_key="pk", sort_key="sk", ttl_attribute="expires_at")
COMPANIES = TableSpec(logical_name="companies", partition_key="pk", ttl_attribute="expires_at")

TABLES: tuple[TableSpec, ...] = (
    LEDGER,
    USAGE,
    FRESHNESS,
    SUPPRESSIONS,
    API_KEYS,
    ENRICHMENTS,
    IDEMPOTENCY,
    JOBS,
    JOB_ROWS,
    COMPANIES,
)


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket's logical name; ``CASCADE_<NAME>_BUCKET`` names the deployed bucket."""

    logical_name: str


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue with its dead-letter queue; ``CASCADE_<NAME>_QUEUE_URL`` names the deployed queue.

    ``visibility_timeout_seconds`` must exceed the consuming function's timeout, and a message received
    ``max_receive_count`` times moves to the dead-letter queue.
    """

    logical_name: str
    visibility_timeout_seconds: int
    max_receive_count: int


# Uploads arrive under ``uploads/``, results are written under ``results/``.
FILES = BucketSpec(logical_name="files")
# Monthly usage exports, under ``exports/<YYYY-MM>/``.
BILLING = BucketSpec(logical_name="billing")
BUCKETS: tuple[BucketSpec, ...] = (FILES, BILLING)

UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"

# S3 ObjectCreated notifications of the uploads prefix.
INGEST = QueueSpec(logical_name="ingest", visibility_timeout_seconds=960, max_receive_count=3)
# One message per input row of a bulk job.
ROWS = QueueSpec(logical_name="rows", visibility_timeout_seconds=360, max_receive_count=5)
# Signed webhook deliveries, retried with backoff.
WEBHOOKS = QueueSpec(logical_name="webhooks", visibility_timeout_seconds=60, max_receive_count=8)
QUEUES: tuple[QueueSpec, ...] = (INGEST, ROWS, WEBHOOKS)
