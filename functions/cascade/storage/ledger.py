"""The match ledger: each charge and refund is written exactly once, together with its usage counter.

One ``TransactWriteItems`` call puts the ledger line only if no line with its id exists and
adds the line to one usage counter shard. Both happen or neither does, so there is no step
between them where a crash could lose a charge or count it twice. A line id is derived from
the key, the request and the field, so a retry or a concurrent duplicate of the same charge
meets the existing line and is reported as ``DUPLICATE`` without changing anything.

Billing months are UTC calendar months: every line's ``charged_at`` is stored in UTC, and the
line is counted in the month of that UTC time.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cascade.domain.billing import LedgerLine, LineKind, month_of, refund_line_id, usage_shard
from cascade.domain.models import RequestedField
from cascade.observability import get_logger
from cascade.storage.dynamo import (
    LazyClient,
    RetryableStorageError,
    StorageError,
    cancellation_codes,
    error_code,
    require_aware,
    storage_error,
)
from cascade.storage.usage import usage_partition_key, usage_sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

    from cascade.storage.dynamo import ClientSource

_LINE_PREFIX = "LINE#"
_BY_KEY_MONTH = "by_key_month"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_OPTIONAL_TEXT = ("request_id", "job_id")
_MAX_REASON_LENGTH = 500
# Full-jitter backoff for charge_with_retry: the n-th wait is uniform in [0, min(cap, base * 2**n)].
_BACKOFF_BASE_SECONDS = 0.05
_BACKOFF_CAP_SECONDS = 1.0


class ChargeOutcome(StrEnum):
    CHARGED = "charged"
    DUPLICATE = "duplicate"


class LineNotFound(StorageError):  # noqa: N818 - the name is part of the storage API that callers catch
    """No ledger line has the requested id."""

    def __init__(self, line_id: str) -> None:
        super().__init__(
            f"no charge line {line_id!r} in the ledger; send the match id of a charge that was billed",
            code="LineNotFound",
        )
        self.line_id = line_id


class LedgerRepository:
    """Writes charges and refunds to the ledger and the usage counters, and reads ledger lines.

    Changing ``shards`` later is safe: a duplicate is recognised by its ledger line, not by its
    shard, and readers sum whichever shards exist.
    """

    def __init__(
        self,
        client: ClientSource,
        *,
        ledger_table: str,
        usage_table: str,
        shards: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= shards <= 100:
            raise ValueError(f"shards is {shards}; send a number of usage counter shards from 1 to 100")
        self._client = LazyClient(client)
        self._ledger_table = ledger_table
        self._usage_table = usage_table
        self._shards = shards
        self._sleep = sleep

    def charge(self, line: LedgerLine) -> ChargeOutcome:
        """Write a charge line and add it to its usage shard in one transaction.

        Returns ``DUPLICATE``, having changed nothing, when a line with ``line.line_id`` already
        exists. Raises ``RetryableStorageError`` on throttling, a conflicting concurrent
        transaction or a transient fault, and ``StorageError`` on other failures. After an error
        the transaction may still have committed (its reply can be lost), so the caller sends the
        same line again. That call returns ``DUPLICATE`` if the first attempt was written.
        """
        if line.kind is not LineKind.CHARGE:
            raise ValueError(f"line {line.line_id!r} is a {line.kind.value} line; write refunds with refund()")
        if line.line_id != line.match_id:
            raise ValueError(
                f"charge line id {line.line_id!r} differs from its match id {line.match_id!r}; "
                "a charge's line id is its match id"
            )
        if line.amount_micros < 0:
            raise ValueError(f"charge {line.line_id!r} has a negative amount {line.amount_micros}; refund instead")
        return self._write(_in_utc(line), operation=f"charging {line.line_id}")

    def charge_with_retry(self, line: LedgerLine, attempts: int = 5) -> ChargeOutcome:
        """Charge ``line``, retrying with jittered exponential backoff while the write is throttled or conflicts.

        Other failures, and the last retryable one after ``attempts`` tries, are raised.
        """
        if attempts < 1:
            raise ValueError(f"attempts is {attempts}; send at least 1")
        for attempt in range(attempts - 1):
            try:
                return self.charge(line)
            except RetryableStorageError as error:
                ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
                delay = random.uniform(0, ceiling)  # noqa: S311 - backoff jitter, not a secret
                get_logger().warning(
                    "charge retry",
                    line_id=line.line_id,
                    code=error.code,
                    attempt=attempt + 1,
                    delay_seconds=round(delay, 3),
                )
                self._sleep(delay)
        return self.charge(line)

    def refund(self, match_id: str, *, refunded_at: datetime, reason: str) -> ChargeOutcome:
        """Reverse the charge ``match_id`` with a negative refund line, at most once.

        The refund is counted in the UTC month of ``refunded_at``, which may be later than the
        charge's. Returns ``DUPLICATE`` when the match was already refunded. Raises
        ``LineNotFound`` when no charge has that id, and the storage errors that ``charge`` raises.
        """
        reason = reason.strip()
        if not reason:
            raise ValueError("reason is empty; send why the charge is refunded, such as 'hard bounce'")
        if len(reason) > _MAX_REASON_LENGTH:
            raise ValueError(f"reason has {len(reason)} characters; send at most {_MAX_REASON_LENGTH}")
        require_aware(refunded_at, "refunded_at")
        charge = self.get(match_id)
        if charge is None:
            raise LineNotFound(match_id)
        if charge.kind is not LineKind.CHARGE:
            raise ValueError(f"line {match_id!r} is a {charge.kind.value} line; send the match id of a charge")
        if refunded_at < charge.charged_at:
            raise ValueError(
                f"refunded_at {refunded_at.isoformat()} is before the charge at {charge.charged_at.isoformat()}"
            )
        refund = dataclasses.replace(
            charge,
            line_id=refund_line_id(match_id),
            kind=LineKind.REFUND,
            amount_micros=-charge.amount_micros,
            charged_at=refunded_at.astimezone(UTC),
        )
        return self._write(refund, operation=f"refunding {match_id}", extra={"refund_reason": {"S": reason}})

    def get(self, line_id: str) -> LedgerLine | None:
        """Read one line by id with a strongly consistent read, or return ``None`` when there is none."""
        client = self._client.get()
        try:
            reply = client.get_item(
                TableName=self._ledger_table, Key={"pk": {"S": _LINE_PREFIX + line_id}}, ConsistentRead=True
            )
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading ledger line {line_id}") from error
        item = reply.get("Item")
        return None if item is None else line_from_item(item)

    def lines_for_month(self, key_id: str, month: str, *, page_size: int | None = None) -> list[LedgerLine]:
        """Return every line of ``key_id`` in the UTC month ``month`` (YYYY-MM), oldest first.

        Reads the ``by_key_month`` index, which is eventually consistent, so a line written moments
        ago may be missing. ``page_size`` caps the items per query page.
        """
        if not key_id:
            raise ValueError("key_id is empty; send the API key id whose lines to list")
        if not _MONTH.fullmatch(month):
            raise ValueError(f"month {month!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
        request: QueryInputTypeDef = {
            "TableName": self._ledger_table,
            "IndexName": _BY_KEY_MONTH,
            "KeyConditionExpression": "key_month = :key_month",
            "ExpressionAttributeValues": {":key_month": {"S": f"{key_id}#{month}"}},
            "ScanIndexForward": True,
        }
        if page_size is not None:
            request["Limit"] = page_size
        client = self._client.get()
        lines: list[LedgerLine] = []
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"listing ledger lines of {key_id} in {month}") from error
            lines.extend(line_from_item(item) for item in page.get("Items", []))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return lines
            request["ExclusiveStartKey"] = last_key

    def _write(
        self, line: LedgerLine, *, operation: str, extra: Mapping[str, AttributeValueTypeDef] | None = None
    ) -> ChargeOutcome:
        item = line_to_item(line) | dict(extra or {})
        count = 1 if line.kind is LineKind.CHARGE else -1
        shard = usage_shard(line.line_id, self._shards)
        # No ClientRequestToken is set, because DynamoDB returns success for a second call with the
        # same token and a concurrent duplicate would then be reported CHARGED. botocore adds a
        # random token per call, which keeps its own internal retries of one call idempotent.
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._ledger_table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._usage_table,
                    "Key": {
                        "pk": {"S": usage_partition_key(line.key_id, line.month)},
                        "sk": {"S": usage_sort_key(line.field, shard)},
                    },
                    "UpdateExpression": "ADD #count :count, amount_micros :amount",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {
                        ":count": {"N": str(count)},
                        ":amount": {"N": str(line.amount_micros)},
                    },
                }
            },
        ]
        client = self._client.get()
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.ClientError as error:
            # The ledger put is the first item, so its reason is the first code. A failed
            # condition means the line exists. This repository never deletes ledger lines, so this is final.
            reasons = cancellation_codes(error)
            if error_code(error) == "TransactionCanceledException" and reasons[:1] == ("ConditionalCheckFailed",):
                return ChargeOutcome.DUPLICATE
            raise storage_error(error, operation=operation) from error
        return ChargeOutcome.CHARGED


def line_to_item(line: LedgerLine) -> dict[str, AttributeValueTypeDef]:
    """Return the ledger item of a line with ``charged_at`` in UTC. Optional fields that are ``None`` are left out."""
    charged_at = _utc_text(line.charged_at)
    item: dict[str, AttributeValueTypeDef] = {
        "pk": {"S": _LINE_PREFIX + line.line_id},
        "key_month": {"S": f"{line.key_id}#{month_of(line.charged_at.astimezone(UTC))}"},
        "line_order": {"S": f"{charged_at}#{line.line_id}"},
        "line_id": {"S": line.line_id},
        "kind": {"S": line.kind.value},
        "match_id": {"S": line.match_id},
        "key_id": {"S": line.key_id},
        "account_id": {"S": line.account_id},
        "field": {"S": line.field.value},
        "amount_micros": {"N": str(line.amount_micros)},
        "provider": {"S": line.provider},
        "verdict": {"S": line.verdict},
        "charged_at": {"S": charged_at},
        "enrichment_id": {"S": line.enrichment_id},
    }
    for name in _OPTIONAL_TEXT:
        value = getattr(line, name)
        if value is not None:
            item[name] = {"S": value}
    if line.row is not None:
        item["row"] = {"N": str(line.row)}
    return item


def line_from_item(item: Mapping[str, AttributeValueTypeDef]) -> LedgerLine:
    """Rebuild a ``LedgerLine`` from its ledger item, with ``charged_at`` in UTC."""

    def text(name: str) -> str:
        return item[name]["S"]

    def optional_text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else value["S"]

    row = item.get("row")
    return LedgerLine(
        line_id=text("line_id"),
        kind=LineKind(text("kind")),
        match_id=text("match_id"),
        key_id=text("key_id"),
        account_id=text("account_id"),
        field=RequestedField(text("field")),
        amount_micros=int(item["amount_micros"]["N"]),
        provider=text("provider"),
        verdict=text("verdict"),
        charged_at=datetime.fromisoformat(text("charged_at")),
        enrichment_id=text("enrichment_id"),
        request_id=optional_text("request_id"),
        job_id=optional_text("job_id"),
        row=None if row is None else int(row["N"]),
    )


def _in_utc(line: LedgerLine) -> LedgerLine:
    require_aware(line.charged_at, "charged_at")
    return dataclasses.replace(line, charged_at=line.charged_at.astimezone(UTC))


def _utc_text(moment: datetime) -> str:
    # A fixed width (microseconds always present, one offset) makes the text sort in time order.
    require_aware(moment, "charged_at")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
