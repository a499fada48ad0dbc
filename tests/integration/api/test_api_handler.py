"""The API Lambda entry point on the sample events, over moto tables and a fake waterfall runner."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from cascade.api.routes.people import enrichment_id_for, idempotent_request_id, request_hash
from cascade.api.services import ApiServices, install_services
from cascade.domain.billing import LedgerLine, LineKind, match_id, request_reference
from cascade.domain.models import PersonEnrichmentRequest, RequestedField
from cascade.handlers.api import handler
from cascade.storage.dynamo import RetryableStorageError
from cascade.storage.idempotency import BeginOutcome, IdempotencyBegin, IdempotencyStore
from cascade.storage.ledger import LedgerRepository
from tests.conftest import LambdaContext, load_event
from tests.integration.api.conftest import NOW, FakeRunner

KEY_ID = "key_5f1e2d3c4b5a6978"
OTHER_KEY_ID = "key_0123456789abcdef"
IDEMPOTENCY_KEY = "crm-sync-2026-12-04-0001"


def _post(**changes: Any) -> dict[str, Any]:
    event = load_event("apigateway/post_people_enrich.json")
    if "body" in changes:
        event["body"] = json.dumps(changes["body"])
    if "idempotency_key" in changes:
        key = changes["idempotency_key"]
        if key is None:
            del event["headers"]["Idempotency-Key"]
        else:
            event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return event


def _get_enrichment(enrichment_id: str, *, key_id: str = KEY_ID) -> dict[str, Any]:
    event = load_event("apigateway/get_enrichment.json")
    event["path"] = f"/v1/enrichments/{enrichment_id}"
    event["requestContext"]["path"] = f"/prod/v1/enrichments/{enrichment_id}"
    event["pathParameters"] = {"enrichment_id": enrichment_id}
    event["requestContext"]["authorizer"]["key_id"] = key_id
    return event


def _get_usage(month: str) -> dict[str, Any]:
    event = load_event("apigateway/get_usage.json")
    event["queryStringParameters"] = {"month": month}
    event["multiValueQueryStringParameters"] = {"month": [month]}
    return event


def _header(reply: dict[str, Any], name: str) -> str | None:
    values = reply["multiValueHeaders"].get(name)
    return values[0] if values else None


def _sample_request() -> PersonEnrichmentRequest:
    return PersonEnrichmentRequest.model_validate_json(load_event("apigateway/post_people_enrich.json")["body"])


def test_enrich_matched_billed(services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext) -> None:
    reply = handler(_post(), lambda_context)
    body = json.loads(reply["body"])
    request_id = idempotent_request_id(KEY_ID, IDEMPOTENCY_KEY)
    assert reply["statusCode"] == 200
    assert _header(reply, "Content-Type") == "application/json"
    assert _header(reply, "Idempotent-Replayed") is None
    assert body["id"] == enrichment_id_for(request_id)
    assert body["status"] == "matched"
    assert body["email"]["address"] == "ada.quill@example.com"
    assert body["person"]["company_domain"] == "example.com"
    assert "ascii_first" not in body["person"]
    assert body["billing"] == {
        "billed": True,
        "amount": "0.20",
        "lines": [
            {
                "match_id": match_id(KEY_ID, request_reference(request_id=request_id), RequestedField.EMAIL),
                "field": "email",
                "amount": "0.20",
                "provider": "hunter",
                "verdict": "valid",
            }
        ],
    }


def test_enrich_sends_waterfall_input(services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext) -> None:
    handler(_post(), lambda_context)
    assert len(runner.inputs) == 1
    context = runner.inputs[0]["context"]
    assert context["key_id"] == KEY_ID
    assert context["account_id"] == "acct_1f2e3d4c5b6a7988"
    assert context["request_id"] == idempotent_request_id(KEY_ID, IDEMPOTENCY_KEY)
    assert context["sync"] is True
    assert context["plan"]["email_price"] == "0.20"
    assert context["received_at"] == "2026-12-04T15:30:12Z"
    assert runner.inputs[0]["request"]["first_name"] == "Ada"
    assert runner.names[0].startswith(context["enrichment_id"] + "-")


def test_enrich_result_readable_by_id(services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext) -> None:
    posted = handler(_post(), lambda_context)
    enrichment_id = json.loads(posted["body"])["id"]
    fetched = handler(_get_enrichment(enrichment_id), lambda_context)
    assert fetched["statusCode"] == 200
    assert json.loads(fetched["body"]) == json.loads(posted["body"])


def test_enrich_replay_returns_first_reply(
    services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    first = handler(_post(), lambda_context)
    # A retry with the same key and body, its fields reordered and padded.
    replay = handler(
        _post(
            body={
                "fields": ["email"],
                "company_domain": " https://www.example.com/about ",
                "last_name": "Quill",
                "first_name": "Ada",
            }
        ),
        lambda_context,
    )
    assert replay["statusCode"] == first["statusCode"]
    assert replay["body"] == first["body"]
    assert _header(replay, "Idempotent-Replayed") == "true"
    assert len(runner.inputs) == 1


def test_enrich_key_reused_other_body_409(
    services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    handler(_post(), lambda_context)
    other = {"first_name": "Bea", "last_name": "Quill", "company_domain": "example.com"}
    reply = handler(_post(body=other), lambda_context)
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 409
    assert _header(reply, "Content-Type") == "application/problem+json"
    assert problem["type"] == "urn:cascade:problem:idempotency-key-reused"
    assert _header(reply, "Retry-After") is None
    assert len(runner.inputs) == 1


def test_enrich_in_progress_409(
    services: ApiServices, runner: FakeRunner, idempotency: IdempotencyStore, lambda_context: LambdaContext
) -> None:
    claim = idempotency.begin(KEY_ID, IDEMPOTENCY_KEY, request_hash(_sample_request()), NOW)
    assert claim.outcome is BeginOutcome.NEW
    reply = handler(_post(), lambda_context)
    assert reply["statusCode"] == 409
    assert json.loads(reply["body"])["type"] == "urn:cascade:problem:idempotency-in-progress"
    assert _header(reply, "Retry-After") == "1"
    assert runner.inputs == []


def test_enrich_providers_unavailable_503(
    services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    runner.outcome = "unavailable"
    reply = handler(_post(), lambda_context)
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 503
    assert problem["type"] == "urn:cascade:problem:providers-unavailable"
    assert "nothing was charged" in problem["detail"]
    enrichment_id = enrichment_id_for(idempotent_request_id(KEY_ID, IDEMPOTENCY_KEY))
    assert handler(_get_enrichment(enrichment_id), lambda_context)["statusCode"] == 404


def test_enrich_retry_after_503_runs_again(
    services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    runner.outcome = "unavailable"
    handler(_post(), lambda_context)
    runner.outcome = "matched"
    reply = handler(_post(), lambda_context)
    assert reply["statusCode"] == 200
    assert _header(reply, "Idempotent-Replayed") is None
    assert len(runner.inputs) == 2
    assert runner.inputs[0]["context"]["request_id"] == runner.inputs[1]["context"]["request_id"]


def test_enrich_failed_execution_500(services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext) -> None:
    runner.outcome = "failed"
    reply = handler(_post(), lambda_context)
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 500
    assert problem["type"] == "urn:cascade:problem:internal-error"
    assert problem["request_id"] == "c6af9ac6-7b61-4f1e-9a2b-6a0f4d1e2b3c"
    assert "States.Runtime" not in problem["detail"]
    runner.outcome = "matched"
    assert handler(_post(), lambda_context)["statusCode"] == 200


class _CompleteFails:
    """An IdempotencyStore whose ``complete`` is throttled every time."""

    def __init__(self, store: IdempotencyStore) -> None:
        self._store = store

    def begin(self, key_id: str, idempotency_key: str, body_hash: str, now: datetime) -> IdempotencyBegin:
        return self._store.begin(key_id, idempotency_key, body_hash, now)

    def complete(self, key_id: str, idempotency_key: str, token: str, *, status: int, body: str, now: datetime) -> bool:
        raise RetryableStorageError("completing failed with ThrottlingException", code="ThrottlingException")

    def release(self, key_id: str, idempotency_key: str, token: str) -> bool:
        return self._store.release(key_id, idempotency_key, token)


def test_enrich_reply_sent_when_complete_fails(
    services: ApiServices, runner: FakeRunner, idempotency: IdempotencyStore, lambda_context: LambdaContext
) -> None:
    install_services(dataclasses.replace(services, idempotency=_CompleteFails(idempotency)))
    first = handler(_post(), lambda_context)
    retry = handler(_post(), lambda_context)
    assert first["statusCode"] == 200
    assert json.loads(first["body"])["status"] == "matched"
    assert retry["statusCode"] == 409
    assert len(runner.inputs) == 1


def test_enrich_without_key_new_request_each_time(
    services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    first = json.loads(handler(_post(idempotency_key=None), lambda_context)["body"])
    second = json.loads(handler(_post(idempotency_key=None), lambda_context)["body"])
    assert first["id"] != second["id"]
    assert len(runner.inputs) == 2


def test_enrichment_other_key_404_like_unknown(
    services: ApiServices, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    enrichment_id = json.loads(handler(_post(), lambda_context)["body"])["id"]
    other_key = handler(_get_enrichment(enrichment_id, key_id=OTHER_KEY_ID), lambda_context)
    unknown = handler(_get_enrichment("enr_000000000000000000000000", key_id=OTHER_KEY_ID), lambda_context)
    malformed = handler(_get_enrichment("not-an-id", key_id=OTHER_KEY_ID), lambda_context)
    assert other_key["statusCode"] == 404
    assert json.loads(other_key["body"])["type"] == "urn:cascade:problem:not-found"
    assert other_key["body"] == unknown["body"]
    assert malformed["body"] == unknown["body"]


def test_usage_totals(services: ApiServices, ledger: LedgerRepository, lambda_context: LambdaContext) -> None:
    charges = [("req-1", RequestedField.EMAIL), ("req-2", RequestedField.EMAIL), ("req-2", RequestedField.PHONE)]
    for request_id, field in charges:
        ledger.charge(_charge(request_id, field))
    ledger.charge(_charge("req-1", RequestedField.EMAIL))
    reply = handler(_get_usage("2026-12"), lambda_context)
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"]) == {
        "month": "2026-12",
        "totals": {"email": {"count": 2, "amount": "0.40"}, "phone": {"count": 1, "amount": "0.30"}},
        "amount": "0.70",
    }


def test_usage_other_month_zero(services: ApiServices, ledger: LedgerRepository, lambda_context: LambdaContext) -> None:
    ledger.charge(_charge("req-1", RequestedField.EMAIL))
    reply = handler(_get_usage("2026-11"), lambda_context)
    assert json.loads(reply["body"]) == {
        "month": "2026-11",
        "totals": {"email": {"count": 0, "amount": "0.00"}, "phone": {"count": 0, "amount": "0.00"}},
        "amount": "0.00",
    }


def _charge(request_id: str, field: RequestedField) -> LedgerLine:
    line_id = match_id(KEY_ID, request_reference(request_id=request_id), field)
    return LedgerLine(
        line_id=line_id,
        kind=LineKind.CHARGE,
        match_id=line_id,
        key_id=KEY_ID,
        account_id="acct_1f2e3d4c5b6a7988",
        field=field,
        amount_micros=200_000 if field is RequestedField.EMAIL else 300_000,
        provider="hunter",
        verdict="valid",
        charged_at=NOW,
        enrichment_id=enrichment_id_for(request_id),
        request_id=request_id,
    )
