"""IdempotencyStore against moto: claims, replays, mismatches, take-overs and expiry."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from cascade.storage.idempotency import BeginOutcome, IdempotencyBegin, IdempotencyStore
from tests.integration.api.conftest import NOW, TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_ID = "key_5f1e2d3c4b5a6978"
IDEMPOTENCY_KEY = "order-1"
BODY = hashlib.sha256(b"first body").hexdigest()
OTHER_BODY = hashlib.sha256(b"other body").hexdigest()


def _claim(store: IdempotencyStore, body_hash: str = BODY, *, at: timedelta = timedelta()) -> IdempotencyBegin:
    return store.begin(KEY_ID, IDEMPOTENCY_KEY, body_hash, NOW + at)


def _token(begun: IdempotencyBegin) -> str:
    assert begun.outcome is BeginOutcome.NEW
    assert begun.token is not None
    return begun.token


def test_begin_new_then_in_progress(idempotency: IdempotencyStore) -> None:
    first = _claim(idempotency)
    second = _claim(idempotency, at=timedelta(seconds=5))
    assert first.outcome is BeginOutcome.NEW
    assert first.token
    assert second == IdempotencyBegin(BeginOutcome.IN_PROGRESS)


def test_complete_then_replay(idempotency: IdempotencyStore) -> None:
    token = _token(_claim(idempotency))
    assert idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, token, status=200, body='{"id":"enr_1"}', now=NOW)
    replay = _claim(idempotency, at=timedelta(hours=1))
    assert replay == IdempotencyBegin(BeginOutcome.REPLAY, status=200, body='{"id":"enr_1"}')


@pytest.mark.parametrize("completed", [False, True])
def test_begin_other_body_mismatch(idempotency: IdempotencyStore, completed: bool) -> None:
    token = _token(_claim(idempotency))
    if completed:
        idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, token, status=200, body="{}", now=NOW)
    assert _claim(idempotency, OTHER_BODY).outcome is BeginOutcome.MISMATCH


def test_keys_are_per_api_key(idempotency: IdempotencyStore) -> None:
    _claim(idempotency)
    other = idempotency.begin("key_0123456789abcdef", IDEMPOTENCY_KEY, OTHER_BODY, NOW)
    assert other.outcome is BeginOutcome.NEW


def test_stale_claim_taken_over(idempotency: IdempotencyStore) -> None:
    old_token = _token(_claim(idempotency))
    assert _claim(idempotency, at=timedelta(seconds=59)).outcome is BeginOutcome.IN_PROGRESS
    new_token = _token(_claim(idempotency, at=timedelta(seconds=61)))
    assert new_token != old_token
    assert not idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, old_token, status=200, body="{}", now=NOW)
    assert not idempotency.release(KEY_ID, IDEMPOTENCY_KEY, old_token)
    assert idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, new_token, status=200, body="{}", now=NOW)


def test_stale_claim_other_body_mismatch(idempotency: IdempotencyStore) -> None:
    _claim(idempotency)
    assert _claim(idempotency, OTHER_BODY, at=timedelta(minutes=5)).outcome is BeginOutcome.MISMATCH


def test_completed_record_not_taken_over(idempotency: IdempotencyStore) -> None:
    token = _token(_claim(idempotency))
    idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, token, status=200, body="{}", now=NOW)
    assert _claim(idempotency, at=timedelta(hours=23)).outcome is BeginOutcome.REPLAY


def test_expired_record_counts_as_absent(idempotency: IdempotencyStore) -> None:
    token = _token(_claim(idempotency))
    idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, token, status=200, body="{}", now=NOW)
    assert _claim(idempotency, OTHER_BODY, at=timedelta(hours=24)).outcome is BeginOutcome.NEW


def test_release_allows_new_claim(idempotency: IdempotencyStore) -> None:
    token = _token(_claim(idempotency))
    assert idempotency.release(KEY_ID, IDEMPOTENCY_KEY, token)
    assert _claim(idempotency, OTHER_BODY).outcome is BeginOutcome.NEW


def test_release_wrong_token_keeps_claim(idempotency: IdempotencyStore) -> None:
    _claim(idempotency)
    assert not idempotency.release(KEY_ID, IDEMPOTENCY_KEY, "not-the-token")
    assert _claim(idempotency).outcome is BeginOutcome.IN_PROGRESS


def test_release_completed_record_refused(idempotency: IdempotencyStore) -> None:
    token = _token(_claim(idempotency))
    idempotency.complete(KEY_ID, IDEMPOTENCY_KEY, token, status=200, body="{}", now=NOW)
    assert not idempotency.release(KEY_ID, IDEMPOTENCY_KEY, token)
    assert _claim(idempotency).outcome is BeginOutcome.REPLAY


def test_record_expires_after_ttl(idempotency: IdempotencyStore, dynamodb: DynamoDBClient) -> None:
    _claim(idempotency)
    item = dynamodb.get_item(TableName=TABLE_NAMES["idempotency"], Key={"pk": {"S": f"{KEY_ID}#{IDEMPOTENCY_KEY}"}})
    assert int(item["Item"]["expires_at"]["N"]) == int((NOW + timedelta(hours=24)).timestamp())


@pytest.mark.parametrize("body_hash", ["", "abc", BODY.upper(), BODY + "0"])
def test_begin_rejects_bad_body_hash(idempotency: IdempotencyStore, body_hash: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        _claim(idempotency, body_hash)


def test_begin_rejects_naive_time(idempotency: IdempotencyStore) -> None:
    with pytest.raises(ValueError, match="time zone"):
        idempotency.begin(KEY_ID, IDEMPOTENCY_KEY, BODY, NOW.replace(tzinfo=None))


def test_store_rejects_ttl_shorter_than_timeout(dynamodb: DynamoDBClient) -> None:
    with pytest.raises(ValueError, match="ttl"):
        IdempotencyStore(dynamodb, table=TABLE_NAMES["idempotency"], ttl=timedelta(seconds=30))
