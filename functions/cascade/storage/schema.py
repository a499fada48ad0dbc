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

TABLES: tuple[TableSpec, ...] = (LEDGER, USAGE, FRESHNESS, SUPPRESSIONS, API_KEYS, ENRICHMENTS, IDEMPOTENCY)
