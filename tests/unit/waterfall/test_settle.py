"""Settlement logic over in-memory stores; the ledger's exactly-once behaviour is tested against moto."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, EnrichmentStatus, ProviderAttempt
from cascade.domain.plans import KeyPlan
from cascade.providers.base import ProviderResult
from cascade.storage.suppressions import suppression_identities
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.settle import providers_unavailable, settle
from cascade.waterfall.state import WaterfallState
from cascade.waterfall.step import run_step
from tests.unit.waterfall.fakes import (
    EMAIL,
    PHONE,
    FakeFinder,
    FakeRegistry,
    FakeVerifier,
    MemoryFreshness,
    MemoryLedger,
    MemorySuppressions,
    dependencies,
    email_result,
    outcome,
    phone_result,
    start,
)


def _finished(
    scripts: dict[str, list[ProviderResult]],
    *,
    fields: Sequence[str] = ("email",),
    plan: KeyPlan | None = None,
    ledger: MemoryLedger | None = None,
    freshness: MemoryFreshness | None = None,
    suppressions: MemorySuppressions | None = None,
    **request_changes: Any,
) -> tuple[WaterfallState, WaterfallDependencies]:
    finders = [FakeFinder(name, results) for name, results in scripts.items()]
    registry = FakeRegistry(finders, verifiers=[FakeVerifier(EmailVerdict.CATCH_ALL)])
    deps = dependencies(registry, ledger=ledger, freshness=freshness, suppressions=suppressions)
    waterfall = {"order": list(scripts), **request_changes.pop("waterfall", {})}
    state = plan_waterfall(start(fields, plan=plan, waterfall=waterfall, **request_changes), deps)
    while not state.done:
        assert state.plan.next is not None
        state = run_step(state.plan.next, state, deps)
    return state, deps


def test_settle_matched_two_fields_billed() -> None:
    ledger = MemoryLedger()
    state, deps = _finished(
        {"hunter": [email_result()], "lusha": [phone_result()]}, fields=("email", "phone"), ledger=ledger
    )
    output = settle(state, deps)
    result = output.result
    assert result.status is EnrichmentStatus.MATCHED
    assert output.providers_unavailable is False
    assert result.billing.billed is True
    assert result.billing.amount == Decimal("0.50")
    assert [(line.field, line.amount, line.provider) for line in result.billing.lines] == [
        (EMAIL, Decimal("0.20"), "hunter"),
        (PHONE, Decimal("0.30"), "lusha"),
    ]
    assert len(ledger.lines) == 2
    assert result.email is not None
    assert result.email.address == "ada.quill@example.com"
    assert result.phone is not None
    assert result.phone.e164 == "+442079460123"
    assert result.id == "enr_test"


def test_settle_billing_json_uses_money_strings() -> None:
    state, deps = _finished({"hunter": [email_result()]})
    document = settle(state, deps).model_dump(mode="json")
    assert document["result"]["billing"]["amount"] == "0.20"
    assert document["result"]["billing"]["lines"][0]["amount"] == "0.20"
    assert document["result"]["attempts"] == [
        {"provider": "hunter", "outcome": "found", "latency_ms": 0, "detail": "matched"}
    ]
    assert "ascii_first" not in document["result"]["person"]


def test_settle_key_prices_used() -> None:
    plan = KeyPlan(email_price="0.15")
    state, deps = _finished({"hunter": [email_result()]}, plan=plan)
    assert settle(state, deps).result.billing.amount == Decimal("0.15")


def test_settle_partial() -> None:
    state, deps = _finished({"hunter": [email_result()], "lusha": []}, fields=("email", "phone"))
    result = settle(state, deps).result
    assert result.status is EnrichmentStatus.PARTIAL
    assert [line.field for line in result.billing.lines] == [EMAIL]


def test_settle_not_found() -> None:
    state, deps = _finished({"hunter": [], "apollo": []})
    output = settle(state, deps)
    assert output.result.status is EnrichmentStatus.NOT_FOUND
    assert output.providers_unavailable is False
    assert output.result.billing.billed is False
    assert output.result.billing.amount == Decimal("0.00")


def test_settle_catch_all_unbilled_without_opt_in() -> None:
    ledger = MemoryLedger()
    state, deps = _finished({"hunter": [email_result(verdict=EmailVerdict.CATCH_ALL)]}, ledger=ledger)
    result = settle(state, deps).result
    assert result.email is not None
    assert result.email.verdict is EmailVerdict.CATCH_ALL
    assert result.status is EnrichmentStatus.NOT_FOUND
    assert result.billing.billed is False
    assert ledger.lines == {}


def test_settle_catch_all_billed_with_key_opt_in() -> None:
    state, deps = _finished(
        {"hunter": [email_result(verdict=EmailVerdict.CATCH_ALL)]}, plan=KeyPlan(accept_catch_all=True)
    )
    result = settle(state, deps).result
    assert result.status is EnrichmentStatus.MATCHED
    assert [line.verdict for line in result.billing.lines] == ["catch_all"]


def test_settle_stores_billed_values_for_later() -> None:
    freshness = MemoryFreshness()
    state, deps = _finished({"hunter": [email_result()]}, freshness=freshness)
    settle(state, deps)
    stored = list(freshness.values.values())
    assert [(value.field, value.value, value.provider) for value in stored] == [
        (EMAIL, "ada.quill@example.com", "hunter")
    ]
    assert stored[0].match_id is not None


def test_settle_fresh_value_unbilled() -> None:
    freshness = MemoryFreshness()
    first, deps = _finished({"hunter": [email_result()]}, freshness=freshness)
    settle(first, deps)
    ledger = MemoryLedger()
    again, again_deps = _finished({"hunter": [email_result()]}, freshness=freshness, ledger=ledger)
    result = settle(again, again_deps).result
    assert again.attempts == []
    assert result.status is EnrichmentStatus.MATCHED
    assert result.email is not None
    assert result.email.provider == "hunter"
    assert result.billing.billed is False
    assert ledger.lines == {}


def test_settle_suppressed() -> None:
    probe, _ = _finished({"hunter": []})
    suppressions = MemorySuppressions(suppression_identities(probe.person))
    state, deps = _finished({"hunter": [email_result()]}, suppressions=suppressions)
    result = settle(state, deps).result
    assert result.status is EnrichmentStatus.SUPPRESSED
    assert result.email is None
    assert result.billing.billed is False


def test_settle_suppressed_email_not_returned() -> None:
    probe, _ = _finished({"hunter": []})
    email_only = set(suppression_identities(probe.person, email="ada.quill@example.com")) - set(
        suppression_identities(probe.person)
    )
    ledger = MemoryLedger()
    state, deps = _finished({"hunter": [email_result()]}, suppressions=MemorySuppressions(email_only), ledger=ledger)
    result = settle(state, deps).result
    assert result.status is EnrichmentStatus.SUPPRESSED
    assert result.email is None
    assert ledger.lines == {}


def test_settle_all_failed_is_unavailable() -> None:
    state, deps = _finished(
        {"hunter": [outcome(AttemptOutcome.AUTH_ERROR)], "apollo": [outcome(AttemptOutcome.QUOTA_EXHAUSTED)]}
    )
    output = settle(state, deps)
    assert output.providers_unavailable is True
    assert output.result.status is EnrichmentStatus.NOT_FOUND
    assert output.result.billing.billed is False


def _attempts(*outcomes: AttemptOutcome) -> list[ProviderAttempt]:
    return [ProviderAttempt(provider="hunter", outcome=item, latency_ms=0) for item in outcomes]


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ((AttemptOutcome.TIMEOUT, AttemptOutcome.THROTTLED, AttemptOutcome.TRANSIENT_ERROR), True),
        ((AttemptOutcome.SKIPPED_NO_CREDENTIALS, AttemptOutcome.TIMEOUT), True),
        ((AttemptOutcome.TIMEOUT, AttemptOutcome.SKIPPED_DEADLINE), True),
        ((AttemptOutcome.SKIPPED_NO_CREDENTIALS,), True),
        ((AttemptOutcome.TIMEOUT, AttemptOutcome.NOT_FOUND), False),
        ((AttemptOutcome.FOUND,), False),
        ((AttemptOutcome.SKIPPED_BUDGET,), False),
        ((), False),
    ],
)
def test_providers_unavailable_table(outcomes: tuple[AttemptOutcome, ...], expected: bool) -> None:
    state, _ = _finished({"hunter": []})
    state = state.model_copy(update={"attempts": _attempts(*outcomes)})
    assert providers_unavailable(state) is expected


def test_providers_unavailable_false_when_found() -> None:
    state, _ = _finished({"hunter": [email_result()]})
    state = state.model_copy(update={"attempts": _attempts(AttemptOutcome.TIMEOUT)})
    assert providers_unavailable(state) is False
