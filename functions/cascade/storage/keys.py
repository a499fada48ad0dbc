"""The API keys table: one item per key, addressed by the SHA-256 hex digest of the key.

The authorizer reads an item by its digest (``pk``) with a strongly consistent read, so a key
works as soon as ``create`` returns and a revocation is seen by the next uncached request.
Operators address keys by their public id through the ``by_key_id`` index and list an account's
keys through ``by_account``. Both indexes are eventually consistent. On AWS a key created a moment
ago can be missing from ``get``, ``list``, ``revoke`` and ``update_plan`` for about a second.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from cascade.domain.keys import ApiKey, KeyMode, KeyStatus, generate_key, new_key_id
from cascade.domain.plans import KeyPlan
from cascade.storage.dynamo import LazyClient, StorageError, error_code, require_aware, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef, ScanInputTypeDef

    from cascade.storage.dynamo import ClientSource

_BY_KEY_ID = "by_key_id"
_BY_ACCOUNT = "by_account"
_KEY_HASH = re.compile(r"[0-9a-f]{64}")
_CONDITION_FAILED = "ConditionalCheckFailedException"


class KeyNotFoundError(StorageError):
    """No API key has the requested id."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key has id {key_id!r}; send the id of an existing key", code="KeyNotFound")
        self.key_id = key_id


class ApiKeyRepository:
    """Creates, reads, lists, revokes and re-prices API keys; stores only each key's hash."""

    def __init__(self, client: ClientSource, *, table: str) -> None:
        self._client = LazyClient(client)
        self._table = table

    def create(
        self, account_id: str, mode: KeyMode, plan: KeyPlan, name: str | None = None, *, now: datetime
    ) -> tuple[ApiKey, str]:
        """Create an active key for ``account_id``; return its record and the key itself.

        The key is returned only here and is never stored, so the caller must hand it to its owner
        now. ``name`` is an optional label, trimmed, and dropped when blank. Raises ``ValueError``
        (a pydantic ``ValidationError``) for an invalid account id or name, and ``StorageError``
        when the write fails.
        """
        require_aware(now, "now")
        label = name.strip() if name is not None else None
        plaintext, key_hash, prefix = generate_key(mode)
        key = ApiKey(
            key_id=new_key_id(),
            account_id=account_id,
            mode=mode,
            plan=plan,
            status=KeyStatus.ACTIVE,
            created_at=now.astimezone(UTC),
            prefix=prefix,
            name=label or None,
        )
        # NOTE: key ids carry 64 random bits and nothing checks them for uniqueness. Two keys share
        # an id with probability about n**2 / 2**65, about 3e-8 for a million keys, and then
        # ``get`` raises instead of picking one of them.
        client = self._client.get()
        try:
            client.put_item(
                TableName=self._table, Item=key_to_item(key, key_hash), ConditionExpression="attribute_not_exists(pk)"
            )
        except client.exceptions.ClientError as error:
            # A failed condition would mean two keys with the same 256 random bits. That is practically
            # impossible, and the condition keeps the first key from being overwritten if it happens.
            raise storage_error(error, operation=f"creating API key {key.key_id}") from error
        return key, plaintext

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        """Return the key whose SHA-256 hex digest is ``key_hash`` (strongly consistent), or ``None``."""
        if not _KEY_HASH.fullmatch(key_hash):
            raise ValueError(f"key hash {key_hash!r} is not a SHA-256 hex digest; hash the key with hash_key()")
        client = self._client.get()
        try:
            reply = client.get_item(TableName=self._table, Key={"pk": {"S": key_hash}}, ConsistentRead=True)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation="reading an API key by its hash") from error
        item = reply.get("Item")
        return None if item is None else key_from_item(item)

    def get(self, key_id: str) -> ApiKey | None:
        """Return the key with the public id ``key_id``, or ``None``, from the eventually consistent index."""
        found = self._find_by_key_id(key_id)
        return None if found is None else found[1]

    def revoke(self, key_id: str, now: datetime) -> ApiKey:
        """Revoke ``key_id`` at ``now`` and return the revoked record.

        Revoking a revoked key changes nothing and returns it with its first ``revoked_at``. API
        Gateway keeps an authorizer result for its cache TTL, so a request may still pass for that
        long. Raises ``KeyNotFoundError`` when no key has the id.
        """
        require_aware(now, "now")
        found = self._find_by_key_id(key_id)
        if found is None:
            raise KeyNotFoundError(key_id)
        key_hash, key = found
        if key.status is KeyStatus.REVOKED:
            return key
        if now < key.created_at:
            raise ValueError(f"now {now.isoformat()} is before the key was created at {key.created_at.isoformat()}")
        client = self._client.get()
        try:
            reply = client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key_hash}},
                UpdateExpression="SET #status = :revoked, revoked_at = :revoked_at",
                ConditionExpression="#status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":revoked": {"S": KeyStatus.REVOKED.value},
                    ":active": {"S": KeyStatus.ACTIVE.value},
                    ":revoked_at": {"S": _utc_text(now)},
                },
                ReturnValues="ALL_NEW",
            )
        except client.exceptions.ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise storage_error(error, operation=f"revoking API key {key_id}") from error
            # A concurrent revoke wrote first, so its revoked_at is kept.
            current = self.find_by_hash(key_hash)
            if current is None:
                raise KeyNotFoundError(key_id) from error
            return current
        return key_from_item(reply["Attributes"])

    def update_plan(self, key_id: str, plan: KeyPlan) -> ApiKey:
        """Replace the plan of ``key_id`` and return the updated record.

        Raises ``KeyNotFoundError`` when no key has the id.
        """
        found = self._find_by_key_id(key_id)
        if found is None:
            raise KeyNotFoundError(key_id)
        key_hash, _ = found
        client = self._client.get()
        try:
            reply = client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key_hash}},
                UpdateExpression="SET #plan = :plan",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#plan": "plan"},
                ExpressionAttributeValues={":plan": {"S": plan.model_dump_json()}},
                ReturnValues="ALL_NEW",
            )
        except client.exceptions.ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                raise KeyNotFoundError(key_id) from error
            raise storage_error(error, operation=f"updating the plan of API key {key_id}") from error
        return key_from_item(reply["Attributes"])

    def list(self, account_id: str | None = None, *, page_size: int | None = None) -> builtins.list[ApiKey]:
        """Return the keys of ``account_id``, or of every account when it is ``None``, oldest first.

        One account's keys come from the ``by_account`` index. Without an account the whole table
        is scanned, which is meant for operators and reads every item. ``page_size`` caps the items
        per request page.
        """
        if account_id is None:
            keys = self._scan(page_size)
            return sorted(keys, key=lambda key: (key.created_at, key.key_id))
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": _BY_ACCOUNT,
            "KeyConditionExpression": "account_id = :account_id",
            "ExpressionAttributeValues": {":account_id": {"S": account_id}},
            "ScanIndexForward": True,
        }
        if page_size is not None:
            request["Limit"] = page_size
        return [key for _, key in self._query(request, operation=f"listing the API keys of account {account_id}")]

    def _scan(self, page_size: int | None) -> builtins.list[ApiKey]:
        request: ScanInputTypeDef = {"TableName": self._table}
        if page_size is not None:
            request["Limit"] = page_size
        client = self._client.get()
        keys: builtins.list[ApiKey] = []
        while True:
            try:
                page = client.scan(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation="listing every API key") from error
            keys.extend(key_from_item(item) for item in page.get("Items", []))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return keys
            request["ExclusiveStartKey"] = last_key

    def _find_by_key_id(self, key_id: str) -> tuple[str, ApiKey] | None:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": _BY_KEY_ID,
            "KeyConditionExpression": "key_id = :key_id",
            "ExpressionAttributeValues": {":key_id": {"S": key_id}},
        }
        found = self._query(request, operation=f"reading API key {key_id}")
        if len(found) > 1:
            raise StorageError(
                f"{len(found)} API keys share the id {key_id!r}. "
                "Issue their owners new keys, then delete these items by pk.",
                code="DuplicateKeyId",
            )
        return found[0] if found else None

    def _query(self, request: QueryInputTypeDef, *, operation: str) -> builtins.list[tuple[str, ApiKey]]:
        client = self._client.get()
        found: builtins.list[tuple[str, ApiKey]] = []
        while True:
            try:
                page = client.query(**request)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=operation) from error
            found.extend((item["pk"]["S"], key_from_item(item)) for item in page.get("Items", []))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return found
            request["ExclusiveStartKey"] = last_key


def key_to_item(key: ApiKey, key_hash: str) -> dict[str, AttributeValueTypeDef]:
    """Return the table item of ``key`` stored under ``key_hash``. Unset optional fields are left out."""
    item: dict[str, AttributeValueTypeDef] = {
        "pk": {"S": key_hash},
        "key_id": {"S": key.key_id},
        "account_id": {"S": key.account_id},
        "mode": {"S": key.mode.value},
        "plan": {"S": key.plan.model_dump_json()},
        "status": {"S": key.status.value},
        "created_at": {"S": _utc_text(key.created_at)},
        "prefix": {"S": key.prefix},
    }
    if key.revoked_at is not None:
        item["revoked_at"] = {"S": _utc_text(key.revoked_at)}
    if key.name is not None:
        item["name"] = {"S": key.name}
    return item


def key_from_item(item: Mapping[str, AttributeValueTypeDef]) -> ApiKey:
    """Rebuild an ``ApiKey`` from its table item. Raises ``StorageError`` when the item is malformed."""

    def optional_text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else value["S"]

    try:
        return ApiKey(
            key_id=item["key_id"]["S"],
            account_id=item["account_id"]["S"],
            mode=KeyMode(item["mode"]["S"]),
            plan=KeyPlan.model_validate_json(item["plan"]["S"]),
            status=KeyStatus(item["status"]["S"]),
            created_at=datetime.fromisoformat(item["created_at"]["S"]),
            revoked_at=_optional_time(optional_text("revoked_at")),
            prefix=item["prefix"]["S"],
            name=optional_text("name"),
        )
    except (KeyError, ValueError, ValidationError) as error:
        key_id = item.get("key_id", {}).get("S", "without a key_id")
        raise StorageError(f"API key item {key_id} is malformed: {error}", code="MalformedItem") from error


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _utc_text(moment: datetime) -> str:
    # A fixed width (microseconds always present, one offset) makes the text sort in time order,
    # which the by_account index relies on.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
