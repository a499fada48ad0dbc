"""Events and stand-in collaborators for the API unit tests, which never reach storage or the waterfall."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NoReturn

from cascade.api.services import ApiServices
from cascade.domain.models import EnrichmentResult
from cascade.settings import Settings
from cascade.storage.idempotency import IdempotencyBegin
from cascade.storage.usage import MonthUsage
from tests.conftest import load_event


def _unreachable(name: str) -> NoReturn:
    raise AssertionError(f"{name} was called, but this test expects the request to be rejected before it")


class UnusedRunner:
    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        _unreachable("runner.run")


class UnusedEnrichments:
    def put(self, result: EnrichmentResult, *, key_id: str, account_id: str, expires_at: datetime) -> None:
        _unreachable("enrichments.put")

    def get(self, enrichment_id: str, key_id: str) -> EnrichmentResult | None:
        _unreachable("enrichments.get")


class UnusedIdempotency:
    def begin(self, key_id: str, idempotency_key: str, body_hash: str, now: datetime) -> IdempotencyBegin:
        _unreachable("idempotency.begin")

    def complete(self, key_id: str, idempotency_key: str, token: str, *, status: int, body: str, now: datetime) -> bool:
        _unreachable("idempotency.complete")

    def release(self, key_id: str, idempotency_key: str, token: str) -> bool:
        _unreachable("idempotency.release")


class UnusedUsage:
    def month_usage(self, key_id: str, month: str) -> MonthUsage:
        _unreachable("usage.month_usage")


def unused_services() -> ApiServices:
    return ApiServices(
        settings=Settings(),
        runner=UnusedRunner(),
        enrichments=UnusedEnrichments(),
        idempotency=UnusedIdempotency(),
        usage=UnusedUsage(),
    )


def post_event(body: Any = None, *, raw: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the sample POST /v1/people/enrich event with ``body`` as JSON (or ``raw`` text) and extra headers."""
    event = load_event("apigateway/post_people_enrich.json")
    event["body"] = raw if raw is not None else json.dumps(body)
    del event["headers"]["Idempotency-Key"]
    event["headers"].update(headers or {})
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return event


def problem_of(reply: dict[str, Any]) -> dict[str, Any]:
    """Return the problem document of a reply, checking that it is sent as one."""
    assert reply["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    document: dict[str, Any] = json.loads(reply["body"])
    return document
