"""Stored enrichment results, read back by ``GET /v1/enrichments/{id}``.

One item per result: ``pk`` is the enrichment id, ``key_id`` and ``account_id`` name its owner,
``result`` is the reply JSON, and ``expires_at`` (epoch seconds) is the table's TTL attribute, so
contact data leaves the table after the retention period. A read by another key finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from cascade.domain.models import EnrichmentResult
from cascade.storage.dynamo import LazyClient, StorageError, require_aware, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from cascade.storage.dynamo import ClientSource

ENRICHMENT_ID_PATTERN = r"^enr_[0-9a-f]{24}$"
_ENRICHMENT_ID = re.compile(ENRICHMENT_ID_PATTERN)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EnrichmentRepository:
    """Writes enrichment results and reads them back for the key that created them."""

    def __init__(self, client: ClientSource, *, table: str, clock: Callable[[], datetime] = _utc_now) -> None:
        self._client = LazyClient(client)
        self._table = table
        self._clock = clock

    def put(self, result: EnrichmentResult, *, key_id: str, account_id: str, expires_at: datetime) -> None:
        """Store ``result`` for ``key_id``, replacing an earlier result with the same id of the same key.

        Raises ``ValueError`` for an id that is not ``enr_`` and 24 hex digits, and ``StorageError``
        with code ``ConditionalCheckFailedException`` when the id already belongs to another key.
        """
        if not _ENRICHMENT_ID.fullmatch(result.id):
            raise ValueError(f"enrichment id {result.id!r} is invalid; expected enr_ and 24 lowercase hex digits")
        if not key_id or not account_id:
            raise ValueError("key_id and account_id must both be non-empty; send the owner of the result")
        require_aware(expires_at, "expires_at")
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": result.id},
            "key_id": {"S": key_id},
            "account_id": {"S": account_id},
            "result": {"S": result.model_dump_json()},
            "expires_at": {"N": str(int(expires_at.timestamp()))},
        }
        if result.created_at is not None:
            item["created_at"] = {"S": result.created_at.isoformat()}
        client = self._client.get()
        try:
            # The same id comes back only when a key retries one Idempotency-Key, so an id owned by another
            # key means a bug, and the write must fail rather than hand that key's result to this one.
            client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR key_id = :key_id",
                ExpressionAttributeValues={":key_id": {"S": key_id}},
            )
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"storing enrichment {result.id}") from error

    def get(self, enrichment_id: str, key_id: str) -> EnrichmentResult | None:
        """Return the result with id ``enrichment_id`` if ``key_id`` stored it and it has not expired, else ``None``.

        An unknown id, an id of another key, an expired result and a text that is not an enrichment id
        all return ``None``, so the API can send the same reply to each.
        """
        if not _ENRICHMENT_ID.fullmatch(enrichment_id):
            return None
        client = self._client.get()
        try:
            reply = client.get_item(TableName=self._table, Key={"pk": {"S": enrichment_id}}, ConsistentRead=True)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading enrichment {enrichment_id}") from error
        item = reply.get("Item")
        if item is None or item.get("key_id", {}).get("S") != key_id:
            return None
        # DynamoDB deletes expired items up to a few days after expires_at, so expiry is checked here too.
        if int(item["expires_at"]["N"]) <= self._clock().timestamp():
            return None
        try:
            return EnrichmentResult.model_validate_json(item["result"]["S"])
        except ValidationError as error:
            raise StorageError(
                f"stored enrichment {enrichment_id} does not parse as an enrichment result", code="UnreadableItem"
            ) from error
