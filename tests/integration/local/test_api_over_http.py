"""The API over real HTTP through the local gateway: authorization, validation, ownership, idempotency, billing."""

from __future__ import annotations

import http.client
import json
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from cascade.domain.keys import ApiKey
from cascade.providers.registry import DEFAULT_ORDER
from infra.local.demo import DemoCase, choose_cases
from infra.local.gateway import MAX_BODY_BYTES
from infra.local.stack import LocalStack
from infra.sandbox.directory import default_directory
from tests.integration.local.conftest import current_month

PROBLEM_JSON = "application/problem+json"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module")
def cases() -> list[DemoCase]:
    return choose_cases(default_directory(), DEFAULT_ORDER)


@pytest.fixture(scope="module")
def found_by_first(cases: list[DemoCase]) -> dict[str, Any]:
    return cases[0].request


def _client_for(stack: LocalStack, plaintext: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {plaintext}"}
    return httpx.Client(base_url=stack.endpoints.api_url, headers=headers, timeout=60)


@pytest.fixture
def fresh_key(local_stack: LocalStack) -> tuple[ApiKey, str]:
    return local_stack.create_api_key(name="one test")


@pytest.fixture
def fresh_client(local_stack: LocalStack, fresh_key: tuple[ApiKey, str]) -> Iterator[httpx.Client]:
    with _client_for(local_stack, fresh_key[1]) as client:
        yield client


def _assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:cascade:problem:")
    assert problem["title"]
    assert problem["detail"]
    return problem


# Authorization


def test_openapi_public_without_key(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/openapi.json")
    assert response.status_code == 200
    assert "/v1/people/enrich" in response.json()["paths"]


def test_no_key_is_401_problem(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/usage", params={"month": current_month()})
    problem = _assert_problem(response, 401)
    assert problem["type"] == "urn:cascade:problem:unauthenticated"
    assert problem["request_id"] == response.headers["x-amzn-requestid"]


def test_unknown_key_is_401(anonymous: httpx.Client) -> None:
    unknown = f"cas_test_{secrets.token_urlsafe(32)}"
    response = anonymous.get("/v1/usage", params={"month": current_month()}, headers={"x-api-key": unknown})
    _assert_problem(response, 401)


def test_malformed_authorization_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/usage", params={"month": current_month()}, headers={"Authorization": "Basic abc"})
    _assert_problem(response, 401)


def test_revoked_key_is_403(local_stack: LocalStack, anonymous: httpx.Client) -> None:
    key, plaintext = local_stack.create_api_key(name="to revoke")
    local_stack.api_keys().revoke(key.key_id, datetime.now(UTC))
    response = anonymous.get("/v1/usage", params={"month": current_month()}, headers={"x-api-key": plaintext})
    problem = _assert_problem(response, 403)
    assert problem["type"] == "urn:cascade:problem:forbidden"


def test_revoked_key_passes_until_cache_expires(local_stack: LocalStack) -> None:
    key, plaintext = local_stack.create_api_key(name="cached then revoked")
    with _client_for(local_stack, plaintext) as client:
        before = client.get("/v1/usage", params={"month": current_month()})
        local_stack.api_keys().revoke(key.key_id, datetime.now(UTC))
        cached = client.get("/v1/usage", params={"month": current_month()})
        local_stack.gateway.cache.clear()
        after = client.get("/v1/usage", params={"month": current_month()})
    assert before.status_code == 200
    assert cached.status_code == 200
    assert after.status_code == 403


def test_x_api_key_header_accepted(local_stack: LocalStack, test_key: tuple[ApiKey, str]) -> None:
    with httpx.Client(base_url=local_stack.endpoints.api_url, timeout=60) as client:
        response = client.get("/v1/usage", params={"month": current_month()}, headers={"x-api-key": test_key[1]})
    assert response.status_code == 200
    assert response.json()["month"] == current_month()


def test_unknown_path_needs_key(anonymous: httpx.Client) -> None:
    _assert_problem(anonymous.get("/v1/nothing-here"), 401)


def test_unknown_path_with_key_is_404(client: httpx.Client) -> None:
    _assert_problem(client.get("/v1/nothing-here"), 404)


# Request size and validation


def test_body_over_gateway_limit_is_413(local_stack: LocalStack, test_key: tuple[ApiKey, str]) -> None:
    # The headers promise a body one byte over the limit, and the gateway rejects it before reading any of it.
    url = urlsplit(local_stack.endpoints.api_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.putrequest("POST", "/v1/people/enrich")
        connection.putheader("Authorization", f"Bearer {test_key[1]}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        response = connection.getresponse()
        status = response.status
        content_type = response.getheader("Content-Type")
        problem = json.loads(response.read())
    finally:
        connection.close()
    assert status == 413
    assert content_type == PROBLEM_JSON
    assert problem["type"] == "urn:cascade:problem:request-too-large"


def test_body_over_api_limit_is_413(client: httpx.Client, local_stack: LocalStack) -> None:
    filler = "x" * (local_stack.settings.max_request_bytes + 1)
    response = client.post("/v1/people/enrich", json={"first_name": filler})
    _assert_problem(response, 413)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "Ada"}, None),
        ({"first_name": "Ada", "last_name": "Lovelace", "company_domain": "example.com", "country": "ZZ"}, "country"),
        ({"first_name": "Ada", "last_name": "Lovelace", "company_domain": "example.com", "fields": ["fax"]}, "fields"),
        ({"linkedin_url": "https://www.linkedin.com/in/ada", "surprise": 1}, "surprise"),
    ],
)
def test_invalid_input_is_422(client: httpx.Client, body: dict[str, Any], field: str | None) -> None:
    problem = _assert_problem(client.post("/v1/people/enrich", json=body), 422)
    assert problem["type"] == "urn:cascade:problem:invalid-input"
    assert problem["errors"]
    assert all(error["field"] is not None and error["message"] for error in problem["errors"])
    if field is not None:
        assert any(error["field"].startswith(field) for error in problem["errors"]), problem["errors"]


def test_huge_amount_is_422(client: httpx.Client, found_by_first: dict[str, Any]) -> None:
    body = found_by_first | {"waterfall": {"max_amount": "1e30"}}
    _assert_problem(client.post("/v1/people/enrich", json=body), 422)


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/v1/people/enrich", content=b'{"first_name": ', headers={"Content-Type": "application/json"}
    )
    _assert_problem(response, 400)


# Ownership


def test_other_keys_enrichment_is_404(
    local_stack: LocalStack, fresh_client: httpx.Client, found_by_first: dict[str, Any]
) -> None:
    created = fresh_client.post("/v1/people/enrich", json=found_by_first)
    enrichment_id = created.json()["id"]
    _, other_plaintext = local_stack.create_api_key(name="another account")
    with _client_for(local_stack, other_plaintext) as other:
        foreign = other.get(f"/v1/enrichments/{enrichment_id}")
    own = fresh_client.get(f"/v1/enrichments/{enrichment_id}")
    unknown = fresh_client.get(f"/v1/enrichments/enr_{'0' * 24}")

    assert created.status_code == 200
    _assert_problem(foreign, 404)
    assert own.status_code == 200
    assert own.json()["id"] == enrichment_id
    assert foreign.json()["detail"] == unknown.json()["detail"]
    _assert_problem(unknown, 404)


# Idempotency and billing


def test_idempotency_replay_charges_once(
    local_stack: LocalStack,
    fresh_client: httpx.Client,
    fresh_key: tuple[ApiKey, str],
    found_by_first: dict[str, Any],
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = fresh_client.post("/v1/people/enrich", json=found_by_first, headers=headers)
    replay = fresh_client.post("/v1/people/enrich", json=found_by_first, headers=headers)
    lines = local_stack.ledger().lines_for_month(fresh_key[0].key_id, current_month())

    assert first.status_code == 200
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert first.json()["billing"]["billed"] is True
    assert len(lines) == 1
    assert lines[0].match_id == first.json()["billing"]["lines"][0]["match_id"]


def test_idempotency_key_other_body_is_409(
    fresh_client: httpx.Client, found_by_first: dict[str, Any], cases: list[DemoCase]
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = fresh_client.post("/v1/people/enrich", json=found_by_first, headers=headers)
    other = fresh_client.post("/v1/people/enrich", json=cases[1].request, headers=headers)
    assert first.status_code == 200
    problem = _assert_problem(other, 409)
    assert problem["type"] == "urn:cascade:problem:idempotency-key-reused"


def test_matched_enrichment_billed_and_usage_matches_ledger(
    local_stack: LocalStack, fresh_client: httpx.Client, fresh_key: tuple[ApiKey, str], cases: list[DemoCase]
) -> None:
    results = [fresh_client.post("/v1/people/enrich", json=case.request) for case in cases]
    month = current_month()
    usage = fresh_client.get("/v1/usage", params={"month": month})
    lines = local_stack.ledger().lines_for_month(fresh_key[0].key_id, month)

    assert [result.status_code for result in results] == [200] * len(cases)
    matched = results[0].json()
    assert matched["status"] == "matched"
    assert matched["billing"]["billed"] is True
    assert matched["billing"]["amount"] == "0.20"
    assert [line["field"] for line in matched["billing"]["lines"]] == ["email"]
    assert usage.status_code == 200
    totals = usage.json()["totals"]
    for field in ("email", "phone"):
        field_lines = [line for line in lines if line.field.value == field]
        expected_amount = Decimal(sum(line.amount_micros for line in field_lines)) / 1_000_000
        assert totals[field]["count"] == len(field_lines), field
        assert Decimal(totals[field]["amount"]) == expected_amount, field
    billed = sum(Decimal(result.json()["billing"]["amount"]) for result in results)
    assert Decimal(usage.json()["amount"]) == billed
    assert {line.match_id for line in lines} == {
        line["match_id"] for result in results for line in result.json()["billing"]["lines"]
    }
