"""Fixtures for the DynamoDB repositories: moto with every table created from the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from cascade.storage.dynamo import create_tables
from cascade.storage.ledger import LedgerRepository
from cascade.storage.schema import TABLES
from cascade.storage.usage import UsageRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLE_NAMES = {spec.logical_name: f"test-{spec.logical_name.replace('_', '-')}" for spec in TABLES}
SHARDS = 10


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Fake credentials and no endpoint override, so that nothing can reach a real account.
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        yield


@pytest.fixture
def client(aws: None) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def tables(client: DynamoDBClient) -> dict[str, str]:
    create_tables(client, TABLE_NAMES)
    return dict(TABLE_NAMES)


@pytest.fixture
def sleeps() -> list[float]:
    """Delays that repositories asked to sleep, recorded instead of slept."""
    return []


@pytest.fixture
def ledger(client: DynamoDBClient, tables: dict[str, str], sleeps: list[float]) -> LedgerRepository:
    return LedgerRepository(
        client, ledger_table=tables["ledger"], usage_table=tables["usage"], shards=SHARDS, sleep=sleeps.append
    )


@pytest.fixture
def usage(client: DynamoDBClient, tables: dict[str, str]) -> UsageRepository:
    return UsageRepository(client, usage_table=tables["usage"])
