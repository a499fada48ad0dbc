"""Build the OpenAPI 3.1 document from the pydantic models, so it cannot drift from the code."""

from __future__ import annotations

import functools
from typing import Any

from pydantic.json_schema import models_json_schema

from cascade.domain.models import EnrichmentResult, PersonEnrichmentRequest

API_VERSION = "1.0.0"
_REF_TEMPLATE = "#/components/schemas/{model}"

# Each path lives here with its full /v1 prefix. Only endpoints that are deployed are listed.
_PATHS: dict[str, dict[str, Any]] = {
    "/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This OpenAPI document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {}}}},
        }
    },
}


@functools.cache
def build_openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(PersonEnrichmentRequest, "validation"), (EnrichmentResult, "serialization")],
        ref_template=_REF_TEMPLATE,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cascade",
            "version": API_VERSION,
            "description": "Pay-per-match waterfall contact enrichment.",
        },
        "paths": _PATHS,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
        "security": [{"bearer": []}, {"apiKeyHeader": []}],
    }
