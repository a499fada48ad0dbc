"""``GET /v1/openapi.json`` through the API Lambda: the served document matches the committed copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cascade.handlers.api import handler
from tests.conftest import LambdaContext, load_event

COMMITTED_DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
API_PATHS = {
    "/v1/people/enrich",
    "/v1/enrichments/{enrichment_id}",
    "/v1/companies/enrich",
    "/v1/jobs",
    "/v1/jobs/{job_id}",
    "/v1/jobs/{job_id}/cancel",
    "/v1/usage",
    "/v1/usage/export",
    "/v1/matches/{match_id}/bounce",
    "/v1/openapi.json",
}


@pytest.fixture
def document(lambda_context: LambdaContext) -> dict[str, Any]:
    reply = handler(load_event("apigateway/get_openapi.json"), lambda_context)
    assert reply["statusCode"] == 200
    assert reply["multiValueHeaders"]["Content-Type"] == ["application/json"]
    served: dict[str, Any] = json.loads(reply["body"])
    return served


def test_openapi_matches_committed_copy(document: dict[str, Any]) -> None:
    committed = json.loads(COMMITTED_DOCUMENT.read_text(encoding="utf-8"))
    assert document == committed, "docs/openapi.json is out of date; run make openapi"


def test_openapi_paths_written_in_full(document: dict[str, Any]) -> None:
    assert set(document["paths"]) == API_PATHS
    assert all(path.startswith("/v1/") for path in document["paths"])


def test_openapi_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer cas_live_... or cas_test_...",
    }
    assert schemes["apiKeyHeader"]["in"] == "header"
    assert schemes["apiKeyHeader"]["name"] == "x-api-key"
    assert document["security"] == [{"bearer": []}, {"apiKeyHeader": []}]


def test_openapi_document_route_public(document: dict[str, Any]) -> None:
    assert document["paths"]["/v1/openapi.json"]["get"]["security"] == []
    assert "security" not in document["paths"]["/v1/people/enrich"]["post"]


def test_openapi_errors_are_problem_documents(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"


def test_openapi_schemas_include_contract_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "PersonEnrichmentRequest" in schemas
    assert schemas["Billing"]["properties"]["amount"]["type"] == "string"
    assert schemas["Usage"]["properties"]["amount"]["type"] == "string"
    assert "HTTPValidationError" not in schemas
    assert "ascii_first" not in schemas["NormalisedPerson"]["properties"]
