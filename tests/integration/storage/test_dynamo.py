"""Table creation from the schema, against moto."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cascade.settings import Settings
from cascade.storage.dynamo import create_tables, table_names
from cascade.storage.schema import TABLES
from tests.integration.storage.conftest import TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def test_create_tables_from_schema(client: DynamoDBClient, tables: dict[str, str]) -> None:
    assert sorted(client.list_tables()["TableNames"]) == sorted(TABLE_NAMES.values())
    for spec in TABLES:
        table = client.describe_table(TableName=tables[spec.logical_name])["Table"]
        keys = {element["AttributeName"]: element["KeyType"] for element in table["KeySchema"]}
        expected = {spec.partition_key: "HASH"} | ({spec.sort_key: "RANGE"} if spec.sort_key else {})
        assert keys == expected
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert all(definition["AttributeType"] == "S" for definition in table["AttributeDefinitions"])


def test_create_tables_ledger_index(client: DynamoDBClient, tables: dict[str, str]) -> None:
    table = client.describe_table(TableName=tables["ledger"])["Table"]
    indexes = table["GlobalSecondaryIndexes"]
    assert [index["IndexName"] for index in indexes] == ["by_key_month"]
    keys = {element["AttributeName"]: element["KeyType"] for element in indexes[0]["KeySchema"]}
    assert keys == {"key_month": "HASH", "line_order": "RANGE"}
    assert indexes[0]["Projection"]["ProjectionType"] == "ALL"


@pytest.mark.parametrize(("logical", "status"), [("freshness", "ENABLED"), ("ledger", "DISABLED")])
def test_create_tables_ttl(client: DynamoDBClient, tables: dict[str, str], logical: str, status: str) -> None:
    description = client.describe_time_to_live(TableName=tables[logical])["TimeToLiveDescription"]
    assert description["TimeToLiveStatus"] == status


def test_create_tables_ttl_attribute(client: DynamoDBClient, tables: dict[str, str]) -> None:
    description = client.describe_time_to_live(TableName=tables["freshness"])["TimeToLiveDescription"]
    assert description.get("AttributeName") == "expires_at"


def test_create_tables_idempotent(client: DynamoDBClient, tables: dict[str, str]) -> None:
    client.put_item(TableName=tables["usage"], Item={"pk": {"S": "key_1#2026-03"}, "sk": {"S": "email#00"}})
    create_tables(client, tables)
    assert client.scan(TableName=tables["usage"])["Count"] == 1
    assert len(client.list_tables()["TableNames"]) == len(TABLES)


def test_create_tables_completes_ttl(client: DynamoDBClient, aws: None) -> None:
    # A previous run created the freshness table but stopped before enabling its TTL.
    client.create_table(
        TableName=TABLE_NAMES["freshness"],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    create_tables(client, TABLE_NAMES)
    description = client.describe_time_to_live(TableName=TABLE_NAMES["freshness"])["TimeToLiveDescription"]
    assert description["TimeToLiveStatus"] == "ENABLED"


def test_create_tables_missing_name(client: DynamoDBClient) -> None:
    names = {name: table for name, table in TABLE_NAMES.items() if name != "usage"}
    with pytest.raises(ValueError, match="usage"):
        create_tables(client, names)
    assert client.list_tables()["TableNames"] == []


def test_table_names_from_settings() -> None:
    settings = Settings(ledger_table="l", usage_table="u", freshness_table="f", suppressions_table="s")
    names = table_names(settings)
    assert names["ledger"] == "l"
    assert names["usage"] == "u"
    assert names["freshness"] == "f"
    assert names["suppressions"] == "s"
    assert set(names) == {spec.logical_name for spec in TABLES}
