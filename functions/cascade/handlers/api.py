"""The HTTP API Lambda: every ``/v1`` route, behind the API-key authorizer except ``GET /v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from cascade.api.app import get_app
from cascade.observability import lambda_entry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return get_app().handle(event, context)
