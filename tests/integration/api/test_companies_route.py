"""``POST /v1/companies/enrich`` through the API Lambda, with the sandbox registries on 127.0.0.1 and a moto cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from pydantic import HttpUrl

from cascade.api.company_services import install_company_facts
from cascade.handlers.api import handler
from cascade.registries.models import Registry
from cascade.registries.pacing import PaceLimit
from cascade.registries.service import CompanyEnricher, build_company_enricher
from cascade.settings import Settings
from cascade.storage.dynamo import create_tables
from infra.sandbox.app import registry_apis
from infra.sandbox.directory import default_directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox, running
from tests.conftest import LambdaContext, load_event
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The sandbox enforces the SEC and Companies House rate limits itself, so the local pacer is set out of the way.
FAST = PaceLimit(capacity=1000, refill_per_second=1000.0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running(registry_apis(default_directory())) as started:
        yield started


@pytest.fixture
def dynamodb(aws: None) -> DynamoDBClient:
    client = boto3.client("dynamodb", region_name=MOTO_REGION)
    create_tables(client, TEST_TABLE_NAMES)
    return client


@pytest.fixture
def enricher(sandbox: RunningSandbox, dynamodb: DynamoDBClient) -> Iterator[CompanyEnricher]:
    sandbox.state.faults.reset()
    settings = Settings(
        sandbox_url=HttpUrl(sandbox.url),
        provider_credentials_json=json.dumps(SANDBOX_CREDENTIALS),
        companies_table=TEST_TABLE_NAMES["companies"],
        provider_connect_timeout_seconds=1.0,
        provider_read_timeout_seconds=3.0,
    )
    built = build_company_enricher(settings, dynamodb=lambda: dynamodb, pace_limits=dict.fromkeys(Registry, FAST))
    install_company_facts(built)
    yield built
    install_company_facts(None)
    built.close()
    sandbox.state.faults.reset()


def _post(body: dict[str, Any]) -> dict[str, Any]:
    event = load_event("apigateway/post_companies_enrich.json")
    event["body"] = json.dumps(body)
    return event


def _fail_every_call(sandbox: RunningSandbox, *registries: str) -> None:
    # A UK number is looked up in Companies House and, through its registration, in GLEIF: both must fail.
    for registry in registries:
        sandbox.state.faults.configure(registry, FaultPlan(rates={FaultKind.UNAVAILABLE: 1.0}))


def _header(reply: dict[str, Any], name: str) -> str | None:
    values = reply["multiValueHeaders"].get(name)
    return values[0] if values else None


def test_sample_event_resolves_tesco(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(load_event("apigateway/post_companies_enrich.json"), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert _header(reply, "Content-Type") == "application/json"
    assert body["status"] == "resolved"
    company = body["company"]
    assert company["identifiers"]["uk_company_number"] == "00445790"
    assert company["legal_name"]["value"] == "TESCO PLC"
    assert company["legal_name"]["source"] == "companies_house"
    assert company["legal_name"]["fetched_at"]
    assert company["status"]["value"] == "active"


def test_uk_number_canonical_form(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"identifiers": {"uk_company_number": " 445790 "}}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert body["company"]["identifiers"]["uk_company_number"] == "00445790"
    assert body["company"]["identifiers"]["lei"] == "2138002P5RNKC5W2JZ46"


def test_name_and_country_resolve(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"name": "TESCO P.L.C.", "country": "gb"}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert body["status"] == "resolved"
    assert body["company"]["legal_name"]["value"] == "TESCO PLC"
    assert body["company"]["identifiers"]["uk_company_number"] == "00445790"
    codes = body["company"]["industry_codes"]["value"]
    assert codes
    assert all(code["description"] or code["note"] for code in codes)


def test_ambiguous_name_lists_candidates(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"name": "Amazon"}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert body["status"] == "ambiguous"
    assert body["company"] is None
    names = [candidate["legal_name"] for candidate in body["candidates"]]
    assert "Amazon Digital UK Limited" in names
    assert len(names) >= 2
    scores = [candidate["score"] for candidate in body["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_unknown_company_not_found(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"identifiers": {"uk_company_number": "12345678"}}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert body["status"] == "not_found"
    assert body["company"] is None


def test_bad_lei_check_digits_422(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"identifiers": {"lei": "2138002P5RNKC5W2JZ47"}}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert _header(reply, "Content-Type") == "application/problem+json"
    assert body["type"] == "urn:cascade:problem:invalid-input"
    assert [error["field"] for error in body["errors"]] == ["identifiers.lei"]
    assert "check digits" in body["errors"][0]["message"]


def test_empty_query_422(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"country": "GB"}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert "too little to identify a company" in body["errors"][0]["message"]


def test_unknown_field_422(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    reply = handler(_post({"company_name": "Tesco"}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert "company_name" in [error["field"] for error in body["errors"]]


def test_registry_outage_503(enricher: CompanyEnricher, sandbox: RunningSandbox, lambda_context: LambdaContext) -> None:
    _fail_every_call(sandbox, "companies_house", "gleif")
    reply = handler(_post({"identifiers": {"uk_company_number": "00445790"}}), lambda_context)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 503
    assert _header(reply, "Content-Type") == "application/problem+json"
    assert body["type"] == "urn:cascade:problem:registries-unavailable"
    assert "companies_house" in body["detail"]
    assert "nothing was charged" in body["detail"]


def test_registry_throttled_503_retry_after(
    enricher: CompanyEnricher, sandbox: RunningSandbox, lambda_context: LambdaContext
) -> None:
    # Companies House is asked first, so its error is the one reported.
    sandbox.state.faults.configure("companies_house", FaultPlan(retry_after_seconds=60))
    sandbox.state.faults.force("companies_house", FaultKind.THROTTLED)
    _fail_every_call(sandbox, "gleif")
    reply = handler(_post({"identifiers": {"uk_company_number": "00445790"}}), lambda_context)
    assert reply["statusCode"] == 503
    assert _header(reply, "Retry-After") == "60"


def test_outage_answer_not_cached(
    enricher: CompanyEnricher, sandbox: RunningSandbox, lambda_context: LambdaContext
) -> None:
    _fail_every_call(sandbox, "companies_house", "gleif")
    assert handler(_post({"identifiers": {"uk_company_number": "00445790"}}), lambda_context)["statusCode"] == 503
    sandbox.state.faults.reset()
    reply = handler(_post({"identifiers": {"uk_company_number": "00445790"}}), lambda_context)
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"])["status"] == "resolved"


def test_lookup_writes_no_ledger_line(
    enricher: CompanyEnricher, dynamodb: DynamoDBClient, lambda_context: LambdaContext
) -> None:
    reply = handler(_post({"identifiers": {"uk_company_number": "00445790"}}), lambda_context)
    assert reply["statusCode"] == 200
    assert dynamodb.scan(TableName=TEST_TABLE_NAMES["ledger"])["Items"] == []
    assert dynamodb.scan(TableName=TEST_TABLE_NAMES["usage"])["Items"] == []
    cached = dynamodb.scan(TableName=TEST_TABLE_NAMES["companies"])["Items"]
    assert {"S": "companies_house#00445790"} in [item["pk"] for item in cached]


def test_missing_authorizer_context_401(enricher: CompanyEnricher, lambda_context: LambdaContext) -> None:
    event = _post({"identifiers": {"uk_company_number": "00445790"}})
    event["requestContext"]["authorizer"] = None
    reply = handler(event, lambda_context)
    assert reply["statusCode"] == 401
