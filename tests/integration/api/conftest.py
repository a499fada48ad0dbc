"""The API Lambda in-process over moto tables, with a fake waterfall runner in place of Step Functions.

The runner is an injected collaborator of the API, so these tests stand it in with ``FakeRunner``,
which returns what the state machine's Settle step returns. Runs through the real state machine are
tested with the waterfall.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from cascade.api.services import ApiServices, install_services
from cascade.domain.billing import match_id
from cascade.domain.models import (
    AttemptOutcome,
    Billing,
    BillingLine,
    EmailResult,
    EmailVerdict,
    EnrichmentResult,
    EnrichmentStatus,
    ProviderAttempt,
    RequestedField,
)
from cascade.normalise.person import normalise_person_request
from cascade.settings import Settings
from cascade.storage.dynamo import create_tables
from cascade.storage.enrichments import EnrichmentRepository
from cascade.storage.idempotency import IdempotencyStore
from cascade.storage.ledger import LedgerRepository
from cascade.storage.usage import UsageRepository
from cascade.waterfall.errors import WaterfallFailedError
from cascade.waterfall.state import SettleOutput, WaterfallInput
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = MOTO_REGION
TABLE_NAMES = TEST_TABLE_NAMES
NOW = datetime(2026, 12, 4, 15, 30, 12, tzinfo=UTC)
SHARDS = 4


class FakeRunner:
    """A ``WaterfallRunner`` that returns a Settle output: a verified, billed email, or an outage.

    ``outcome`` is ``"matched"``, ``"unavailable"`` (every provider failed) or ``"failed"`` (the
    execution failed). Every execution input and name is recorded.
    """

    def __init__(self) -> None:
        self.outcome = "matched"
        self.inputs: list[dict[str, Any]] = []
        self.names: list[str] = []

    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        self.inputs.append(state)
        self.names.append(name)
        execution = WaterfallInput.model_validate(state)
        if self.outcome == "failed":
            raise WaterfallFailedError(
                f"arn:aws:states:{REGION}:123456789012:execution:waterfall:{name}", "FAILED", "States.Runtime", "boom"
            )
        unavailable = self.outcome == "unavailable"
        result = _unavailable_result(execution) if unavailable else _matched_result(execution)
        return SettleOutput(result=result, providers_unavailable=unavailable).model_dump(mode="json")


def _matched_result(execution: WaterfallInput) -> EnrichmentResult:
    context = execution.context
    price = context.plan.email_price
    line = BillingLine(
        match_id=match_id(context.key_id, context.reference, RequestedField.EMAIL),
        field=RequestedField.EMAIL,
        amount=price,
        provider="hunter",
        verdict="valid",
    )
    return EnrichmentResult(
        id=context.enrichment_id,
        status=EnrichmentStatus.MATCHED,
        person=normalise_person_request(execution.request).person,
        email=EmailResult(
            address="ada.quill@example.com",
            verdict=EmailVerdict.VALID,
            verified_at=context.received_at,
            provider="hunter",
            confidence=0.94,
        ),
        attempts=[ProviderAttempt(provider="hunter", outcome=AttemptOutcome.FOUND, latency_ms=180)],
        billing=Billing(billed=True, amount=price, lines=[line]),
        created_at=context.received_at,
    )


def _unavailable_result(execution: WaterfallInput) -> EnrichmentResult:
    context = execution.context
    return EnrichmentResult(
        id=context.enrichment_id,
        status=EnrichmentStatus.NOT_FOUND,
        person=normalise_person_request(execution.request).person,
        attempts=[
            ProviderAttempt(provider="hunter", outcome=AttemptOutcome.TIMEOUT, latency_ms=8000),
            ProviderAttempt(provider="apollo", outcome=AttemptOutcome.TRANSIENT_ERROR, latency_ms=40),
        ],
        created_at=context.received_at,
    )


@pytest.fixture
def dynamodb(aws: None) -> DynamoDBClient:
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client, TABLE_NAMES)
    return client


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def idempotency(dynamodb: DynamoDBClient) -> IdempotencyStore:
    return IdempotencyStore(dynamodb, table=TABLE_NAMES["idempotency"])


@pytest.fixture
def enrichments(dynamodb: DynamoDBClient) -> EnrichmentRepository:
    return EnrichmentRepository(dynamodb, table=TABLE_NAMES["enrichments"], clock=lambda: NOW)


@pytest.fixture
def ledger(dynamodb: DynamoDBClient) -> LedgerRepository:
    return LedgerRepository(
        dynamodb, ledger_table=TABLE_NAMES["ledger"], usage_table=TABLE_NAMES["usage"], shards=SHARDS
    )


@pytest.fixture
def services(
    dynamodb: DynamoDBClient, runner: FakeRunner, idempotency: IdempotencyStore, enrichments: EnrichmentRepository
) -> Iterator[ApiServices]:
    services = ApiServices(
        settings=Settings(),
        runner=runner,
        enrichments=enrichments,
        idempotency=idempotency,
        usage=UsageRepository(dynamodb, usage_table=TABLE_NAMES["usage"]),
        clock=lambda: NOW,
    )
    install_services(services)
    yield services
    install_services(None)
