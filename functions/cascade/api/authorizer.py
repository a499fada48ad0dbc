"""The API Gateway REQUEST authorizer: turn the presented API key into an IAM policy.

The key is read from ``Authorization: Bearer <key>`` first, then from ``x-api-key``. API Gateway
returns 401 when the authorizer raises ``Exception("Unauthorized")`` (no key, or an unknown one),
403 for a Deny policy (a revoked key), and passes the request on for an Allow policy. The Allow
policy covers every method and path of the stage.

API Gateway's own result cache is off (TTL 0): it calls a REQUEST authorizer only when every
identity source is present, so caching on ``Authorization`` would reject a request that sends
only ``x-api-key``. Instead each authorizer instance caches key lookups for
``KEY_CACHE_SECONDS``, so a revoked key can keep working for up to 60 seconds.

The Allow result's ``context`` reaches the API handlers as ``requestContext.authorizer``:
``key_id``, ``account_id``, ``mode`` (``live`` or ``test``) and ``plan`` (the ``KeyPlan`` as a
JSON string, because API Gateway accepts only strings, numbers and booleans as context values).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)

from cascade.domain.keys import ApiKey, hash_key, parse_presented_key
from cascade.observability import get_logger, get_metrics
from cascade.settings import get_settings
from cascade.storage.dynamo import client_factory
from cascade.storage.keys import ApiKeyRepository

UNAUTHORIZED = "Unauthorized"
"""The exact error message that makes API Gateway return 401 instead of 500."""

# Header names in the order they are tried, in lower case because HTTP header names are case-insensitive.
_KEY_HEADERS = ("authorization", "x-api-key")
_METHOD_ARN = re.compile(r"arn:[a-z-]+:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+/[^/]+/.+")


class KeyLookup(Protocol):
    """The part of ``ApiKeyRepository`` that the authorizer uses."""

    def find_by_hash(self, key_hash: str) -> ApiKey | None: ...


def authorize(event: Mapping[str, Any], keys: KeyLookup) -> dict[str, Any]:
    """Return the authorizer result for a REQUEST authorizer ``event``.

    Raises ``Exception("Unauthorized")`` when no well-formed key is presented or no key has its
    hash. Returns a Deny policy for a revoked key and an Allow policy with the caller's context
    for an active one. Storage errors propagate, so API Gateway returns 500 and the client can
    retry, instead of telling it that a valid key is unknown. Logs the key id, never the key.
    """
    method_arn = str(event.get("methodArn", ""))
    if not _METHOD_ARN.fullmatch(method_arn):
        raise ValueError(f"methodArn {method_arn!r} is not an API Gateway method ARN; send a REQUEST authorizer event")
    presented = _presented_key(event.get("headers"))
    if presented is None:
        get_logger().info("request rejected: no well-formed API key", method_arn=method_arn)
        _count("AuthorizerNoKey")
        # API Gateway matches the error message, not the exception class.
        raise Exception(UNAUTHORIZED)
    key = keys.find_by_hash(hash_key(presented))
    if key is None:
        get_logger().info("request rejected: unknown API key", method_arn=method_arn)
        _count("AuthorizerUnknownKey")
        raise Exception(UNAUTHORIZED)

    arn = parse_api_gateway_arn(method_arn)
    response = APIGatewayAuthorizerResponse(
        principal_id=key.key_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        partition=arn.partition,
    )
    if not key.active:
        get_logger().warning("request denied: revoked API key", key_id=key.key_id, account_id=key.account_id)
        _count("AuthorizerRevokedKey")
        response.deny_all_routes()
        return response.asdict()
    response.context = authorizer_context(key)
    _count("AuthorizerAllowed")
    response.allow_all_routes()
    get_logger().info("request authorized", key_id=key.key_id, account_id=key.account_id, mode=key.mode.value)
    return response.asdict()


def authorizer_context(key: ApiKey) -> dict[str, str]:
    """Return the context that API Gateway passes to the handlers as ``requestContext.authorizer``."""
    return {
        "key_id": key.key_id,
        "account_id": key.account_id,
        "mode": key.mode.value,
        "plan": key.plan.model_dump_json(),
    }


def _count(metric: str) -> None:
    # Operators alarm on these counts: a rise in unknown or revoked keys points to key guessing or a stale client.
    get_metrics().add_metric(name=metric, unit=MetricUnit.Count, value=1)


def _presented_key(headers: object) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    by_name = {str(name).lower(): value for name, value in headers.items()}
    for name in _KEY_HEADERS:
        value = by_name.get(name)
        key = parse_presented_key(value) if isinstance(value, str) else None
        if key is not None:
            return key
    return None


_installed: list[KeyLookup] = []
_installed_lock = threading.Lock()


def install_key_lookup(keys: KeyLookup | None) -> None:
    """Make ``get_key_lookup`` return ``keys`` from now on; ``None`` goes back to the settings."""
    with _installed_lock:
        _installed.clear()
        if keys is not None:
            _installed.append(keys)


def get_key_lookup() -> KeyLookup:
    """Return the installed key lookup, or the repository built from ``get_settings()`` on first use."""
    with _installed_lock:
        if _installed:
            return _installed[0]
    return _repository_from_settings()


KEY_CACHE_SECONDS = 60.0


class CachedKeyLookup:
    """Remember each key hash's lookup, found or not, for ``ttl_seconds`` within one execution environment."""

    def __init__(
        self, keys: KeyLookup, *, ttl_seconds: float = KEY_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keys = keys
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        now = self._clock()
        with self._lock:
            cached = self._entries.get(key_hash)
        if cached is not None and now - cached[0] < self._ttl_seconds:
            return cached[1]
        key = self._keys.find_by_hash(key_hash)
        with self._lock:
            if len(self._entries) >= _MAX_CACHED_KEYS:
                self._entries.clear()
            self._entries[key_hash] = (now, key)
        return key


# Bounds the cache's memory; clearing it only costs one lookup per key.
_MAX_CACHED_KEYS = 10_000


@functools.cache
def _repository_from_settings() -> CachedKeyLookup:
    # The client is built on the first lookup, so a cold start reads the settings but opens no connection.
    return CachedKeyLookup(ApiKeyRepository(client_factory(), table=get_settings().api_keys_table))
