"""The freshness store against moto: windows, bounces and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from cascade.domain.models import NormalisedPerson, RequestedField
from cascade.storage.freshness import FreshnessStore, FreshValue, contact_identity

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
EMAIL = RequestedField.EMAIL
PHONE = RequestedField.PHONE
IDENTITY = contact_identity(NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill")) or ""


@pytest.fixture
def store(client: DynamoDBClient, tables: dict[str, str]) -> FreshnessStore:
    return FreshnessStore(client, table=tables["freshness"], retention_days=180)


def _email(verified_at: datetime = NOW, address: str = "ada@quill.example") -> FreshValue:
    return FreshValue(
        field=EMAIL,
        value=address,
        verdict="valid",
        provider="hunter",
        verified_at=verified_at,
        match_id="mat_0123",
        extra={"flags": "role"},
    )


def test_freshness_round_trip(store: FreshnessStore) -> None:
    value = _email()
    store.put("key_1", IDENTITY, value, now=NOW)
    assert store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=NOW) == value


def test_freshness_round_trip_without_optional(store: FreshnessStore) -> None:
    value = FreshValue(
        field=PHONE, value="+442071838750", verdict="valid", provider="twilio", verified_at=NOW, match_id=None, extra={}
    )
    store.put("key_1", IDENTITY, value, now=NOW)
    assert store.get("key_1", IDENTITY, PHONE, max_age_days=30, now=NOW) == value
    assert store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=NOW) is None


@pytest.mark.parametrize(
    ("age", "max_age_days", "served"),
    [
        (timedelta(days=29, hours=23), 30, True),
        (timedelta(days=30), 30, True),
        (timedelta(days=30, seconds=1), 30, False),
        (timedelta(days=3), 2, False),
        (timedelta(0), 0, False),
        (timedelta(days=200), 365, False),  # past the 180-day retention, whatever the window
    ],
)
def test_freshness_window(store: FreshnessStore, age: timedelta, max_age_days: int, served: bool) -> None:
    store.put("key_1", IDENTITY, _email(verified_at=NOW), now=NOW)
    found = store.get("key_1", IDENTITY, EMAIL, max_age_days=max_age_days, now=NOW + age)
    assert (found is not None) is served


def test_freshness_expiry_stored_as_ttl(store: FreshnessStore, client: DynamoDBClient, tables: dict[str, str]) -> None:
    store.put("key_1", IDENTITY, _email(), now=NOW)
    item = client.get_item(TableName=tables["freshness"], Key={"pk": {"S": f"key_1#{IDENTITY}"}, "sk": {"S": "email"}})
    assert item["Item"]["expires_at"] == {"N": str(int((NOW + timedelta(days=180)).timestamp()))}


def test_freshness_expired_item_not_served(store: FreshnessStore) -> None:
    # The value was verified recently, but the item was stored long ago and has passed its TTL,
    # which DynamoDB may not have acted on yet.
    stored_at = NOW - timedelta(days=181)
    store.put("key_1", IDENTITY, _email(verified_at=NOW - timedelta(days=1)), now=stored_at)
    assert store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=NOW) is None


def test_freshness_other_key_not_served(store: FreshnessStore) -> None:
    store.put("key_1", IDENTITY, _email(), now=NOW)
    assert store.get("key_2", IDENTITY, EMAIL, max_age_days=30, now=NOW) is None


def test_freshness_bounced_not_served(store: FreshnessStore) -> None:
    store.put("key_1", IDENTITY, _email(), now=NOW)
    assert store.mark_bounced("key_1", IDENTITY, EMAIL, "ada@quill.example") is True
    assert store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=NOW) is None


def test_freshness_bounce_of_old_value_ignored(store: FreshnessStore) -> None:
    store.put("key_1", IDENTITY, _email(address="old@quill.example"), now=NOW)
    store.put("key_1", IDENTITY, _email(address="ada@quill.example"), now=NOW)
    assert store.mark_bounced("key_1", IDENTITY, EMAIL, "old@quill.example") is False
    found = store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=NOW)
    assert found is not None
    assert found.value == "ada@quill.example"


def test_freshness_bounce_of_missing_value(
    store: FreshnessStore, client: DynamoDBClient, tables: dict[str, str]
) -> None:
    assert store.mark_bounced("key_1", IDENTITY, EMAIL, "ada@quill.example") is False
    assert client.scan(TableName=tables["freshness"])["Items"] == []


def test_freshness_new_value_clears_bounce(store: FreshnessStore) -> None:
    store.put("key_1", IDENTITY, _email(address="old@quill.example"), now=NOW)
    store.mark_bounced("key_1", IDENTITY, EMAIL, "old@quill.example")
    store.put("key_1", IDENTITY, _email(address="ada@quill.example"), now=NOW)
    found = store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=NOW)
    assert found is not None
    assert found.value == "ada@quill.example"


def test_freshness_rejects_naive_now(store: FreshnessStore) -> None:
    naive = datetime(2026, 3, 14, 12, 0)  # noqa: DTZ001 - the naive time is the case
    with pytest.raises(ValueError, match="no time zone"):
        store.get("key_1", IDENTITY, EMAIL, max_age_days=30, now=naive)
    with pytest.raises(ValueError, match="no time zone"):
        store.put("key_1", IDENTITY, _email(), now=naive)


def test_freshness_rejects_negative_age(store: FreshnessStore) -> None:
    with pytest.raises(ValueError, match="max_age_days"):
        store.get("key_1", IDENTITY, EMAIL, max_age_days=-1, now=NOW)


def test_freshness_rejects_empty_identity(store: FreshnessStore) -> None:
    with pytest.raises(ValueError, match="identity is empty"):
        store.put("key_1", "", _email(), now=NOW)
