"""The Companies House key read from the provider credentials store (Secrets Manager in moto) on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from pydantic import HttpUrl, SecretStr

from cascade.registries.models import CompanyIdentifiers, CompanyQuery, MatchStatus, Registry
from cascade.registries.pacing import PaceLimit
from cascade.registries.service import CompanyEnricher, build_company_enricher
from cascade.settings import Settings, Stage
from cascade.storage.dynamo import create_tables
from cascade.waterfall.dependencies import secrets_manager_client
from infra.sandbox.app import registry_apis
from infra.sandbox.directory import default_directory
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox, running
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "cascade/providers/"
SANDBOX_KEY = SANDBOX_CREDENTIALS["companies_house"]["api_key"]
FAST = PaceLimit(capacity=1000, refill_per_second=1000.0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running(registry_apis(default_directory())) as started:
        yield started


@pytest.fixture
def dynamodb(aws: None) -> Iterator[DynamoDBClient]:
    # The Secrets Manager client is cached per process, so each test clears it to get one inside its own moto mock.
    secrets_manager_client.cache_clear()
    client = boto3.client("dynamodb", region_name=MOTO_REGION)
    create_tables(client, TEST_TABLE_NAMES)
    yield client
    secrets_manager_client.cache_clear()


def _store_secret(value: str) -> None:
    boto3.client("secretsmanager", region_name=MOTO_REGION).create_secret(
        Name=f"{PREFIX}companies_house", SecretString=value
    )


def _enricher(sandbox: RunningSandbox, dynamodb: DynamoDBClient, *, api_key: str | None = None) -> CompanyEnricher:
    settings = Settings(
        stage=Stage.AWS,
        sandbox_url=HttpUrl(sandbox.url),
        provider_secret_prefix=PREFIX,
        companies_table=TEST_TABLE_NAMES["companies"],
        provider_connect_timeout_seconds=1.0,
        provider_read_timeout_seconds=3.0,
        companies_house_api_key=SecretStr(api_key) if api_key is not None else None,
    )
    return build_company_enricher(settings, dynamodb=lambda: dynamodb, pace_limits=dict.fromkeys(Registry, FAST))


def test_key_from_secret_used(sandbox: RunningSandbox, dynamodb: DynamoDBClient) -> None:
    _store_secret(json.dumps({"api_key": SANDBOX_KEY}))
    enricher = _enricher(sandbox, dynamodb)
    try:
        assert enricher.registries.companies_house is not None
        match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="00445790")))
    finally:
        enricher.close()
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.legal_name.source is Registry.COMPANIES_HOUSE


def test_missing_secret_skips_registry(sandbox: RunningSandbox, dynamodb: DynamoDBClient) -> None:
    enricher = _enricher(sandbox, dynamodb)
    try:
        assert enricher.registries.companies_house is None
        notes = enricher.registries.skipped_notes
    finally:
        enricher.close()
    assert any(f"{PREFIX}companies_house" in note for note in notes)


def test_malformed_secret_skips_registry(sandbox: RunningSandbox, dynamodb: DynamoDBClient) -> None:
    _store_secret(json.dumps({"api_key": 12345}))
    enricher = _enricher(sandbox, dynamodb)
    try:
        assert enricher.registries.companies_house is None
    finally:
        enricher.close()


def test_setting_wins_over_secret(sandbox: RunningSandbox, dynamodb: DynamoDBClient) -> None:
    _store_secret(json.dumps({"api_key": "wrong-key"}))
    enricher = _enricher(sandbox, dynamodb, api_key=SANDBOX_KEY)
    try:
        match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="00445790")))
    finally:
        enricher.close()
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.legal_name.source is Registry.COMPANIES_HOUSE
