"""Billing routes and the spend cap through the API Lambda, with authorizer-context events over moto tables."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from cascade.api.billing_services import BillingServices, install_billing_services
from cascade.api.services import ApiServices
from cascade.billing.bounces import BounceReports
from cascade.domain.billing import LedgerLine, LineKind, match_id, request_reference
from cascade.domain.models import RequestedField
from cascade.handlers.api import handler
from cascade.providers.registry import ProviderRegistry
from cascade.storage.billing import BillingItems
from cascade.storage.enrichments import EnrichmentRepository
from cascade.storage.freshness import FreshnessStore
from cascade.storage.ledger import LedgerRepository
from cascade.verification.email import EmailVerification, verify_email
from cascade.verification.mx import StaticMxResolver
from tests.conftest import LambdaContext, load_event
from tests.integration.api.conftest import NOW, TABLE_NAMES, FakeRunner

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_ID = "key_5f1e2d3c4b5a6978"
OTHER_KEY_ID = "key_0123456789abcdef"
MONTH = NOW.strftime("%Y-%m")


@pytest.fixture
def billing(
    services: ApiServices,
    dynamodb: DynamoDBClient,
    ledger: LedgerRepository,
    enrichments: EnrichmentRepository,
    sandbox_registry: ProviderRegistry,
) -> Iterator[BillingServices]:
    def verify(address: str) -> EmailVerification:
        return verify_email(
            address,
            mx_resolver=StaticMxResolver({"example.com": ["10 mx.example.com"]}),
            verifiers=sandbox_registry.verifiers(),
        )

    installed = BillingServices(
        ledger=ledger,
        bounces=BounceReports(
            ledger=ledger,
            results=enrichments,
            freshness=FreshnessStore(dynamodb, table=TABLE_NAMES["freshness"], retention_days=180),
            counters=BillingItems(dynamodb, usage_table=TABLE_NAMES["usage"]),
            verify=verify,
            clock=lambda: NOW,
        ),
    )
    install_billing_services(installed)
    yield installed
    install_billing_services(None)


def _event(
    method: str,
    path: str,
    resource: str,
    *,
    query: dict[str, str] | None = None,
    key_id: str = KEY_ID,
    plan: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event = load_event("apigateway/get_usage.json")
    event["httpMethod"] = method
    event["path"] = path
    event["resource"] = resource
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["resourcePath"] = resource
    event["requestContext"]["path"] = f"/prod{path}"
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in query.items()} if query else None
    event["requestContext"]["authorizer"]["key_id"] = key_id
    if plan is not None:
        event["requestContext"]["authorizer"]["plan"] = json.dumps(plan)
    return event


def _export(month: str, format: str | None = None) -> dict[str, Any]:
    query = {"month": month} | ({"format": format} if format else {})
    return _event("GET", "/v1/usage/export", "/v1/usage/export", query=query)


def _bounce(match: str, *, key_id: str = KEY_ID) -> dict[str, Any]:
    return _event("POST", f"/v1/matches/{match}/bounce", "/v1/matches/{match_id}/bounce", key_id=key_id)


def _line(key_id: str, request_id: str, at: datetime, *, field: RequestedField = RequestedField.EMAIL) -> LedgerLine:
    line_id = match_id(key_id, request_reference(request_id=request_id), field)
    return LedgerLine(
        line_id=line_id,
        kind=LineKind.CHARGE,
        match_id=line_id,
        key_id=key_id,
        account_id="acct_1f2e3d4c5b6a7988",
        field=field,
        amount_micros=200_000 if field is RequestedField.EMAIL else 300_000,
        provider="hunter",
        verdict="valid",
        charged_at=at,
        enrichment_id="enr_000000000000000000000000",
        request_id=request_id,
    )


def _content_type(reply: dict[str, Any]) -> str:
    return str(reply["multiValueHeaders"]["Content-Type"][0])


def test_export_csv_route(billing: BillingServices, ledger: LedgerRepository, lambda_context: LambdaContext) -> None:
    ledger.charge(_line(KEY_ID, "req_1", NOW))
    ledger.charge(_line(KEY_ID, "req_1", NOW, field=RequestedField.PHONE))
    ledger.charge(_line(OTHER_KEY_ID, "req_2", NOW))
    reply = handler(_export(MONTH), lambda_context)
    assert reply["statusCode"] == 200
    assert _content_type(reply) == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(reply["body"], newline="")))
    assert [row["field"] for row in rows] == ["email", "phone"]
    assert [row["amount"] for row in rows] == ["0.20", "0.30"]
    assert {row["key_id"] for row in rows} == {KEY_ID}
    assert reply["body"].endswith("\r\n")


def test_export_json_route_with_refund(
    billing: BillingServices, ledger: LedgerRepository, lambda_context: LambdaContext
) -> None:
    line = _line(KEY_ID, "req_1", NOW)
    ledger.charge(line)
    ledger.refund(line.match_id, refunded_at=NOW, reason="hard bounce")
    reply = handler(_export(MONTH, "json"), lambda_context)
    assert reply["statusCode"] == 200
    assert _content_type(reply) == "application/json"
    document = json.loads(reply["body"])
    assert [item["amount"] for item in document["lines"]] == ["0.20", "-0.20"]
    assert document["amount"] == "0.00"
    assert document["totals"]["email"] == {"count": 0, "amount": "0.00"}


def test_export_route_rejects_bad_month(billing: BillingServices, lambda_context: LambdaContext) -> None:
    reply = handler(_export("2026-3"), lambda_context)
    assert reply["statusCode"] == 422
    assert "YYYY-MM" in reply["body"]
    bad_format = handler(_export(MONTH, "xlsx"), lambda_context)
    assert bad_format["statusCode"] == 422


def test_bounce_route_other_key_404(
    billing: BillingServices, ledger: LedgerRepository, lambda_context: LambdaContext
) -> None:
    line = _line(OTHER_KEY_ID, "req_1", NOW)
    ledger.charge(line)
    reply = handler(_bounce(line.match_id), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 404
    assert body["type"] == "urn:cascade:problem:not-found"
    assert line.match_id in body["detail"]


def test_bounce_route_valid_not_refunded(
    billing: BillingServices, ledger: LedgerRepository, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    # The fake waterfall finds ada.quill@example.com, a domain the sandbox verifiers do not know: "unknown".
    posted = json.loads(handler(load_event("apigateway/post_people_enrich.json"), lambda_context)["body"])
    match = posted["billing"]["lines"][0]["match_id"]
    # The fake runner replaces the Settle step, which writes the charge, so the test writes it.
    ledger.charge(
        dataclasses.replace(_line(KEY_ID, "unused", NOW), line_id=match, match_id=match, enrichment_id=posted["id"])
    )
    reply = handler(_bounce(match), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert body["decision"] == "not_refunded"
    assert body["verdict"] == "unknown"
    assert "the charge stands" in body["reason"]
    assert body["refunded_amount"] == "0.00"


def test_enrich_over_cap_402_before_providers(
    services: ApiServices, ledger: LedgerRepository, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    ledger.charge(_line(KEY_ID, "req_earlier", datetime(2026, 12, 1, 8, tzinfo=UTC)))
    event = load_event("apigateway/post_people_enrich.json")
    plan = json.loads(event["requestContext"]["authorizer"]["plan"])
    event["requestContext"]["authorizer"]["plan"] = json.dumps(plan | {"monthly_cap": "0.30"})
    reply = handler(event, lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 402
    assert body["type"] == "urn:cascade:problem:spend-cap-exceeded"
    assert "0.30" in body["detail"]
    assert "0.20 USD is already billed in 2026-12" in body["detail"]
    assert f"cascade keys update {KEY_ID} --monthly-cap AMOUNT" in body["detail"]
    assert runner.inputs == []


def test_enrich_within_cap_runs(
    services: ApiServices, ledger: LedgerRepository, runner: FakeRunner, lambda_context: LambdaContext
) -> None:
    ledger.charge(_line(KEY_ID, "req_earlier", datetime(2026, 12, 1, 8, tzinfo=UTC)))
    # Last month's spend does not count against this month's cap.
    ledger.charge(_line(KEY_ID, "req_november", datetime(2026, 11, 30, 23, tzinfo=UTC)))
    event = load_event("apigateway/post_people_enrich.json")
    plan = json.loads(event["requestContext"]["authorizer"]["plan"])
    event["requestContext"]["authorizer"]["plan"] = json.dumps(plan | {"monthly_cap": "0.40"})
    reply = handler(event, lambda_context)
    assert reply["statusCode"] == 200
    assert len(runner.inputs) == 1
