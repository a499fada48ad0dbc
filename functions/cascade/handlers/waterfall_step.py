"""Provider Task of the waterfall: ``{"provider": name, "state": state}`` in, the updated state out.

One function serves every provider; the Task's Parameters name the provider.
"""

from __future__ import annotations

from typing import Any

from cascade.observability import lambda_entry
from cascade.waterfall.dependencies import get_dependencies
from cascade.waterfall.state import StepEvent
from cascade.waterfall.step import run_step


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    step = StepEvent.model_validate(event)
    return run_step(step.provider, step.state, get_dependencies()).to_json()
