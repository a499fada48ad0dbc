"""The moto internal that the local stack patches to serialise DynamoDB requests, and the patch itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto.dynamodb.responses import DynamoHandler

from infra.local.moto_bridge import serve_moto
from infra.local.moto_serial import serialization_problems, serialized_dynamodb


def test_patched_moto_internal_unchanged() -> None:
    assert serialization_problems() == []


def test_patch_restored_after_block() -> None:
    original = DynamoHandler.__dict__["call_action"]
    with serialized_dynamodb():
        assert DynamoHandler.__dict__["call_action"] is not original
    assert DynamoHandler.__dict__["call_action"] is original


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    with serve_moto() as endpoint, serialized_dynamodb():
        yield endpoint


def test_concurrent_transactions_all_succeed(moto_endpoint: str) -> None:
    """Writers on several threads: one transaction each per row plus a shared counter, as the bulk worker does."""

    def client() -> object:
        return boto3.client(
            "dynamodb",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    setup = client()
    setup.create_table(  # type: ignore[attr-defined]
        TableName="rows",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        dynamodb = client()
        try:
            for row in range(40):
                dynamodb.transact_write_items(  # type: ignore[attr-defined]
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": "rows",
                                "Item": {"pk": {"S": "job"}, "sk": {"S": f"{thread:02d}-{row:04d}"}},
                                "ConditionExpression": "attribute_not_exists(sk)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": "rows",
                                "Key": {"pk": {"S": "job"}, "sk": {"S": "counter"}},
                                "UpdateExpression": "ADD done :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        },
                    ]
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    counter = setup.get_item(TableName="rows", Key={"pk": {"S": "job"}, "sk": {"S": "counter"}})  # type: ignore[attr-defined]
    assert counter["Item"]["done"]["N"] == "240"


def test_cancelled_transaction_restores_named_items(moto_endpoint: str) -> None:
    """A transaction whose last condition fails leaves every item as it was, and other items untouched."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "counter"}, "done": {"N": "5"}})
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "existing"}, "value": {"S": "kept"}})
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "bystander"}, "value": {"S": "untouched"}})

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "items", "Item": {"pk": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": "items",
                        "Key": {"pk": {"S": "counter"}},
                        "UpdateExpression": "ADD done :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": "items",
                        "Item": {"pk": {"S": "existing"}, "value": {"S": "replaced"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    items = {item["pk"]["S"]: item for item in dynamodb.scan(TableName="items")["Items"]}
    assert "new" not in items
    assert items["counter"]["done"]["N"] == "5"
    assert items["existing"]["value"]["S"] == "kept"
    assert items["bystander"]["value"]["S"] == "untouched"
