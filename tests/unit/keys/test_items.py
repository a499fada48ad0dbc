"""The API keys table item: what is stored for a key, and that the key itself never is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from cascade.domain.keys import ApiKey, KeyMode, KeyStatus, hash_key
from cascade.domain.plans import KeyPlan
from cascade.storage.dynamo import StorageError
from cascade.storage.keys import ApiKeyRepository, key_from_item, key_to_item

NOW = datetime(2026, 12, 4, 15, 30, 12, 345678, tzinfo=UTC)


class _RecordingClient:
    """Stands in for a DynamoDB client: records put_item calls and accepts them."""

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []
        self.exceptions = SimpleNamespace(ClientError=ClientError)

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.puts.append(request)
        return {}


def _create(name: str | None = "CRM sync", now: datetime = NOW) -> tuple[_RecordingClient, ApiKey, str]:
    client = _RecordingClient()
    repository = ApiKeyRepository(cast(Any, client), table="api-keys")
    plan = KeyPlan(email_price=Decimal("0.25"), phone_price=Decimal("0.35"))
    key, plaintext = repository.create("acct_1", KeyMode.LIVE, plan, name, now=now)
    return client, key, plaintext


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def test_create_stores_no_plaintext() -> None:
    client, _, plaintext = _create()
    stored = _strings(client.puts[0]["Item"])
    assert not [text for text in stored if plaintext in text]
    assert not [text for text in stored if plaintext[12:20] in text]


def test_create_keys_item_by_hash() -> None:
    client, _, plaintext = _create()
    assert client.puts[0]["Item"]["pk"] == {"S": hash_key(plaintext)}


def test_create_put_is_conditional() -> None:
    client, _, _ = _create()
    assert client.puts[0]["ConditionExpression"] == "attribute_not_exists(pk)"
    assert client.puts[0]["TableName"] == "api-keys"


def test_create_returns_active_record() -> None:
    _, key, plaintext = _create()
    assert key.status is KeyStatus.ACTIVE
    assert key.prefix == plaintext[:12]
    assert key.created_at == NOW
    assert key.account_id == "acct_1"


def test_create_trims_name() -> None:
    _, key, _ = _create(name="  CRM sync  ")
    assert key.name == "CRM sync"


def test_create_drops_blank_name() -> None:
    client, key, _ = _create(name="   ")
    assert key.name is None
    assert "name" not in client.puts[0]["Item"]


def test_create_stores_created_at_in_utc() -> None:
    client, key, _ = _create(now=NOW.astimezone(timezone(timedelta(hours=-5))))
    assert client.puts[0]["Item"]["created_at"] == {"S": "2026-12-04T15:30:12.345678+00:00"}
    assert key.created_at.utcoffset() == timedelta(0)


def test_create_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        _create(now=datetime(2026, 12, 4))  # noqa: DTZ001 - the naive time under test


def test_create_invalid_account_writes_nothing() -> None:
    client = _RecordingClient()
    repository = ApiKeyRepository(cast(Any, client), table="api-keys")
    with pytest.raises(ValueError, match="account id"):
        repository.create("acct#1", KeyMode.TEST, KeyPlan(), now=NOW)
    assert client.puts == []


def test_item_round_trip() -> None:
    _, key, plaintext = _create()
    revoked = key.model_copy(update={"status": KeyStatus.REVOKED, "revoked_at": NOW + timedelta(hours=1)})
    assert key_from_item(key_to_item(revoked, hash_key(plaintext))) == revoked


def test_item_plan_decimal_strings() -> None:
    client, _, _ = _create()
    assert '"email_price":"0.25"' in client.puts[0]["Item"]["plan"]["S"]


def test_item_leaves_out_unset_fields() -> None:
    _, key, plaintext = _create(name=None)
    item = key_to_item(key, hash_key(plaintext))
    assert "name" not in item
    assert "revoked_at" not in item


def test_key_from_item_rejects_malformed() -> None:
    _, key, plaintext = _create()
    item = key_to_item(key, hash_key(plaintext))
    item["mode"] = {"S": "prod"}
    with pytest.raises(StorageError, match=key.key_id) as caught:
        key_from_item(item)
    assert caught.value.code == "MalformedItem"


def test_find_by_hash_rejects_plaintext() -> None:
    repository = ApiKeyRepository(cast(Any, _RecordingClient()), table="api-keys")
    with pytest.raises(ValueError, match="SHA-256"):
        repository.find_by_hash("cas_live_" + "A" * 43)
