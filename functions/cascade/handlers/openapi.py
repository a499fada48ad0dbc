"""``GET /v1/openapi.json``: the OpenAPI document of the endpoints that exist."""

from __future__ import annotations

import json
from typing import Any

from cascade.api.openapi import build_openapi_document
from cascade.observability import lambda_entry


@lambda_entry
def handler(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(build_openapi_document(), sort_keys=True),
    }
