"""The bulk jobs and job rows tables: conditional status changes, and row results written with the job's counters.

A job item contains one attribute per ``JobRecord`` field. Counters are numbers, so that concurrent
workers add to them with ``ADD``, and structured values (the plan, the detected CSV format) are JSON
text. Every status change is a conditional update from the statuses it may leave, so two workers
racing for one change see exactly one winner.

A row result is written once: a ``TransactWriteItems`` call puts the row item only if it does not
exist and adds the row to the job's counters, so a re-delivered row message neither overwrites its
result nor counts twice. Ingest writes its invalid and duplicate rows the same way, up to
``MAX_TRANSACTION_ROWS`` rows per transaction. Parked rows (held while the key is over its spend cap) live in the same
table under the partition ``<job id>#parked``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from cascade.bulk.jobs import JobRecord, JobStatus, RowResult, utc_text
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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
        UpdateItemInputTypeDef,
    )

    from cascade.storage.dynamo import ClientSource

_BY_KEY = "by_key"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_NUMBER_FIELDS = frozenset({"rows_total", "rows_done", "matched", "not_found", "errors", "billed_micros"})
_JSON_FIELDS = frozenset({"plan", "fields", "waterfall", "input_format", "column_mapping", "warnings"})
_TIME_FIELDS = frozenset(
    {"created_at", "updated_at", "completed_at", "ingest_started_at", "ingest_finished_at", "finalize_started_at"}
)
_COUNTER_FIELDS = ("rows_done", "matched", "not_found", "errors", "billed_micros")
_PARKED_SUFFIX = "#parked"
_ROW_DIGITS = 9
# Jittered backoff for row writes that conflict with another worker's transaction on the same job item.
_WRITE_ATTEMPTS = 8
_BACKOFF_BASE_SECONDS = 0.02
_BACKOFF_CAP_SECONDS = 1.0
# TransactWriteItems takes at most 100 actions: this many row puts and one update of the job's counters.
MAX_TRANSACTION_ROWS = 99


@dataclass(frozen=True, slots=True)
class RowCounters:
    """The amounts that one row adds to its job's counters."""

    rows_done: int = 1
    matched: int = 0
    not_found: int = 0
    errors: int = 0
    billed_micros: int = 0

    def __add__(self, other: RowCounters) -> RowCounters:
        return RowCounters(**{item.name: getattr(self, item.name) + getattr(other, item.name) for item in fields(self)})


def row_sort_key(row: int) -> str:
    if not 0 <= row < 10**_ROW_DIGITS:
        raise ValueError(f"row number {row} is out of range; rows are numbered from 1 to {10**_ROW_DIGITS - 1}")
    return f"{row:0{_ROW_DIGITS}d}"


class JobRepository:
    """Creates jobs, reads them for their owner, and changes their status with conditional updates."""

    def __init__(self, client: ClientSource, *, table: str) -> None:
        self._client = LazyClient(client)
        self._table = table

    def create(self, record: JobRecord) -> bool:
        """Store a new job; return ``False``, changing nothing, when a job with its id already exists."""
        client = self._client.get()
        try:
            client.put_item(
                TableName=self._table, Item=job_to_item(record), ConditionExpression="attribute_not_exists(pk)"
            )
        except client.exceptions.ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise storage_error(error, operation=f"creating job {record.job_id}") from error
        return True

    def get(self, job_id: str) -> JobRecord | None:
        """Read a job with a strongly consistent read, or return ``None``."""
        client = self._client.get()
        try:
            reply = client.get_item(TableName=self._table, Key={"pk": {"S": job_id}}, ConsistentRead=True)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading job {job_id}") from error
        item = reply.get("Item")
        return None if item is None else job_from_item(item)

    def get_for_key(self, job_id: str, key_id: str) -> JobRecord | None:
        """Return the job if ``key_id`` owns it; an unknown id and another key's id both return ``None``."""
        record = self.get(job_id)
        return record if record is not None and record.key_id == key_id else None

    def transition(
        self,
        job_id: str,
        *,
        from_statuses: Iterable[JobStatus],
        to_status: JobStatus,
        now: datetime,
        changes: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        condition: str | None = None,
        condition_values: Mapping[str, str] | None = None,
    ) -> JobRecord | None:
        """Move a job from one of ``from_statuses`` to ``to_status``, setting ``changes`` (``JobRecord`` fields).

        ``condition`` is ANDed to the status check, and ``condition_values`` maps its placeholders to strings.
        Returns the updated record, or ``None`` when the job is missing, in another status or fails the condition.
        """
        require_aware(now, "now")
        sources = list(dict.fromkeys(from_statuses))
        if not sources:
            raise ValueError("from_statuses is empty; send the statuses the job may leave")
        values: dict[str, AttributeValueTypeDef] = {":to": {"S": to_status.value}, ":now": {"S": utc_text(now)}}
        placeholders = []
        for index, status in enumerate(sources):
            values[f":from{index}"] = {"S": status.value}
            placeholders.append(f":from{index}")
        expression = f"#status IN ({', '.join(placeholders)})"
        if condition:
            expression = f"({expression}) AND ({condition})"
            values.update({name: {"S": value} for name, value in (condition_values or {}).items()})
        sets = ["#status = :to", "updated_at = :now"]
        names = {"#status": "status"}
        for index, (name, value) in enumerate((changes or {}).items()):
            names[f"#c{index}"] = name
            values[f":c{index}"] = _attribute(name, value)
            sets.append(f"#c{index} = :c{index}")
        expression_text = "SET " + ", ".join(sets)
        removed = list(remove)
        if removed:
            for index, name in enumerate(removed):
                names[f"#r{index}"] = name
            expression_text += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removed)))
        request: UpdateItemInputTypeDef = {
            "TableName": self._table,
            "Key": {"pk": {"S": job_id}},
            "UpdateExpression": expression_text,
            "ConditionExpression": f"attribute_exists(pk) AND ({expression})",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        client = self._client.get()
        try:
            reply = client.update_item(**request)
        except client.exceptions.ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return None
            raise storage_error(error, operation=f"changing job {job_id} to {to_status.value}") from error
        return job_from_item(reply["Attributes"])

    def update(self, job_id: str, *, now: datetime, changes: Mapping[str, Any]) -> JobRecord | None:
        """Set ``changes`` on an existing job without changing its status; ``None`` when the job is missing."""
        require_aware(now, "now")
        names: dict[str, str] = {}
        values: dict[str, AttributeValueTypeDef] = {":now": {"S": utc_text(now)}}
        sets = ["updated_at = :now"]
        for index, (name, value) in enumerate(changes.items()):
            names[f"#c{index}"] = name
            values[f":c{index}"] = _attribute(name, value)
            sets.append(f"#c{index} = :c{index}")
        request: UpdateItemInputTypeDef = {
            "TableName": self._table,
            "Key": {"pk": {"S": job_id}},
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        client = self._client.get()
        try:
            reply = client.update_item(**request)
        except client.exceptions.ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return None
            raise storage_error(error, operation=f"updating job {job_id}") from error
        return job_from_item(reply["Attributes"])

    def list_for_key(self, key_id: str, *, status: JobStatus | None = None, page_size: int = 100) -> list[JobRecord]:
        """Return the jobs of ``key_id`` from the eventually consistent ``by_key`` index, oldest first."""
        values: dict[str, AttributeValueTypeDef] = {":key_id": {"S": key_id}}
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": _BY_KEY,
            "KeyConditionExpression": "key_id = :key_id",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": True,
            "Limit": page_size,
        }
        if status is not None:
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"] = {"#status": "status"}
            values[":status"] = {"S": status.value}
        client = self._client.get()
        found: list[JobRecord] = []
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"listing the jobs of key {key_id}") from error
            found.extend(job_from_item(item) for item in page.get("Items", []))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return found
            request["ExclusiveStartKey"] = last_key


class JobRowRepository:
    """Writes each row's result once together with its job's counters, reads rows in file order, parks rows."""

    def __init__(
        self,
        client: ClientSource,
        *,
        rows_table: str,
        jobs_table: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = LazyClient(client)
        self._rows_table = rows_table
        self._jobs_table = jobs_table
        self._sleep = sleep

    def record(
        self, job_id: str, result: RowResult, counters: RowCounters, *, expires_at: datetime, now: datetime
    ) -> bool:
        """Write ``result`` and add ``counters`` to the job in one transaction.

        Returns ``False``, having changed nothing, when the row already has a result. Retries
        conflicts with other workers' transactions on the job item with jittered backoff, and raises
        ``RetryableStorageError`` when they persist.
        """
        require_aware(expires_at, "expires_at")
        require_aware(now, "now")
        items = [self._row_put(job_id, result, expires_at), self._counters_update(job_id, counters, now)]
        return self._transact(job_id, items, rows=f"row {result.row}")

    def record_many(
        self,
        job_id: str,
        entries: Sequence[tuple[RowResult, RowCounters]],
        *,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        """Write many row results, each with its counters, in transactions of up to ``MAX_TRANSACTION_ROWS`` rows.

        Each transaction puts its rows and adds their summed counters to the job once. When one of
        its rows already has a result (an ingest that resumes after a crash), the transaction changes
        nothing, and its rows are written again one at a time with ``record``, so every row's counters
        are added exactly once. Returns the number of rows written. Raises as ``record`` does.
        """
        require_aware(expires_at, "expires_at")
        require_aware(now, "now")
        written = 0
        for start in range(0, len(entries), MAX_TRANSACTION_ROWS):
            chunk = entries[start : start + MAX_TRANSACTION_ROWS]
            total = RowCounters(rows_done=0)
            items: list[TransactWriteItemTypeDef] = []
            for result, counters in chunk:
                items.append(self._row_put(job_id, result, expires_at))
                total += counters
            items.append(self._counters_update(job_id, total, now))
            if self._transact(job_id, items, rows=f"rows {chunk[0][0].row} to {chunk[-1][0].row}"):
                written += len(chunk)
                continue
            get_logger().info("row batch partly recorded, writing rows one at a time", job_id=job_id, rows=len(chunk))
            for result, counters in chunk:
                written += self.record(job_id, result, counters, expires_at=expires_at, now=now)
        return written

    def _row_put(self, job_id: str, result: RowResult, expires_at: datetime) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._rows_table,
                "Item": {
                    "pk": {"S": job_id},
                    "sk": {"S": row_sort_key(result.row)},
                    "result": {"S": result.model_dump_json(exclude_none=True)},
                    "expires_at": {"N": str(int(expires_at.timestamp()))},
                },
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        }

    def _counters_update(self, job_id: str, counters: RowCounters, now: datetime) -> TransactWriteItemTypeDef:
        values: dict[str, AttributeValueTypeDef] = {":now": {"S": utc_text(now)}}
        adds = []
        for name in _COUNTER_FIELDS:
            amount = getattr(counters, name)
            if amount:
                values[f":{name}"] = {"N": str(amount)}
                adds.append(f"{name} :{name}")
        update = "SET updated_at = :now" + (" ADD " + ", ".join(adds) if adds else "")
        return {
            "Update": {
                "TableName": self._jobs_table,
                "Key": {"pk": {"S": job_id}},
                "UpdateExpression": update,
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": values,
            }
        }

    def _transact(self, job_id: str, items: list[TransactWriteItemTypeDef], *, rows: str) -> bool:
        """Run one transaction of row puts followed by the job's counter update.

        Returns ``False``, having changed nothing, when a row put fails its condition (the row exists).
        """
        client = self._client.get()
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                client.transact_write_items(TransactItems=items)
            except client.exceptions.ClientError as error:
                # The reasons follow the request order, so all but the last belong to row puts.
                row_reasons = cancellation_codes(error)[: len(items) - 1]
                if error_code(error) == "TransactionCanceledException" and "ConditionalCheckFailed" in row_reasons:
                    return False
                mapped = storage_error(error, operation=f"recording {rows} of job {job_id}")
                if not isinstance(mapped, RetryableStorageError) or attempt == _WRITE_ATTEMPTS - 1:
                    raise mapped from error
                delay = random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311
                get_logger().info("row write retry", job_id=job_id, rows=rows, code=mapped.code)
                self._sleep(delay)
                continue
            return True
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get(self, job_id: str, row: int) -> RowResult | None:
        client = self._client.get()
        try:
            reply = client.get_item(
                TableName=self._rows_table,
                Key={"pk": {"S": job_id}, "sk": {"S": row_sort_key(row)}},
                ConsistentRead=True,
            )
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading row {row} of job {job_id}") from error
        item = reply.get("Item")
        return None if item is None else _row_from_item(job_id, item)

    def iter_rows(self, job_id: str, *, page_size: int = 500) -> Iterator[RowResult]:
        """Yield the job's row results in row order, one query page at a time (strongly consistent)."""
        request: QueryInputTypeDef = {
            "TableName": self._rows_table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": job_id}},
            "ScanIndexForward": True,
            "ConsistentRead": True,
            "Limit": page_size,
        }
        client = self._client.get()
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"reading the rows of job {job_id}") from error
            for item in page.get("Items", []):
                yield _row_from_item(job_id, item)
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return
            request["ExclusiveStartKey"] = last_key

    def park(self, job_id: str, row: int, body: str, *, expires_at: datetime) -> None:
        """Keep a row message while its job is on hold; parking the same row again replaces it."""
        client = self._client.get()
        try:
            client.put_item(
                TableName=self._rows_table,
                Item={
                    "pk": {"S": job_id + _PARKED_SUFFIX},
                    "sk": {"S": row_sort_key(row)},
                    "body": {"S": body},
                    "expires_at": {"N": str(int(expires_at.timestamp()))},
                },
            )
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"parking row {row} of job {job_id}") from error

    def parked(self, job_id: str) -> list[tuple[int, str]]:
        """Return the parked rows of a job as (row number, message body), in row order."""
        request: QueryInputTypeDef = {
            "TableName": self._rows_table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": job_id + _PARKED_SUFFIX}},
            "ConsistentRead": True,
        }
        client = self._client.get()
        found: list[tuple[int, str]] = []
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"reading the parked rows of job {job_id}") from error
            found.extend((int(item["sk"]["S"]), item["body"]["S"]) for item in page.get("Items", []))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return found
            request["ExclusiveStartKey"] = last_key

    def unpark(self, job_id: str, row: int) -> None:
        client = self._client.get()
        try:
            client.delete_item(
                TableName=self._rows_table,
                Key={"pk": {"S": job_id + _PARKED_SUFFIX}, "sk": {"S": row_sort_key(row)}},
            )
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"removing parked row {row} of job {job_id}") from error


def job_to_item(record: JobRecord) -> dict[str, AttributeValueTypeDef]:
    """Return the table item of a job. Fields that are ``None`` are left out."""
    item: dict[str, AttributeValueTypeDef] = {"pk": {"S": record.job_id}}
    for name in JobRecord.model_fields:
        if name == "job_id":
            continue
        value = getattr(record, name)
        if value is None:
            continue
        item[name] = _attribute(name, value)
    return item


def job_from_item(item: Mapping[str, AttributeValueTypeDef]) -> JobRecord:
    """Rebuild a ``JobRecord`` from its item. Raises ``StorageError`` when the item is malformed."""
    document: dict[str, Any] = {"job_id": item["pk"]["S"]}
    for name in JobRecord.model_fields:
        value = item.get(name)
        if name == "job_id" or value is None:
            continue
        if name in _NUMBER_FIELDS:
            document[name] = int(value["N"])
        elif name in _JSON_FIELDS:
            document[name] = json.loads(value["S"])
        else:
            document[name] = value["S"]
    try:
        return JobRecord.model_validate(document)
    except ValidationError as error:
        raise StorageError(f"job item {document['job_id']} is malformed: {error}", code="MalformedItem") from error


def _attribute(name: str, value: Any) -> AttributeValueTypeDef:
    if name not in JobRecord.model_fields:
        raise ValueError(f"{name!r} is not a job field; send one of {', '.join(JobRecord.model_fields)}")
    if name in _NUMBER_FIELDS:
        return {"N": str(int(value))}
    if name in _TIME_FIELDS:
        return {"S": utc_text(value)}
    if name in _JSON_FIELDS:
        plain = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        if isinstance(plain, list):
            plain = [entry.value if hasattr(entry, "value") else entry for entry in plain]
        return {"S": json.dumps(plain, sort_keys=True)}
    return {"S": value.value if hasattr(value, "value") else str(value)}


def _row_from_item(job_id: str, item: Mapping[str, AttributeValueTypeDef]) -> RowResult:
    try:
        return RowResult.model_validate_json(item["result"]["S"])
    except (KeyError, ValidationError) as error:
        sort_key = item.get("sk", {}).get("S", "?")
        raise StorageError(f"row {sort_key} of job {job_id} is malformed: {error}", code="MalformedItem") from error
