"""Fixtures for the DynamoDB repositories: moto with every table created from the schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from cascade.storage.dynamo import create_tables
from cascade.storage.ledger import LedgerRepository
from cascade.storage.usage import UsageRepository
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = MOTO_REGION
TABLE_NAMES = TEST_TABLE_NAMES
SHARDS = 10


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
