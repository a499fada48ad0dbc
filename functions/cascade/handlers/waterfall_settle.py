"""Settle state of the waterfall: the final state in, ``{"result", "providers_unavailable"}`` out."""

from __future__ import annotations

from typing import Any

from cascade.observability import lambda_entry
from cascade.waterfall.dependencies import get_dependencies
from cascade.waterfall.settle import settle
from cascade.waterfall.state import WaterfallState


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    state = WaterfallState.from_json(event)
    return settle(state, get_dependencies()).model_dump(mode="json")
