"""``Idempotency-Key`` records of the HTTP API: who is working on a key, and the first response to it.

One item per API key and idempotency key, ``pk = "<key id>#<idempotency key>"``. ``begin`` claims
the key with a conditional put, so of two concurrent requests exactly one starts the work. The
claim carries a random token, and ``complete`` and ``release`` act only for the token that owns
the claim. A claim older than ``in_progress_timeout`` belongs to a request whose Lambda died, and
the next request with the same body takes it over. ``expires_at`` (epoch seconds) is the TTL
attribute: after ``ttl`` the key can be used again as if it were new.

This store only decides which response a client receives. It does not protect money: the ledger's
conditional writes do, because a retried request gets the same match ids.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, cast

from cascade.storage.dynamo import LazyClient, StorageError, error_code, require_aware, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from cascade.storage.dynamo import ClientSource

DEFAULT_TTL = timedelta(hours=24)
DEFAULT_IN_PROGRESS_TIMEOUT = timedelta(seconds=60)

_CONDITION_FAILED = "ConditionalCheckFailedException"
_IN_PROGRESS = "in_progress"
_COMPLETED = "completed"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# A claim can vanish between a failed put and the read that follows it (its owner released it), so
# begin tries again a few times before it gives up.
_BEGIN_ATTEMPTS = 3


class BeginOutcome(StrEnum):
    NEW = "new"
    """No usable record existed, so this request owns the claim and must run, then complete or release."""
    REPLAY = "replay"
    """The first request with this key and body finished: send its status and body again."""
    MISMATCH = "mismatch"
    """The key was first used with another body."""
    IN_PROGRESS = "in_progress"
    """The first request with this key and body is still running."""


@dataclass(frozen=True, slots=True)
class IdempotencyBegin:
    """The result of ``begin``. ``token`` is set for ``NEW``, and ``status`` and ``body`` for ``REPLAY``."""

    outcome: BeginOutcome
    token: str | None = None
    status: int | None = None
    body: str | None = None


def _new_token() -> str:
    return secrets.token_hex(16)


class IdempotencyStore:
    """Claims idempotency keys, stores their first response and releases claims whose work failed."""

    def __init__(
        self,
        client: ClientSource,
        *,
        table: str,
        ttl: timedelta = DEFAULT_TTL,
        in_progress_timeout: timedelta = DEFAULT_IN_PROGRESS_TIMEOUT,
        new_token: Callable[[], str] = _new_token,
    ) -> None:
        if ttl <= in_progress_timeout:
            raise ValueError(f"ttl {ttl} must be longer than in_progress_timeout {in_progress_timeout}")
        self._client = LazyClient(client)
        self._table = table
        self._ttl = ttl
        self._in_progress_timeout = in_progress_timeout
        self._new_token = new_token

    def begin(self, key_id: str, idempotency_key: str, body_hash: str, now: datetime) -> IdempotencyBegin:
        """Claim ``idempotency_key`` of ``key_id`` for a request whose body has SHA-256 hex ``body_hash``.

        Returns ``NEW`` with a token when no record exists, the record expired, or an in-progress
        record with the same body hash is older than the in-progress timeout. Otherwise returns
        ``MISMATCH`` for another body hash, ``REPLAY`` for a completed record and ``IN_PROGRESS`` else.
        """
        pk = _partition_key(key_id, idempotency_key)
        if not _SHA256_HEX.fullmatch(body_hash):
            raise ValueError(
                f"body_hash {body_hash!r} is not a SHA-256 hex digest; send hashlib.sha256(...).hexdigest()"
            )
        require_aware(now, "now")
        for _ in range(_BEGIN_ATTEMPTS):
            token = self._new_token()
            existing = self._claim(pk, body_hash, token, now)
            if existing is None:
                return IdempotencyBegin(BeginOutcome.NEW, token=token)
            if existing:
                return _outcome_of(existing, body_hash)
        raise StorageError(
            f"claiming idempotency record {pk} failed {_BEGIN_ATTEMPTS} times because it kept changing; retry",
            code="IdempotencyRecordChanging",
        )

    def complete(self, key_id: str, idempotency_key: str, token: str, *, status: int, body: str, now: datetime) -> bool:
        """Store the response of the claim ``token``, or return ``False`` when another request took the claim over."""
        pk = _partition_key(key_id, idempotency_key)
        require_aware(now, "now")
        client = self._client.get()
        try:
            client.update_item(
                TableName=self._table,
                Key={"pk": {"S": pk}},
                UpdateExpression="SET #state = :completed, #status = :status, #body = :body, completed_at = :now",
                ConditionExpression="#token = :token AND #state = :in_progress",
                ExpressionAttributeNames={"#state": "state", "#status": "status", "#body": "body", "#token": "token"},
                ExpressionAttributeValues={
                    ":completed": {"S": _COMPLETED},
                    ":in_progress": {"S": _IN_PROGRESS},
                    ":status": {"N": str(status)},
                    ":body": {"S": body},
                    ":now": {"N": str(_epoch_ms(now))},
                    ":token": {"S": token},
                },
            )
        except client.exceptions.ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise storage_error(error, operation=f"completing idempotency record {pk}") from error
        return True

    def release(self, key_id: str, idempotency_key: str, token: str) -> bool:
        """Delete the in-progress claim ``token`` so that a retry starts afresh.

        Returns ``False`` when ``token`` does not own the claim.
        """
        pk = _partition_key(key_id, idempotency_key)
        client = self._client.get()
        try:
            client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": pk}},
                ConditionExpression="#token = :token AND #state = :in_progress",
                ExpressionAttributeNames={"#token": "token", "#state": "state"},
                ExpressionAttributeValues={":token": {"S": token}, ":in_progress": {"S": _IN_PROGRESS}},
            )
        except client.exceptions.ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise storage_error(error, operation=f"releasing idempotency record {pk}") from error
        return True

    def _claim(self, pk: str, body_hash: str, token: str, now: datetime) -> Mapping[str, AttributeValueTypeDef] | None:
        """Put a new claim and return ``None`` when it was written, else the record in its way (empty if gone)."""
        stale_before = now - self._in_progress_timeout
        client = self._client.get()
        try:
            client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": pk},
                    "state": {"S": _IN_PROGRESS},
                    "body_hash": {"S": body_hash},
                    "token": {"S": token},
                    "started_at": {"N": str(_epoch_ms(now))},
                    "expires_at": {"N": str(int((now + self._ttl).timestamp()))},
                },
                # Expired records still exist until DynamoDB's TTL sweep deletes them, which can take days.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR expires_at <= :now"
                    " OR (#state = :in_progress AND body_hash = :body_hash AND started_at <= :stale_before)"
                ),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now.timestamp()))},
                    ":in_progress": {"S": _IN_PROGRESS},
                    ":body_hash": {"S": body_hash},
                    ":stale_before": {"N": str(_epoch_ms(stale_before))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise storage_error(error, operation=f"claiming idempotency record {pk}") from error
            # ReturnValuesOnConditionCheckFailure puts the record in the way into the error response.
            existing = cast("Mapping[str, AttributeValueTypeDef] | None", error.response.get("Item"))
            return existing or self._read(pk)
        return None

    def _read(self, pk: str) -> Mapping[str, AttributeValueTypeDef]:
        client = self._client.get()
        try:
            reply = client.get_item(TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading idempotency record {pk}") from error
        return reply.get("Item") or {}


def _outcome_of(item: Mapping[str, AttributeValueTypeDef], body_hash: str) -> IdempotencyBegin:
    if item.get("body_hash", {}).get("S") != body_hash:
        return IdempotencyBegin(BeginOutcome.MISMATCH)
    if item.get("state", {}).get("S") == _COMPLETED:
        return IdempotencyBegin(BeginOutcome.REPLAY, status=int(item["status"]["N"]), body=item["body"]["S"])
    return IdempotencyBegin(BeginOutcome.IN_PROGRESS)


def _partition_key(key_id: str, idempotency_key: str) -> str:
    if not key_id or "#" in key_id:
        raise ValueError(f"key_id {key_id!r} is invalid; send the API key id, which never contains #")
    if not idempotency_key:
        raise ValueError("idempotency_key is empty; send the client's Idempotency-Key header value")
    return f"{key_id}#{idempotency_key}"


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
