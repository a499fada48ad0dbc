"""Billing items of the usage table beyond the counters: the keys billed in a month, and bounce counts.

Bounce counters share the usage table. Each is one item ``pk = "bounces#<YYYY-MM>"``,
``sk = "<provider>"`` with a numeric ``count`` of refunded bounces of emails that the provider
found, so one query returns every provider's bounces in a month. Their ``pk`` is no key id, so
``UsageRepository`` never reads them, and ``key_ids_for_month`` skips them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cascade.domain.keys import KEY_ID_PATTERN
from cascade.storage.dynamo import LazyClient, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, ScanInputTypeDef

    from cascade.storage.dynamo import ClientSource

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_KEY_ID = re.compile(KEY_ID_PATTERN)
_BOUNCES_PREFIX = "bounces#"


def bounce_partition_key(month: str) -> str:
    """Return the partition of a month's bounce counters, ``"bounces#<YYYY-MM>"``."""
    _check_month(month)
    return f"{_BOUNCES_PREFIX}{month}"


class BillingItems:
    """Lists the keys with usage in a month and counts bounces per provider and month."""

    def __init__(self, client: ClientSource, *, usage_table: str) -> None:
        self._client = LazyClient(client)
        self._table = usage_table

    def key_ids_for_month(self, month: str) -> list[str]:
        """Return the sorted ids of the keys that have usage counters in ``month`` (YYYY-MM).

        Every ledger line adds to a counter of its key and month in the same transaction, so these are
        the keys with ledger lines that month. The counters are keyed by key and month, so no index
        lists a month's keys.
        """
        _check_month(month)
        # NOTE: this scans the whole usage table (one read per 4 KB of items). It is meant for the
        # monthly job and operator commands, not for a request path.
        suffix = f"#{month}"
        request: ScanInputTypeDef = {
            "TableName": self._table,
            "ProjectionExpression": "pk",
            "ConsistentRead": True,
        }
        client = self._client.get()
        found: set[str] = set()
        while True:
            try:
                page = client.scan(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"listing the keys with usage in {month}") from error
            for item in page.get("Items", []):
                partition = item["pk"].get("S", "")
                key_id = partition.removesuffix(suffix)
                if partition.endswith(suffix) and _KEY_ID.fullmatch(key_id):
                    found.add(key_id)
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return sorted(found)
            request["ExclusiveStartKey"] = last_key

    def record_bounce(self, provider: str, month: str) -> None:
        """Add one refunded bounce to ``provider``'s counter in ``month`` (YYYY-MM)."""
        if not provider:
            raise ValueError("provider is empty; send the name of the provider that found the email")
        client = self._client.get()
        try:
            client.update_item(
                TableName=self._table,
                Key={"pk": {"S": bounce_partition_key(month)}, "sk": {"S": provider}},
                UpdateExpression="ADD #count :one",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"counting a bounce of {provider} in {month}") from error

    def bounces_for_month(self, month: str) -> dict[str, int]:
        """Return the refunded bounces of ``month`` (YYYY-MM) per provider name; providers without one are left out."""
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": bounce_partition_key(month)}},
            "ConsistentRead": True,
        }
        client = self._client.get()
        counts: dict[str, int] = {}
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"reading the bounces of {month}") from error
            for item in page.get("Items", []):
                counts[item["sk"]["S"]] = int(item.get("count", {}).get("N", "0"))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return counts
            request["ExclusiveStartKey"] = last_key


def _check_month(month: str) -> None:
    if not _MONTH.fullmatch(month):
        raise ValueError(f"month {month!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
