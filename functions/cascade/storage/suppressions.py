"""A customer's suppression list: contacts that must never be enriched for that account.

Entries are hashes, so the list itself contains no names, profiles or addresses. A contact is
suppressed when any of its identities (LinkedIn profile, name at company domain, email) is
on the account's list. The waterfall checks this before it calls any provider.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, cast

from cascade.domain.models import NormalisedPerson
from cascade.normalise.emails import email_match_key
from cascade.observability import get_logger
from cascade.storage.dynamo import LazyClient, RetryableStorageError, storage_error
from cascade.storage.freshness import linkedin_slug, name_domain_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        WriteRequestTypeDef,
    )

    from cascade.storage.dynamo import ClientSource

_IDENTITY = re.compile(r"(li|nd|em)#[0-9a-f]{64}")
# DynamoDB's per-request limits for BatchWriteItem and BatchGetItem.
_WRITE_BATCH = 25
_GET_BATCH = 100
# Unprocessed items are sent again after 0.05, 0.1, 0.2 ... seconds. After this many tries the call fails.
_BATCH_ATTEMPTS = 6
_BATCH_BASE_DELAY_SECONDS = 0.05


def suppression_identities(person: NormalisedPerson, *, email: str | None = None) -> tuple[str, ...]:
    """Return every identity of a contact that a suppression entry can match, each ``"<kind>#<sha256 hex>"``.

    Kinds: ``li`` (LinkedIn profile slug), ``nd`` (``"<ascii first>|<ascii last>|<company domain>"``)
    and ``em`` (the email's match key, so that ``A.B+x@gmail.com`` matches ``ab@gmail.com``).
    Parts that are missing, and an email that is not a valid address, give no identity.
    """
    identities: list[str] = []
    slug = linkedin_slug(person)
    if slug:
        identities.append(f"li#{_sha256(slug)}")
    name_domain = name_domain_key(person)
    if name_domain is not None:
        identities.append(f"nd#{_sha256(name_domain)}")
    if email:
        match_key = email_match_key(email)
        if match_key is not None:
            identities.append(f"em#{_sha256(match_key)}")
    return tuple(identities)


class SuppressionStore:
    """Adds entries to and checks contacts against each account's suppression list."""

    def __init__(self, client: ClientSource, *, table: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = LazyClient(client)
        self._table = table
        self._sleep = sleep

    def add(self, account_id: str, identities: Iterable[str]) -> None:
        """Add ``identities`` (from ``suppression_identities``) to the account's list. Adding one twice is harmless."""
        keys = _keys(account_id, identities)
        for start in range(0, len(keys), _WRITE_BATCH):
            requests: list[WriteRequestTypeDef] = [
                {"PutRequest": {"Item": key}} for key in keys[start : start + _WRITE_BATCH]
            ]
            self._write_batch(account_id, requests)

    def is_suppressed(self, account_id: str, identities: Iterable[str]) -> bool:
        """Return whether any of ``identities`` is on the account's list (strongly consistent reads)."""
        keys = _keys(account_id, identities)
        for start in range(0, len(keys), _GET_BATCH):
            if self._any_found(account_id, keys[start : start + _GET_BATCH]):
                return True
        return False

    def _write_batch(self, account_id: str, requests: list[WriteRequestTypeDef]) -> None:
        client = self._client.get()
        pending = {self._table: requests}
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                self._backoff(account_id, attempt, len(pending[self._table]))
            try:
                reply = client.batch_write_item(RequestItems=pending)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"adding suppressions of account {account_id}") from error
            unprocessed = reply.get("UnprocessedItems", {}).get(self._table, [])
            if not unprocessed:
                return
            # The reply's unprocessed requests have the request's shape, so they are sent back as they are.
            pending = {self._table: cast("list[WriteRequestTypeDef]", unprocessed)}
        raise RetryableStorageError(
            f"adding suppressions of account {account_id} left {len(pending[self._table])} entries unwritten "
            f"after {_BATCH_ATTEMPTS} tries; send them again",
            code="UnprocessedItems",
        )

    def _any_found(self, account_id: str, keys: Sequence[dict[str, AttributeValueTypeDef]]) -> bool:
        client = self._client.get()
        pending: dict[str, KeysAndAttributesTypeDef] = {
            self._table: {"Keys": list(keys), "ConsistentRead": True, "ProjectionExpression": "pk"}
        }
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                self._backoff(account_id, attempt, len(pending[self._table]["Keys"]))
            try:
                reply = client.batch_get_item(RequestItems=pending)
            except client.exceptions.ClientError as error:
                raise storage_error(error, operation=f"checking suppressions of account {account_id}") from error
            if reply.get("Responses", {}).get(self._table):
                return True
            unprocessed = reply.get("UnprocessedKeys", {}).get(self._table)
            if not unprocessed or not unprocessed.get("Keys"):
                return False
            pending = {self._table: cast("KeysAndAttributesTypeDef", unprocessed)}
        raise RetryableStorageError(
            f"checking suppressions of account {account_id} left keys unread after {_BATCH_ATTEMPTS} tries; "
            "check again",
            code="UnprocessedKeys",
        )

    def _backoff(self, account_id: str, attempt: int, remaining: int) -> None:
        delay = _BATCH_BASE_DELAY_SECONDS * 2 ** (attempt - 1)
        get_logger().warning(
            "suppression batch retry", account_id=account_id, attempt=attempt, remaining=remaining, delay_seconds=delay
        )
        self._sleep(delay)


def _keys(account_id: str, identities: Iterable[str]) -> list[dict[str, AttributeValueTypeDef]]:
    if not account_id:
        raise ValueError("account_id is empty; send the account whose suppression list to use")
    # A batch may not name one key twice, so repeated identities are dropped here.
    unique = list(dict.fromkeys(identities))
    for position, identity in enumerate(unique):
        if not _IDENTITY.fullmatch(identity):
            # The value is left out of the message because a malformed identity may be a raw email or name.
            raise ValueError(
                f"suppression identity at position {position} is not '<li|nd|em>#<sha256 hex>'; "
                "build identities with suppression_identities()"
            )
    return [{"pk": {"S": account_id}, "sk": {"S": identity}} for identity in unique]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
