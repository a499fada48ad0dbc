"""ApiKeyRepository against moto: create, look up, list, revoke and re-price keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from cascade.domain.keys import KeyMode, KeyStatus, hash_key
from cascade.domain.plans import KeyPlan
from cascade.storage.dynamo import StorageError, TableNotFoundError
from cascade.storage.keys import ApiKeyRepository, KeyNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
UNKNOWN_ID = "key_0000000000000000"


def test_create_then_find_by_hash(repository: ApiKeyRepository) -> None:
    key, plaintext = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), "CRM sync", now=NOW)
    assert repository.find_by_hash(hash_key(plaintext)) == key


def test_find_by_hash_unknown(repository: ApiKeyRepository) -> None:
    assert repository.find_by_hash(hash_key("cas_live_" + "A" * 43)) is None


def test_create_stores_only_hash(repository: ApiKeyRepository, client: DynamoDBClient, table: str) -> None:
    key, plaintext = repository.create("acct_1", KeyMode.TEST, KeyPlan(), now=NOW)
    items = client.scan(TableName=table)["Items"]
    stored = [value for item in items for attribute in item.values() for value in attribute.values()]
    assert len(items) == 1
    assert items[0]["pk"] == {"S": hash_key(plaintext)}
    assert not [value for value in stored if isinstance(value, str) and plaintext[9:] in value]
    assert items[0]["prefix"] == {"S": key.prefix}


def test_get_by_key_id(repository: ApiKeyRepository) -> None:
    key, _ = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    assert repository.get(key.key_id) == key


def test_get_unknown_key_id(repository: ApiKeyRepository) -> None:
    assert repository.get(UNKNOWN_ID) is None


def test_list_account_oldest_first(repository: ApiKeyRepository) -> None:
    later, _ = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW + timedelta(minutes=5))
    earlier, _ = repository.create("acct_1", KeyMode.TEST, KeyPlan(), now=NOW)
    repository.create("acct_2", KeyMode.LIVE, KeyPlan(), now=NOW)
    assert repository.list("acct_1") == [earlier, later]


def test_list_account_paginates(repository: ApiKeyRepository) -> None:
    created = [
        repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW + timedelta(seconds=i))[0] for i in range(5)
    ]
    assert repository.list("acct_1", page_size=2) == created


def test_list_unknown_account_empty(repository: ApiKeyRepository) -> None:
    assert repository.list("acct_none") == []


def test_list_every_account_paginates(repository: ApiKeyRepository) -> None:
    created = [
        repository.create(f"acct_{i % 3}", KeyMode.LIVE, KeyPlan(), now=NOW + timedelta(seconds=i))[0] for i in range(7)
    ]
    assert repository.list(page_size=2) == created


def test_revoke_sets_status_and_time(repository: ApiKeyRepository) -> None:
    key, plaintext = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    revoked = repository.revoke(key.key_id, NOW + timedelta(hours=1))
    assert revoked.status is KeyStatus.REVOKED
    assert revoked.revoked_at == NOW + timedelta(hours=1)
    assert repository.find_by_hash(hash_key(plaintext)) == revoked


def test_revoke_twice_keeps_first_time(repository: ApiKeyRepository) -> None:
    key, _ = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    first = repository.revoke(key.key_id, NOW + timedelta(hours=1))
    second = repository.revoke(key.key_id, NOW + timedelta(hours=2))
    assert second == first


def test_revoke_unknown_names_id(repository: ApiKeyRepository) -> None:
    with pytest.raises(KeyNotFoundError, match=UNKNOWN_ID) as caught:
        repository.revoke(UNKNOWN_ID, NOW)
    assert caught.value.key_id == UNKNOWN_ID


def test_revoke_before_creation_rejected(repository: ApiKeyRepository) -> None:
    key, _ = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    with pytest.raises(ValueError, match="before the key was created"):
        repository.revoke(key.key_id, NOW - timedelta(seconds=1))


def test_update_plan_replaces_plan(repository: ApiKeyRepository) -> None:
    key, plaintext = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    plan = KeyPlan(email_price=Decimal("0.15"), monthly_cap=Decimal("500.00"), accept_catch_all=True)
    updated = repository.update_plan(key.key_id, plan)
    assert updated.plan == plan
    assert updated.key_id == key.key_id
    assert repository.find_by_hash(hash_key(plaintext)) == updated


def test_update_plan_unknown_names_id(repository: ApiKeyRepository) -> None:
    with pytest.raises(KeyNotFoundError, match=UNKNOWN_ID):
        repository.update_plan(UNKNOWN_ID, KeyPlan())


def test_duplicate_key_id_detected(repository: ApiKeyRepository, client: DynamoDBClient, table: str) -> None:
    key, _ = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    copy = client.scan(TableName=table)["Items"][0] | {"pk": {"S": "f" * 64}}
    client.put_item(TableName=table, Item=copy)
    with pytest.raises(StorageError, match="2 API keys share the id") as caught:
        repository.get(key.key_id)
    assert caught.value.code == "DuplicateKeyId"


def test_missing_table_raises(client: DynamoDBClient) -> None:
    repository = ApiKeyRepository(client, table="no-such-table")
    with pytest.raises(TableNotFoundError):
        repository.find_by_hash("0" * 64)


def test_revoke_race_keeps_first_time(repository: ApiKeyRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    key, plaintext = repository.create("acct_1", KeyMode.LIVE, KeyPlan(), now=NOW)
    first = repository.revoke(key.key_id, NOW + timedelta(hours=1))
    # A second revoke that read the key before the first one wrote finds it still active.
    monkeypatch.setattr(repository, "_find_by_key_id", lambda _key_id: (hash_key(plaintext), key))
    assert repository.revoke(key.key_id, NOW + timedelta(hours=2)) == first
