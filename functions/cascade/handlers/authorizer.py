"""The API Gateway REQUEST authorizer Lambda: ``Bearer`` or ``x-api-key`` in, an IAM policy out."""

from __future__ import annotations

from typing import Any

from cascade.api.authorizer import authorize, get_key_lookup
from cascade.observability import lambda_entry


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return authorize(event, get_key_lookup())
