"""The authorizer's decision on an event, with keys held in memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from cascade.api.authorizer import UNAUTHORIZED, CachedKeyLookup, authorize, authorizer_context
from cascade.domain.keys import ApiKey, KeyMode, KeyStatus, generate_key
from cascade.domain.plans import KeyPlan
from tests.conftest import load_event

CREATED = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
WHOLE_API = "arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/*/*"


class _Keys:
    def __init__(self) -> None:
        self.by_hash: dict[str, ApiKey] = {}
        self.lookups: list[str] = []

    def add(self, mode: KeyMode = KeyMode.LIVE, status: KeyStatus = KeyStatus.ACTIVE) -> tuple[ApiKey, str]:
        plaintext, key_hash, prefix = generate_key(mode)
        key = ApiKey(
            key_id=f"key_{len(self.by_hash):016x}",
            account_id="acct_1",
            mode=mode,
            plan=KeyPlan(email_price=Decimal("0.25")),
            status=status,
            created_at=CREATED,
            revoked_at=CREATED if status is KeyStatus.REVOKED else None,
            prefix=prefix,
        )
        self.by_hash[key_hash] = key
        return key, plaintext

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        self.lookups.append(key_hash)
        return self.by_hash.get(key_hash)


def _event(headers: dict[str, str] | None) -> dict[str, Any]:
    event = load_event("apigateway/authorizer_request.json")
    event["headers"] = headers
    return event


@pytest.fixture
def keys() -> _Keys:
    return _Keys()


def test_authorize_allows_whole_stage(keys: _Keys) -> None:
    key, plaintext = keys.add()
    result = authorize(_event({"Authorization": f"Bearer {plaintext}"}), keys)
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"] == [WHOLE_API]
    assert result["principalId"] == key.key_id


def test_authorize_context_fields(keys: _Keys) -> None:
    key, plaintext = keys.add(mode=KeyMode.TEST)
    context = authorize(_event({"Authorization": f"Bearer {plaintext}"}), keys)["context"]
    assert context == authorizer_context(key)
    assert context["mode"] == "test"
    assert KeyPlan.model_validate_json(context["plan"]) == key.plan


def test_authorize_context_values_are_strings(keys: _Keys) -> None:
    _, plaintext = keys.add()
    context = authorize(_event({"Authorization": f"Bearer {plaintext}"}), keys)["context"]
    assert all(isinstance(value, str) for value in context.values())
    assert json.loads(context["plan"])["email_price"] == "0.25"


def test_authorize_denies_revoked(keys: _Keys) -> None:
    key, plaintext = keys.add(status=KeyStatus.REVOKED)
    result = authorize(_event({"Authorization": f"Bearer {plaintext}"}), keys)
    assert result["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [WHOLE_API]}
    ]
    assert "context" not in result
    assert result["principalId"] == key.key_id


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"Authorization": ""},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"x-api-key": "not-a-key"},
        {"Authorization": "Bearer cas_live_short"},
    ],
)
def test_authorize_unauthorized_without_key(keys: _Keys, headers: dict[str, str] | None) -> None:
    with pytest.raises(Exception, match=f"^{UNAUTHORIZED}$"):
        authorize(_event(headers), keys)
    assert keys.lookups == []


def test_authorize_unauthorized_for_unknown_key(keys: _Keys) -> None:
    plaintext, _, _ = generate_key(KeyMode.LIVE)
    with pytest.raises(Exception, match=f"^{UNAUTHORIZED}$"):
        authorize(_event({"Authorization": f"Bearer {plaintext}"}), keys)


@pytest.mark.parametrize("name", ["x-api-key", "X-API-Key", "X-Api-Key"])
def test_authorize_accepts_x_api_key(keys: _Keys, name: str) -> None:
    key, plaintext = keys.add()
    result = authorize(_event({name: plaintext}), keys)
    assert result["context"]["key_id"] == key.key_id


@pytest.mark.parametrize("name", ["authorization", "AUTHORIZATION"])
def test_authorize_header_name_any_case(keys: _Keys, name: str) -> None:
    key, plaintext = keys.add()
    assert authorize(_event({name: f"bearer {plaintext}"}), keys)["principalId"] == key.key_id


def test_authorize_prefers_authorization_header(keys: _Keys) -> None:
    first, first_plaintext = keys.add()
    _, second_plaintext = keys.add()
    headers = {"x-api-key": second_plaintext, "Authorization": f"Bearer {first_plaintext}"}
    assert authorize(_event(headers), keys)["principalId"] == first.key_id


def test_authorize_falls_back_to_x_api_key(keys: _Keys) -> None:
    key, plaintext = keys.add()
    headers = {"Authorization": "Basic dXNlcjpwYXNz", "x-api-key": plaintext}
    assert authorize(_event(headers), keys)["principalId"] == key.key_id


def test_authorize_keeps_partition(keys: _Keys) -> None:
    _, plaintext = keys.add()
    event = _event({"Authorization": f"Bearer {plaintext}"})
    event["methodArn"] = "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123def4/prod/GET/v1/usage"
    resource = authorize(event, keys)["policyDocument"]["Statement"][0]["Resource"]
    assert resource == ["arn:aws-cn:execute-api:cn-north-1:123456789012:abc123def4/prod/*/*"]


@pytest.mark.parametrize("method_arn", ["", "arn:aws:lambda:eu-west-1:123456789012:function:x", "not an arn"])
def test_authorize_rejects_bad_method_arn(keys: _Keys, method_arn: str) -> None:
    event = _event({})
    event["methodArn"] = method_arn
    with pytest.raises(ValueError, match="methodArn"):
        authorize(event, keys)


class _CountingLookup:
    def __init__(self, key: ApiKey | None) -> None:
        self.key = key
        self.calls = 0

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        self.calls += 1
        return self.key


def test_cached_lookup_reuses_answer_within_ttl() -> None:
    now = [100.0]
    inner = _CountingLookup(None)
    cached = CachedKeyLookup(inner, ttl_seconds=60, clock=lambda: now[0])
    assert cached.find_by_hash("h1") is None
    now[0] += 59
    assert cached.find_by_hash("h1") is None
    assert inner.calls == 1


def test_cached_lookup_refreshes_after_ttl() -> None:
    now = [100.0]
    inner = _CountingLookup(None)
    cached = CachedKeyLookup(inner, ttl_seconds=60, clock=lambda: now[0])
    cached.find_by_hash("h1")
    now[0] += 60
    cached.find_by_hash("h1")
    assert inner.calls == 2
