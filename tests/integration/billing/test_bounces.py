"""Bounce reports re-verified through the provider sandbox's verifiers, over moto tables."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from cascade.billing.bounces import BounceDecision, BounceReports
from cascade.billing.errors import MatchNotFoundError
from cascade.domain.billing import LedgerLine, refund_line_id
from cascade.domain.models import (
    EmailResult,
    EmailVerdict,
    EnrichmentResult,
    EnrichmentStatus,
    PersonEnrichmentRequest,
    RequestedField,
)
from cascade.normalise.person import normalise_person_request
from cascade.providers.registry import ProviderRegistry
from cascade.storage.billing import BillingItems
from cascade.storage.enrichments import EnrichmentRepository
from cascade.storage.freshness import FreshnessStore, FreshValue, contact_identity
from cascade.storage.ledger import LedgerRepository
from cascade.storage.usage import UsageRepository
from cascade.verification.email import EmailVerification, verify_email
from cascade.verification.mx import StaticMxResolver
from infra.sandbox.directory import SandboxPerson, default_directory
from infra.sandbox.server import RunningSandbox
from tests.integration.billing.conftest import KEY_ID, MONTH, OTHER_KEY_ID, TABLE_NAMES, charge, march

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = march(25, 12)


def _valid_person() -> SandboxPerson:
    return next(person for person in default_directory().people if person.email_status == "valid")


def _moved_person() -> SandboxPerson:
    return next(person for person in default_directory().people if person.stale_email and person.previous_company)


@dataclass
class Scenario:
    reports: BounceReports
    enrichments: EnrichmentRepository
    freshness: FreshnessStore
    ledger: LedgerRepository

    def bill(self, key_id: str, request_id: str, address: str, person: SandboxPerson) -> LedgerLine:
        """Store an enrichment with ``address`` and its fresh value, and charge its email."""
        enrichment_id = f"enr_{request_id.encode().hex()[:24]:0<24}"
        normalised = normalise_person_request(
            PersonEnrichmentRequest(
                first_name=person.first_name, last_name=person.last_name, company_domain=person.company.domain
            )
        ).person
        result = EnrichmentResult(
            id=enrichment_id,
            status=EnrichmentStatus.MATCHED,
            person=normalised,
            email=EmailResult(
                address=address, verdict=EmailVerdict.VALID, verified_at=march(2, 10), provider="hunter", confidence=0.9
            ),
        )
        self.enrichments.put(
            result, key_id=key_id, account_id="acct_1f2e3d4c5b6a7988", expires_at=NOW + timedelta(days=30)
        )
        identity = contact_identity(normalised)
        assert identity is not None
        self.freshness.put(
            key_id,
            identity,
            FreshValue(RequestedField.EMAIL, address, "valid", "hunter", march(2, 10)),
            now=march(2, 10),
        )
        line = charge(key_id, march(2, 10), request_id=request_id, enrichment_id=enrichment_id)
        self.ledger.charge(line)
        return line

    def fresh(self, key_id: str, person: SandboxPerson) -> FreshValue | None:
        normalised = normalise_person_request(
            PersonEnrichmentRequest(
                first_name=person.first_name, last_name=person.last_name, company_domain=person.company.domain
            )
        ).person
        identity = contact_identity(normalised)
        assert identity is not None
        return self.freshness.get(key_id, identity, RequestedField.EMAIL, max_age_days=30, now=NOW)


@pytest.fixture
def scenario(
    dynamodb: DynamoDBClient, ledger: LedgerRepository, items: BillingItems, sandbox_registry: ProviderRegistry
) -> Scenario:
    domains = {person.company.domain for person in (_valid_person(), _moved_person())}
    moved = _moved_person()
    assert moved.previous_company is not None
    domains.add(moved.previous_company.domain)
    resolver = StaticMxResolver({domain: [f"10 mx.{domain}"] for domain in domains})

    def verify(address: str) -> EmailVerification:
        return verify_email(address, mx_resolver=resolver, verifiers=sandbox_registry.verifiers())

    enrichments = EnrichmentRepository(dynamodb, table=TABLE_NAMES["enrichments"], clock=lambda: NOW)
    freshness = FreshnessStore(dynamodb, table=TABLE_NAMES["freshness"], retention_days=180)
    reports = BounceReports(
        ledger=ledger, results=enrichments, freshness=freshness, counters=items, verify=verify, clock=lambda: NOW
    )
    return Scenario(reports=reports, enrichments=enrichments, freshness=freshness, ledger=ledger)


def _verifier_calls(sandbox: RunningSandbox) -> int:
    return sum(count for name, count in sandbox.state.calls.items() if name.startswith(("zerobounce", "neverbounce")))


def test_bounce_invalid_address_refunded(
    scenario: Scenario, usage: UsageRepository, items: BillingItems, full_sandbox: RunningSandbox
) -> None:
    person = _moved_person()
    assert person.stale_email is not None
    line = scenario.bill(KEY_ID, "req_0001", person.stale_email, person)
    calls_before = _verifier_calls(full_sandbox)

    reply = scenario.reports.report(KEY_ID, line.match_id)

    assert reply.decision is BounceDecision.REFUNDED
    assert reply.verdict is EmailVerdict.INVALID
    assert reply.refunded_amount == Decimal("0.20")
    assert reply.refund_line_id == refund_line_id(line.match_id)
    assert _verifier_calls(full_sandbox) > calls_before
    refund = scenario.ledger.get(refund_line_id(line.match_id))
    assert refund is not None
    assert refund.amount_micros == -200_000
    assert usage.month_usage(KEY_ID, MONTH).amount_micros == 0
    assert scenario.fresh(KEY_ID, person) is None
    assert items.bounces_for_month(MONTH) == {"hunter": 1}


def test_bounce_repeated_refunds_once(scenario: Scenario, usage: UsageRepository, items: BillingItems) -> None:
    person = _moved_person()
    assert person.stale_email is not None
    line = scenario.bill(KEY_ID, "req_0001", person.stale_email, person)
    first = scenario.reports.report(KEY_ID, line.match_id)
    second = scenario.reports.report(KEY_ID, line.match_id)
    assert first.decision is BounceDecision.REFUNDED
    assert second.decision is BounceDecision.ALREADY_REFUNDED
    assert second.refunded_amount == Decimal("0.00")
    assert second.refund_line_id == refund_line_id(line.match_id)
    assert usage.month_usage(KEY_ID, MONTH).by_field[RequestedField.EMAIL].count == 0
    assert items.bounces_for_month(MONTH) == {"hunter": 1}


def test_bounce_concurrent_refunds_once(scenario: Scenario, usage: UsageRepository, items: BillingItems) -> None:
    person = _moved_person()
    assert person.stale_email is not None
    line = scenario.bill(KEY_ID, "req_0001", person.stale_email, person)
    with ThreadPoolExecutor(max_workers=5) as pool:
        replies = list(pool.map(lambda _: scenario.reports.report(KEY_ID, line.match_id), range(5)))
    decisions = sorted(reply.decision.value for reply in replies)
    assert decisions == ["already_refunded"] * 4 + ["refunded"]
    month = usage.month_usage(KEY_ID, MONTH)
    assert month.amount_micros == 0
    assert month.by_field[RequestedField.EMAIL].count == 0
    assert items.bounces_for_month(MONTH) == {"hunter": 1}


def test_bounce_valid_address_not_refunded(scenario: Scenario, usage: UsageRepository) -> None:
    person = _valid_person()
    line = scenario.bill(KEY_ID, "req_0002", person.email, person)
    reply = scenario.reports.report(KEY_ID, line.match_id)
    assert reply.decision is BounceDecision.NOT_REFUNDED
    assert reply.verdict is EmailVerdict.VALID
    assert "still verifies as valid" in reply.reason
    assert "the charge stands" in reply.reason
    assert scenario.ledger.get(refund_line_id(line.match_id)) is None
    assert usage.month_usage(KEY_ID, MONTH).amount_micros == 200_000
    assert scenario.fresh(KEY_ID, person) is not None


def test_bounce_other_key_not_found(scenario: Scenario) -> None:
    person = _moved_person()
    assert person.stale_email is not None
    line = scenario.bill(OTHER_KEY_ID, "req_0003", person.stale_email, person)
    with pytest.raises(MatchNotFoundError, match=line.match_id):
        scenario.reports.report(KEY_ID, line.match_id)
    assert scenario.ledger.get(refund_line_id(line.match_id)) is None


def test_bounce_phone_or_unknown_not_found(scenario: Scenario) -> None:
    phone = charge(KEY_ID, march(2, 10), field=RequestedField.PHONE, amount_micros=300_000, request_id="req_0004")
    scenario.ledger.charge(phone)
    for match in (phone.match_id, "mat_00000000000000000000000000000000", "not-a-match-id"):
        with pytest.raises(MatchNotFoundError):
            scenario.reports.report(KEY_ID, match)


def test_bounce_without_stored_result_kept(scenario: Scenario) -> None:
    line = charge(KEY_ID, march(2, 10), request_id="req_0005", enrichment_id="enr_ffffffffffffffffffffffff")
    scenario.ledger.charge(line)
    reply = scenario.reports.report(KEY_ID, line.match_id)
    assert reply.decision is BounceDecision.NOT_REFUNDED
    assert reply.verdict is None
    assert "no longer stored" in reply.reason
