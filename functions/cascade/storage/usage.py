"""Per-key monthly usage, read from the sharded counters that every ledger charge and refund adds to.

A counter item is ``pk = "<key id>#<YYYY-MM>"``, ``sk = "<field>#<shard, two digits>"`` with
numeric ``count`` and ``amount_micros``. Each charge adds to one shard chosen from its line id,
so no single item takes every write of a busy key. A reader sums every shard of the month.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cascade.domain.models import RequestedField
from cascade.storage.dynamo import LazyClient, StorageError, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

    from cascade.storage.dynamo import ClientSource

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_MAX_SHARDS = 100


@dataclass(frozen=True, slots=True)
class FieldUsage:
    """Net line count and net amount in micro-dollars of one field in a month. Refunds subtract from both."""

    count: int
    amount_micros: int


@dataclass(frozen=True, slots=True)
class MonthUsage:
    """A key's usage in one calendar month (UTC). ``by_field`` has an entry for every ``RequestedField``."""

    key_id: str
    month: str
    by_field: Mapping[RequestedField, FieldUsage]
    amount_micros: int


def usage_partition_key(key_id: str, month: str) -> str:
    """Return the counter partition of a key's month, ``"<key id>#<YYYY-MM>"``."""
    if not key_id:
        raise ValueError("key_id is empty; send the API key id whose usage to address")
    if not _MONTH.fullmatch(month):
        raise ValueError(f"month {month!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
    return f"{key_id}#{month}"


def usage_sort_key(field: RequestedField, shard: int) -> str:
    """Return the counter item of one field's shard, ``"<field>#<shard, two digits>"``."""
    if not 0 <= shard < _MAX_SHARDS:
        raise ValueError(f"shard {shard} is out of range; shards are numbered 0 to {_MAX_SHARDS - 1}")
    return f"{field.value}#{shard:02d}"


class UsageRepository:
    """Reads the usage counters. Only ``LedgerRepository`` writes them, in the same transaction as each line."""

    def __init__(self, client: ClientSource, *, usage_table: str) -> None:
        self._client = LazyClient(client)
        self._table = usage_table

    def month_usage(self, key_id: str, month: str) -> MonthUsage:
        """Sum every counter shard of ``key_id`` in ``month`` (YYYY-MM) with one strongly consistent query."""
        partition = usage_partition_key(key_id, month)
        totals = dict.fromkeys(RequestedField, (0, 0))
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ConsistentRead": True,
        }
        client = self._client.get()
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"reading usage of {partition}") from error
            for item in page.get("Items", []):
                field = _field_of(item["sk"], partition)
                count, amount = totals[field]
                totals[field] = (count + _number(item, "count"), amount + _number(item, "amount_micros"))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                break
            request["ExclusiveStartKey"] = last_key
        by_field = {field: FieldUsage(count=count, amount_micros=amount) for field, (count, amount) in totals.items()}
        return MonthUsage(
            key_id=key_id,
            month=month,
            by_field=by_field,
            amount_micros=sum(usage.amount_micros for usage in by_field.values()),
        )


def _field_of(sort_key: AttributeValueTypeDef, partition: str) -> RequestedField:
    text = sort_key.get("S", "")
    name = text.rpartition("#")[0]
    try:
        return RequestedField(name)
    except ValueError:
        # Dropping an unknown counter would under-report money, so the read fails instead.
        raise StorageError(
            f"usage item {partition} / {text!r} names no known field; expected one of "
            f"{', '.join(field.value for field in RequestedField)}",
            code="UnknownField",
        ) from None


def _number(item: Mapping[str, AttributeValueTypeDef], name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value is not None and "N" in value else 0
