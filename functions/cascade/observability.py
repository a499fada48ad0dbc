"""Powertools Logger, Tracer and Metrics, built once per cold start on first use.

Modules call ``get_logger()`` where they log instead of holding a module-level logger, so
importing a module never reads ``POWERTOOLS_*`` variables. Handlers wrap their entry
function with ``lambda_entry``, which applies the Powertools decorators on the first
invocation and reuses the wrapped function afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE_NAME = "cascade"
METRICS_NAMESPACE = "Cascade"

Event = TypeVar("Event")
Result = TypeVar("Result")


@functools.cache
def get_logger() -> Logger:
    return Logger(service=SERVICE_NAME)


@functools.cache
def get_tracer() -> Tracer:
    return Tracer(service=SERVICE_NAME)


@functools.cache
def get_metrics() -> Metrics:
    return Metrics(service=SERVICE_NAME, namespace=METRICS_NAMESPACE)


def lambda_entry(handler: Callable[[Event, Any], Result]) -> Callable[[Event, Any], Result]:
    """Wrap a Lambda entry function with the Lambda context in logs, tracing and metrics.

    The decorators are applied on the first call, not at import, and the wrapped function
    is kept for the life of the execution environment.
    """
    wrapped: list[Callable[[Event, Any], Result]] = []

    @functools.wraps(handler)
    def entry(event: Event, context: Any) -> Result:
        if not wrapped:
            traced = get_tracer().capture_lambda_handler(handler)
            logged = get_logger().inject_lambda_context(traced, clear_state=True)
            wrapped.append(get_metrics().log_metrics(logged))
        return wrapped[0](event, context)

    return entry
