"""Plan state of the waterfall: the execution input in, the initial waterfall state out."""

from __future__ import annotations

from typing import Any

from cascade.observability import lambda_entry
from cascade.waterfall.dependencies import get_dependencies
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.state import WaterfallInput


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    start = WaterfallInput.model_validate(event)
    return plan_waterfall(start, get_dependencies()).to_json()
