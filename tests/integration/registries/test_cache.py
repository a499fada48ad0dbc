"""The company cache against moto, and the enricher serving repeated lookups from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest

from cascade.registries.models import CompanyIdentifiers, CompanyQuery, MatchStatus
from cascade.registries.service import CompanyEnricher, build_company_enricher
from cascade.settings import Settings
from cascade.storage.companies import CompanyCache, fact_key, query_key
from cascade.storage.dynamo import StorageError, TableNotFoundError, create_tables
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES
from tests.unit.registries.support import RecordedRegistries

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
TABLE = TEST_TABLE_NAMES["companies"]


@pytest.fixture
def client(aws: None) -> DynamoDBClient:
    dynamodb = boto3.client("dynamodb", region_name=MOTO_REGION)
    create_tables(dynamodb, TEST_TABLE_NAMES)
    return dynamodb


@pytest.fixture
def cache(client: DynamoDBClient) -> CompanyCache:
    return CompanyCache(client, table=TABLE, cache_days=7)


def test_cache_round_trip(cache: CompanyCache) -> None:
    cache.put("gleif#INR2EJN1ERAN0W5ZP974", {"legal_name": "MICROSOFT CORPORATION"}, now=NOW)
    assert cache.get("gleif#INR2EJN1ERAN0W5ZP974", now=NOW) == {"legal_name": "MICROSOFT CORPORATION"}
    assert cache.get("gleif#HWUPKR0MPOU8FGXBT394", now=NOW) is None


def test_cache_ttl_attribute(cache: CompanyCache, client: DynamoDBClient) -> None:
    cache.put("brreg#923609016", {"a": 1}, now=NOW)
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "brreg#923609016"}})["Item"]
    assert item["expires_at"] == {"N": str(int((NOW + timedelta(days=7)).timestamp()))}


def test_cache_expired_item_ignored(cache: CompanyCache) -> None:
    cache.put("brreg#923609016", {"a": 1}, now=NOW)
    assert cache.get("brreg#923609016", now=NOW + timedelta(days=7, seconds=-1)) == {"a": 1}
    assert cache.get("brreg#923609016", now=NOW + timedelta(days=7)) is None


def test_cache_disabled(client: DynamoDBClient) -> None:
    disabled = CompanyCache(client, table=TABLE, cache_days=0)
    disabled.put("brreg#923609016", {"a": 1}, now=NOW)
    assert "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": "brreg#923609016"}})


def test_cache_missing_table(client: DynamoDBClient) -> None:
    missing = CompanyCache(client, table="no-such-table", cache_days=7)
    with pytest.raises(TableNotFoundError):
        missing.get("brreg#923609016", now=NOW)


def test_cache_keys() -> None:
    assert fact_key("companies_house", "00445790") == "companies_house#00445790"
    assert query_key("x").startswith("query#")
    assert len(query_key("x")) == len("query#") + 64
    with pytest.raises(ValueError, match="needs a registry and an identifier"):
        fact_key("", "00445790")


def _enricher(client: DynamoDBClient, handler: RecordedRegistries, *, table: str = TABLE) -> CompanyEnricher:
    settings = Settings(companies_table=table, company_cache_days=7)
    return build_company_enricher(settings, transport=httpx.MockTransport(handler), dynamodb=client, clock=lambda: NOW)


def test_enricher_cache_hit_avoids_http(client: DynamoDBClient) -> None:
    handler = RecordedRegistries()
    enricher = _enricher(client, handler)
    query = CompanyQuery(name="Equinor ASA", country="NO")
    first = enricher.enrich(query)
    requests_after_first = len(handler.requests)
    second = enricher.enrich(CompanyQuery(name="EQUINOR asa", country="NO"))
    assert first.status is MatchStatus.RESOLVED
    assert requests_after_first > 0
    assert len(handler.requests) == requests_after_first
    assert second == first


def test_enricher_identifier_served_from_facts(client: DynamoDBClient) -> None:
    handler = RecordedRegistries()
    enricher = _enricher(client, handler)
    enricher.enrich(CompanyQuery(name="Equinor ASA", country="NO"))
    count = len(handler.requests)
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(no_org_number="923609016")))
    assert len(handler.requests) == count
    assert match.company is not None
    assert match.company.legal_name.value == "EQUINOR ASA"
    assert match.notes == ["Served from the cache."]


def test_enricher_cache_failure_is_soft(client: DynamoDBClient) -> None:
    handler = RecordedRegistries()
    enricher = _enricher(client, handler, table="no-such-table")
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(no_org_number="923609016")))
    assert match.status is MatchStatus.RESOLVED
    assert isinstance(TableNotFoundError("x", code="ResourceNotFoundException"), StorageError)
