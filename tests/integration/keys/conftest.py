"""Fixtures for the API keys: moto with every table created from the schema, and a repository on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from cascade.api.authorizer import install_key_lookup
from cascade.storage.dynamo import create_tables
from cascade.storage.keys import ApiKeyRepository
from cascade.storage.schema import TABLES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLE_NAMES = {spec.logical_name: f"test-{spec.logical_name.replace('_', '-')}" for spec in TABLES}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Fake credentials and no endpoint override, so that nothing can reach a real account or a metadata address.
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
