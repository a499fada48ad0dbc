"""The company cache: registry facts and query resolutions, stored as JSON documents with a TTL.

Keys: ``"<registry>#<canonical identifier>"`` for a company's facts (``companies_house#00445790``)
and ``"query#<SHA-256 of the normalised query>"`` for the result of a query. Items expire
``cache_days`` after they are written through the table's TTL attribute ``expires_at``, and
``get`` also ignores an expired item that DynamoDB has not deleted yet. Company facts are public
register data, so the documents contain no contact data.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cascade.storage.dynamo import LazyClient, require_aware, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from cascade.storage.dynamo import ClientSource


def fact_key(registry: str, identifier: str) -> str:
    """Return the key of a company's facts, such as ``"companies_house#00445790"``."""
    if not registry or not identifier:
        raise ValueError(f"fact key needs a registry and an identifier, got {registry!r} and {identifier!r}")
    return f"{registry}#{identifier}"


def query_key(normalised_query: str) -> str:
    """Return the key of a query's result: ``"query#"`` and the SHA-256 hex digest of the normalised query."""
    return f"query#{hashlib.sha256(normalised_query.encode()).hexdigest()}"


class CompanyCache:
    """Reads and writes cached company documents. ``cache_days`` of 0 turns the cache off."""

    def __init__(self, client: ClientSource, *, table: str, cache_days: int) -> None:
        if cache_days < 0:
            raise ValueError(f"cache_days is {cache_days}; send 0 (no caching) or more")
        self._client = LazyClient(client)
        self._table = table
        self._lifetime = timedelta(days=cache_days)

    @property
    def enabled(self) -> bool:
        return self._lifetime > timedelta(0)

    def get(self, key: str, *, now: datetime) -> dict[str, Any] | None:
        """Return the stored document, or ``None`` when there is none or it has expired."""
        require_aware(now, "now")
        if not self.enabled:
            return None
        client = self._client.get()
        try:
            reply = client.get_item(TableName=self._table, Key={"pk": {"S": key}})
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading cached company {key}") from error
        item = reply.get("Item")
        if item is None or int(item["expires_at"]["N"]) <= now.timestamp():
            return None
        document = json.loads(item["document"]["S"])
        return document if isinstance(document, dict) else None

    def put(self, key: str, document: dict[str, Any], *, now: datetime) -> None:
        """Store ``document`` under ``key`` in place of any earlier one; it expires ``cache_days`` after ``now``."""
        require_aware(now, "now")
        if not self.enabled:
            return
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": key},
            "document": {"S": json.dumps(document, separators=(",", ":"), sort_keys=True)},
            "stored_at": {"S": now.isoformat()},
            "expires_at": {"N": str(int((now + self._lifetime).timestamp()))},
        }
        client = self._client.get()
        try:
            client.put_item(TableName=self._table, Item=item)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"storing cached company {key}") from error
