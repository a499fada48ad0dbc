"""Mapping of DynamoDB errors to storage errors by code, and lazy client resolution."""

from __future__ import annotations

from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from cascade.storage.dynamo import (
    LazyClient,
    RetryableStorageError,
    StorageError,
    TableNotFoundError,
    cancellation_codes,
    client_factory,
    storage_error,
)


def _error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "text that must not matter"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(cast(Any, response), "TransactWriteItems")


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (_error("ThrottlingException"), RetryableStorageError, "ThrottlingException"),
        (
            _error("ProvisionedThroughputExceededException"),
            RetryableStorageError,
            "ProvisionedThroughputExceededException",
        ),
        (_error("RequestLimitExceeded"), RetryableStorageError, "RequestLimitExceeded"),
        (_error("InternalServerError"), RetryableStorageError, "InternalServerError"),
        (_error("TransactionInProgressException"), RetryableStorageError, "TransactionInProgressException"),
        (_error("ResourceNotFoundException"), TableNotFoundError, "ResourceNotFoundException"),
        (_error("ValidationException"), StorageError, "ValidationException"),
        (_error("AccessDeniedException"), StorageError, "AccessDeniedException"),
        (_error(""), StorageError, "Unknown"),
        (
            _error("TransactionCanceledException", ["None", "TransactionConflict"]),
            RetryableStorageError,
            "TransactionConflict",
        ),
        (_error("TransactionCanceledException", ["ThrottlingError", "None"]), RetryableStorageError, "ThrottlingError"),
        (_error("TransactionCanceledException", ["None", "ValidationError"]), StorageError, "ValidationError"),
        (
            _error("TransactionCanceledException", ["TransactionConflict", "ItemCollectionSizeLimitExceeded"]),
            StorageError,
            "ItemCollectionSizeLimitExceeded",
        ),
        (_error("TransactionCanceledException"), StorageError, "TransactionCanceledException"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_storage_error_by_code(error: ClientError, kind: type[StorageError], code: str) -> None:
    mapped = storage_error(error, operation="charging mat_1")
    assert type(mapped) is kind
    assert mapped.code == code
    assert "charging mat_1" in str(mapped)


def test_storage_error_ignores_message() -> None:
    error = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "Throughput exceeds the current capacity; throttled"}},
        "PutItem",
    )
    assert not isinstance(storage_error(error, operation="x"), RetryableStorageError)


def test_cancellation_codes_order() -> None:
    error = _error("TransactionCanceledException", ["ConditionalCheckFailed", "None"])
    assert cancellation_codes(error) == ("ConditionalCheckFailed", "None")


def test_cancellation_codes_missing() -> None:
    assert cancellation_codes(_error("ThrottlingException")) == ()


def test_lazy_client_calls_factory_once() -> None:
    marker = object()
    calls: list[int] = []

    def factory() -> Any:
        calls.append(1)
        return marker

    lazy = LazyClient(factory)
    assert calls == []
    assert lazy.get() is marker
    assert lazy.get() is marker
    assert calls == [1]


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials from the environment keep botocore from looking further, such as at instance metadata.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.mark.usefixtures("fake_credentials")
def test_lazy_client_direct_client() -> None:
    client = client_factory(region_name="eu-west-1")()
    assert LazyClient(client).get() is client


@pytest.mark.usefixtures("fake_credentials")
def test_client_factory_builds_once() -> None:
    factory = client_factory(region_name="eu-west-1", endpoint_url="http://127.0.0.1:1")
    first = factory()
    assert factory() is first
    assert first.meta.region_name == "eu-west-1"
    assert first.meta.endpoint_url == "http://127.0.0.1:1"
