"""Fixtures for the API keys: moto with every table created from the schema, and a repository on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from cascade.api.authorizer import install_key_lookup
from cascade.storage.dynamo import create_tables
from cascade.storage.keys import ApiKeyRepository
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = MOTO_REGION
TABLE_NAMES = TEST_TABLE_NAMES


@pytest.fixture
def client(aws: None) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(client: DynamoDBClient) -> str:
    create_tables(client, TABLE_NAMES)
    return TABLE_NAMES["api_keys"]


@pytest.fixture
def repository(client: DynamoDBClient, table: str) -> ApiKeyRepository:
    return ApiKeyRepository(client, table=table)


@pytest.fixture
def installed(repository: ApiKeyRepository) -> Iterator[ApiKeyRepository]:
    """The repository, installed as the authorizer's key lookup until the test ends."""
    install_key_lookup(repository)
    yield repository
    install_key_lookup(None)
