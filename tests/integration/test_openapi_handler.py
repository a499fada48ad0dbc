from __future__ import annotations

import json

from cascade.handlers.openapi import handler
from tests.conftest import LambdaContext, load_event


def test_openapi_handler_serves_document(lambda_context: LambdaContext) -> None:
    reply = handler(load_event("apigateway/get_openapi.json"), lambda_context)
    assert reply["statusCode"] == 200
    assert reply["headers"]["Content-Type"] == "application/json"
    document = json.loads(reply["body"])
    assert document["openapi"] == "3.1.0"
    assert "/v1/openapi.json" in document["paths"]


def test_openapi_paths_written_in_full(lambda_context: LambdaContext) -> None:
    document = json.loads(handler(load_event("apigateway/get_openapi.json"), lambda_context)["body"])
    assert all(path.startswith("/v1/") for path in document["paths"])


def test_openapi_schemas_include_contract_models(lambda_context: LambdaContext) -> None:
    document = json.loads(handler(load_event("apigateway/get_openapi.json"), lambda_context)["body"])
    schemas = document["components"]["schemas"]
    assert "PersonEnrichmentRequest" in schemas
    assert schemas["Billing"]["properties"]["amount"]["type"] == "string"
