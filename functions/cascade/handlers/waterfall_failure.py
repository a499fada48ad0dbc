"""RecordFailure state of the waterfall: the state with the Catch's ``error`` in, the state moved on out."""

from __future__ import annotations

from typing import Any

from cascade.observability import lambda_entry
from cascade.waterfall.dependencies import get_dependencies
from cascade.waterfall.state import WaterfallState
from cascade.waterfall.step import record_failure


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    state = WaterfallState.from_json(event)
    return record_failure(state, get_dependencies()).to_json()
