"""DynamoDB plumbing shared by the repositories: clients, table creation and error mapping.

Repositories take a client or a zero-argument factory and resolve it on first use, so
importing a module never builds a boto3 client. AWS errors become the exceptions below by
their error code (and, for a cancelled transaction, by the codes in ``CancellationReasons``),
never by message text.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cascade.storage.schema import TABLES, TableSpec

if TYPE_CHECKING:
    from typing import TypeAlias

    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        CreateTableInputTypeDef,
        KeySchemaElementTypeDef,
    )

    from cascade.settings import Settings

    ClientSource: TypeAlias = DynamoDBClient | Callable[[], DynamoDBClient]

# Codes that mean "the same request may succeed if sent again later": throttling, a conflicting
# concurrent transaction on one of the items, and transient service faults.
_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ThrottlingError",
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
        "TransactionConflict",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# A cancellation reason of "None" marks an item of the transaction that did not cause the cancellation.
_NO_REASON = "None"
_TABLE_WAIT_DELAY_SECONDS = 1
_TABLE_WAIT_MAX_ATTEMPTS = 60


class StorageError(Exception):
    """A DynamoDB request failed. ``code`` is the AWS error code, or a cancellation reason code."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class RetryableStorageError(StorageError):
    """A DynamoDB request was throttled or conflicted with a concurrent one, so sending it again is safe."""


class TableNotFoundError(StorageError):
    """A table that a request names does not exist (or is not yet active)."""


def table_names(settings: Settings) -> dict[str, str]:
    """Map each table's logical name in ``schema.TABLES`` to its physical name from ``settings``."""
    names: dict[str, str] = {}
    for spec in TABLES:
        physical = getattr(settings, f"{spec.logical_name}_table", None)
        if not isinstance(physical, str):
            raise ValueError(f"settings has no {spec.logical_name}_table field for the {spec.logical_name!r} table")
        names[spec.logical_name] = physical
    return names


def client_factory(*, region_name: str | None = None, endpoint_url: str | None = None) -> Callable[[], DynamoDBClient]:
    """Return a factory that builds one DynamoDB client on its first call and returns it afterwards.

    botocore's ``standard`` retry mode retries throttling and transient faults a few times
    before an error reaches the repositories. ``None`` arguments leave the choice to boto3,
    which reads ``AWS_REGION`` and ``AWS_ENDPOINT_URL`` when the client is built.
    """
    lock = threading.Lock()
    built: list[DynamoDBClient] = []

    def factory() -> DynamoDBClient:
        with lock:
            if not built:
                built.append(_new_client(region_name=region_name, endpoint_url=endpoint_url))
            return built[0]

    return factory


def _new_client(*, region_name: str | None, endpoint_url: str | None) -> DynamoDBClient:
    import boto3  # noqa: PLC0415 - boto3 costs about 100 ms to import, so only the first client pays it
    from botocore.config import Config  # noqa: PLC0415

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", region_name=region_name, endpoint_url=endpoint_url, config=config)


class LazyClient:
    """A DynamoDB client passed in directly, or built by a factory on first use and then reused."""

    def __init__(self, source: ClientSource) -> None:
        self._source = source
        self._client: DynamoDBClient | None = None
        self._lock = threading.Lock()

    def get(self) -> DynamoDBClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    source = self._source
                    # A botocore client is not callable, so a callable source is a factory.
                    self._client = source() if callable(source) else source
        return self._client


def require_aware(moment: datetime, name: str) -> None:
    """Raise ``ValueError`` when ``moment`` has no time zone. ``name`` is the argument named in the message."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment.isoformat()} has no time zone; send an aware datetime, such as in UTC")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> tuple[str, ...]:
    """Return the reason code of each item of a cancelled transaction, in request order ("None" for no fault)."""
    reasons: Sequence[Mapping[str, Any]] = error.response.get("CancellationReasons") or ()
    return tuple(str(reason.get("Code") or _NO_REASON) for reason in reasons)


def storage_error(error: ClientError, *, operation: str) -> StorageError:
    """Map a ``ClientError`` to the storage exception for its code. ``operation`` names the step in the message."""
    code = error_code(error)
    if code == "TransactionCanceledException":
        faults = [reason for reason in cancellation_codes(error) if reason != _NO_REASON]
        lasting = [reason for reason in faults if reason not in _RETRYABLE_CODES]
        if faults and not lasting:
            return RetryableStorageError(
                f"{operation} was cancelled by {', '.join(faults)}; send it again", code=faults[0]
            )
        # A fault that a retry cannot clear decides the outcome, even next to a conflict.
        reason_code = lasting[0] if lasting else code
        return StorageError(f"{operation} was cancelled: {', '.join(faults) or 'no reason given'}", code=reason_code)
    if code in _RETRYABLE_CODES:
        return RetryableStorageError(f"{operation} failed with {code}; send it again", code=code)
    if code == "ResourceNotFoundException":
        return TableNotFoundError(
            f"{operation} failed because a table it names does not exist; create the tables first", code=code
        )
    return StorageError(f"{operation} failed with {code or 'an unknown error'}", code=code or "Unknown")


def create_tables(client: DynamoDBClient, names: Mapping[str, str]) -> None:
    """Create every table in ``schema.TABLES`` under the physical name ``names[logical name]``.

    Tables are on-demand (PAY_PER_REQUEST), every secondary index projects all attributes, and
    TTL is enabled on the spec's ``ttl_attribute``. An existing table keeps its keys and
    indexes, but its TTL is still enabled when it is off, so that a run interrupted between
    creating a table and enabling its TTL is completed by the next run.
    """
    missing = [spec.logical_name for spec in TABLES if spec.logical_name not in names]
    if missing:
        raise ValueError(f"no physical table name for {', '.join(missing)}; pass a name for every table in TABLES")
    for spec in TABLES:
        table_name = names[spec.logical_name]
        _create_table(client, spec, table_name)
        if spec.ttl_attribute is not None:
            _enable_ttl(client, table_name, spec.ttl_attribute)


def _create_table(client: DynamoDBClient, spec: TableSpec, table_name: str) -> None:
    try:
        client.describe_table(TableName=table_name)
    except client.exceptions.ResourceNotFoundException:
        # ResourceInUseException: another process created it between the describe and the create.
        with contextlib.suppress(client.exceptions.ResourceInUseException):
            client.create_table(**_create_table_request(spec, table_name))
    waiter = client.get_waiter("table_exists")
    waiter.wait(
        TableName=table_name,
        WaiterConfig={"Delay": _TABLE_WAIT_DELAY_SECONDS, "MaxAttempts": _TABLE_WAIT_MAX_ATTEMPTS},
    )


def _create_table_request(spec: TableSpec, table_name: str) -> CreateTableInputTypeDef:
    key_schema: list[KeySchemaElementTypeDef] = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    attributes = [spec.partition_key]
    if spec.sort_key is not None:
        key_schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
        attributes.append(spec.sort_key)
    for index in spec.indexes:
        attributes.extend([index.partition_key, index.sort_key])
    definitions: list[AttributeDefinitionTypeDef] = [
        {"AttributeName": name, "AttributeType": "S"} for name in dict.fromkeys(attributes)
    ]
    request: CreateTableInputTypeDef = {
        "TableName": table_name,
        "KeySchema": key_schema,
        "AttributeDefinitions": definitions,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    return request


def _enable_ttl(client: DynamoDBClient, table_name: str, attribute: str) -> None:
    description = client.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
    if description.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        return
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )
