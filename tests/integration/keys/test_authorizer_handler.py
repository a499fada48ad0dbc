"""The authorizer Lambda handler on the sample REQUEST event, with keys in moto."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cascade.domain.keys import KeyMode, generate_key
from cascade.domain.plans import KeyPlan
from cascade.handlers.authorizer import handler
from cascade.storage.dynamo import client_factory
from cascade.storage.keys import ApiKeyRepository
from tests.conftest import LambdaContext, load_event

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
UNAUTHORIZED = r"^Unauthorized$"
WHOLE_API = "arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/*/*"
PLAN = KeyPlan(email_price=Decimal("0.25"), phone_price=Decimal("0.40"), monthly_cap=Decimal("100.00"))


def _event(headers: dict[str, str]) -> dict[str, Any]:
    event = load_event("apigateway/authorizer_request.json")
    event["headers"] = event["headers"] | headers
    event["multiValueHeaders"] = event["multiValueHeaders"] | {name: [value] for name, value in headers.items()}
    return event


def _without_key(event: dict[str, Any]) -> dict[str, Any]:
    for section in ("headers", "multiValueHeaders"):
        event[section].pop("Authorization")
    return event


def test_handler_missing_header_unauthorized(installed: ApiKeyRepository, lambda_context: LambdaContext) -> None:
    event = _without_key(load_event("apigateway/authorizer_request.json"))
    with pytest.raises(Exception, match=UNAUTHORIZED):
        handler(event, lambda_context)


def test_handler_unknown_key_unauthorized(installed: ApiKeyRepository, lambda_context: LambdaContext) -> None:
    plaintext, _, _ = generate_key(KeyMode.LIVE)
    with pytest.raises(Exception, match=UNAUTHORIZED):
        handler(_event({"Authorization": f"Bearer {plaintext}"}), lambda_context)


def test_handler_sample_key_unauthorized(installed: ApiKeyRepository, lambda_context: LambdaContext) -> None:
    with pytest.raises(Exception, match=UNAUTHORIZED):
        handler(load_event("apigateway/authorizer_request.json"), lambda_context)


def test_handler_revoked_key_denied(installed: ApiKeyRepository, lambda_context: LambdaContext) -> None:
    key, plaintext = installed.create("acct_1", KeyMode.LIVE, PLAN, now=NOW)
    installed.revoke(key.key_id, NOW + timedelta(minutes=1))
    result = handler(_event({"Authorization": f"Bearer {plaintext}"}), lambda_context)
    assert result["principalId"] == key.key_id
    assert result["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [WHOLE_API]}
    ]
    assert "context" not in result


def test_handler_active_key_allowed(installed: ApiKeyRepository, lambda_context: LambdaContext) -> None:
    key, plaintext = installed.create("acct_1", KeyMode.TEST, PLAN, now=NOW)
    result = handler(_event({"Authorization": f"Bearer {plaintext}"}), lambda_context)
    assert result["principalId"] == key.key_id
    assert result["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [WHOLE_API]}
    ]
    assert result["context"]["key_id"] == key.key_id
    assert result["context"]["account_id"] == "acct_1"
    assert result["context"]["mode"] == "test"
    assert KeyPlan.model_validate_json(result["context"]["plan"]) == PLAN
    assert json.loads(result["context"]["plan"])["monthly_cap"] == "100.00"


def test_handler_x_api_key_allowed(installed: ApiKeyRepository, lambda_context: LambdaContext) -> None:
    key, plaintext = installed.create("acct_1", KeyMode.LIVE, PLAN, now=NOW)
    event = _without_key(load_event("apigateway/authorizer_request.json"))
    event["headers"]["x-api-key"] = plaintext
    result = handler(event, lambda_context)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"]["key_id"] == key.key_id


def test_handler_logs_key_id_not_key(
    installed: ApiKeyRepository, lambda_context: LambdaContext, caplog: pytest.LogCaptureFixture
) -> None:
    key, plaintext = installed.create("acct_1", KeyMode.LIVE, PLAN, now=NOW)
    unknown, _, _ = generate_key(KeyMode.LIVE)
    with caplog.at_level(logging.INFO):
        handler(_event({"Authorization": f"Bearer {plaintext}"}), lambda_context)
        with pytest.raises(Exception, match=UNAUTHORIZED):
            handler(_event({"Authorization": f"Bearer {unknown}"}), lambda_context)
    # Powertools passes structured fields as record attributes, so each record's whole __dict__ is searched.
    logged = [repr(vars(record)) for record in caplog.records if record.name == "cascade"]
    assert [text for text in logged if key.key_id in text]
    assert not [text for text in logged if plaintext[12:] in text]
    assert not [text for text in logged if unknown[12:] in text]


def test_handler_builds_repository_from_settings(
    aws: None, table: str, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cascade.api import authorizer  # noqa: PLC0415 - the cached factory is reset around this test
    from cascade.settings import get_settings  # noqa: PLC0415

    monkeypatch.setenv("CASCADE_API_KEYS_TABLE", table)
    get_settings.cache_clear()
    authorizer._repository_from_settings.cache_clear()
    try:
        repository = ApiKeyRepository(client_factory(), table=get_settings().api_keys_table)
        key, plaintext = repository.create("acct_1", KeyMode.LIVE, PLAN, now=NOW)
        event = _without_key(load_event("apigateway/authorizer_request.json"))
        event["headers"]["X-Api-Key"] = plaintext
        result = handler(event, lambda_context)
        assert result["context"]["key_id"] == key.key_id
    finally:
        get_settings.cache_clear()
        authorizer._repository_from_settings.cache_clear()
