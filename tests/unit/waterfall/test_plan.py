from __future__ import annotations

from decimal import Decimal

import pytest

from cascade.domain.errors import InvalidInputError
from cascade.domain.models import AttemptOutcome, EmailVerdict
from cascade.domain.plans import KeyPlan
from cascade.providers.registry import DEFAULT_ORDER
from cascade.storage.freshness import FreshValue, contact_identity
from cascade.storage.suppressions import suppression_identities
from cascade.waterfall.plan import plan_waterfall, split_by_budget
from cascade.waterfall.state import FoundEmail, ValueSource
from tests.unit.waterfall.fakes import (
    EMAIL,
    PHONE,
    RECEIVED_AT,
    FakeFinder,
    FakeRegistry,
    MemoryFreshness,
    MemorySuppressions,
    dependencies,
    fresh,
    start,
)

EVERY_FINDER = tuple(DEFAULT_ORDER)


def _registry(names: tuple[str, ...] = EVERY_FINDER) -> FakeRegistry:
    return FakeRegistry([FakeFinder(name) for name in names])


def test_plan_default_order() -> None:
    state = plan_waterfall(start(), dependencies(_registry()))
    assert state.plan.remaining == list(DEFAULT_ORDER)
    assert state.plan.next == "hunter"
    assert state.done is False
    assert state.attempts == []
    assert state.plan.fields == [EMAIL]


def test_plan_key_default_order() -> None:
    plan = KeyPlan(default_order=["apollo", "hunter"])
    state = plan_waterfall(start(plan=plan), dependencies(_registry()))
    assert state.plan.remaining == ["apollo", "hunter"]
    assert state.plan.next == "apollo"


def test_plan_request_order_overrides_key() -> None:
    plan = KeyPlan(default_order=["apollo", "hunter"])
    state = plan_waterfall(start(plan=plan, waterfall={"order": ["lusha", "prospeo"]}), dependencies(_registry()))
    assert state.plan.remaining == ["lusha", "prospeo"]


def test_plan_order_repeated_name_kept_once() -> None:
    state = plan_waterfall(start(waterfall={"order": ["lusha", "hunter", "lusha"]}), dependencies(_registry()))
    assert state.plan.remaining == ["lusha", "hunter"]


def test_plan_skip_removes_providers() -> None:
    state = plan_waterfall(start(waterfall={"skip": ["hunter", "pattern"]}), dependencies(_registry()))
    assert "hunter" not in state.plan.remaining
    assert "pattern" not in state.plan.remaining
    assert state.plan.next == "prospeo"


@pytest.mark.parametrize(
    ("waterfall", "field"),
    [
        ({"order": ["hunter", "huntr"]}, "waterfall.order"),
        ({"skip": ["apolo"]}, "waterfall.skip"),
        ({"order": ["zerobounce"]}, "waterfall.order"),
    ],
)
def test_plan_unknown_provider_rejected(waterfall: dict[str, list[str]], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_waterfall(start(waterfall=waterfall), dependencies(_registry()))
    errors = caught.value.errors
    assert [error.field for error in errors] == [field]
    unknown = next(name for name in [*waterfall.get("order", []), *waterfall.get("skip", [])] if name != "hunter")
    assert repr(unknown) in errors[0].message
    assert "hunter, prospeo" in errors[0].message


def test_plan_unknown_in_order_and_skip_both_named() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_waterfall(start(waterfall={"order": ["nobody"], "skip": ["noone"]}), dependencies(_registry()))
    assert [error.field for error in caught.value.errors] == ["waterfall.order", "waterfall.skip"]


def test_plan_key_order_unknown_provider_raises() -> None:
    with pytest.raises(ValueError, match="default_order names unknown providers 'clearbit'"):
        plan_waterfall(start(plan=KeyPlan(default_order=["clearbit"])), dependencies(_registry()))


def test_plan_invalid_person_raises() -> None:
    with pytest.raises(InvalidInputError):
        plan_waterfall(start(company_domain="gmail"), dependencies(_registry()))


def test_plan_phone_only_drops_email_only_providers() -> None:
    state = plan_waterfall(start(("phone",)), dependencies(_registry()))
    assert state.plan.remaining == ["prospeo", "leadmagic", "findymail", "peopledatalabs", "lusha"]
    assert state.plan.fields == [PHONE]


def test_plan_no_credentials_recorded_as_skipped() -> None:
    state = plan_waterfall(start(), dependencies(_registry(("prospeo", "lusha"))))
    assert state.plan.remaining == ["prospeo", "lusha"]
    skipped = [attempt.provider for attempt in state.attempts]
    assert skipped == ["hunter", "apollo", "leadmagic", "findymail", "peopledatalabs", "pattern"]
    assert all(attempt.outcome is AttemptOutcome.SKIPPED_NO_CREDENTIALS for attempt in state.attempts)
    assert all(attempt.latency_ms == 0 for attempt in state.attempts)


def test_plan_no_provider_configured_is_done() -> None:
    state = plan_waterfall(start(), dependencies(_registry(())))
    assert state.done is True
    assert state.plan.next is None
    assert len(state.attempts) == len(DEFAULT_ORDER)


def test_plan_suppressed_contact_is_done() -> None:
    person_identities = suppression_identities(plan_waterfall(start(), dependencies(_registry())).person)
    suppressions = MemorySuppressions([person_identities[0]])
    freshness = MemoryFreshness()
    state = plan_waterfall(start(), dependencies(_registry(), suppressions=suppressions, freshness=freshness))
    assert state.suppressed is True
    assert state.done is True
    assert state.plan.next is None
    assert state.plan.remaining == []
    assert state.attempts == []


def _seeded_freshness(*values: FreshValue) -> MemoryFreshness:
    freshness = MemoryFreshness()
    identity = contact_identity(plan_waterfall(start(), dependencies(_registry())).person)
    assert identity is not None
    for value in values:
        freshness.put("key_test", identity, value, now=RECEIVED_AT)
    return freshness


def test_plan_fresh_email_found_and_done() -> None:
    freshness = _seeded_freshness(fresh(EMAIL, "ada.quill@example.com"))
    state = plan_waterfall(start(), dependencies(_registry(), freshness=freshness))
    assert state.done is True
    assert isinstance(state.found.email, FoundEmail)
    assert state.found.email.source is ValueSource.FRESHNESS
    assert state.found.email.address == "ada.quill@example.com"
    assert state.found.email.provider == "hunter"
    assert state.attempts == []


def test_plan_fresh_email_leaves_phone_to_search() -> None:
    freshness = _seeded_freshness(fresh(EMAIL, "ada.quill@example.com"))
    state = plan_waterfall(start(("email", "phone")), dependencies(_registry(), freshness=freshness))
    assert state.plan.fields == [PHONE]
    assert state.plan.next == "prospeo"
    assert "hunter" not in state.plan.remaining


def test_plan_fresh_value_too_old_ignored() -> None:
    freshness = _seeded_freshness(fresh(EMAIL, "ada.quill@example.com", age_days=10))
    state = plan_waterfall(start(max_age_days=7), dependencies(_registry(), freshness=freshness))
    assert state.found.email is None
    assert state.plan.next == "hunter"


def test_plan_fresh_catch_all_needs_opt_in() -> None:
    freshness = _seeded_freshness(fresh(EMAIL, "ada.quill@example.com", verdict="catch_all"))
    without = plan_waterfall(start(), dependencies(_registry(), freshness=freshness))
    assert without.found.email is None
    assert without.done is False
    opted = plan_waterfall(start(waterfall={"accept_catch_all": True}), dependencies(_registry(), freshness=freshness))
    assert opted.found.email is not None
    assert opted.found.email.verdict is EmailVerdict.CATCH_ALL
    assert opted.done is True


def test_plan_spend_limit_drops_unaffordable_field() -> None:
    state = plan_waterfall(start(("email", "phone"), waterfall={"max_amount": "0.40"}), dependencies(_registry()))
    assert state.plan.fields == [EMAIL]
    assert state.plan.unaffordable == [PHONE]
    assert state.plan.remaining == list(DEFAULT_ORDER)


def test_plan_spend_limit_nothing_affordable_is_done() -> None:
    state = plan_waterfall(start(waterfall={"max_amount": "0.10"}), dependencies(_registry(("hunter", "apollo"))))
    assert state.done is True
    assert state.plan.fields == []
    assert state.plan.unaffordable == [EMAIL]
    budget = [attempt.provider for attempt in state.attempts if attempt.outcome is AttemptOutcome.SKIPPED_BUDGET]
    assert budget == ["hunter", "apollo"]


def test_plan_spend_limit_ignores_fresh_fields() -> None:
    freshness = _seeded_freshness(fresh(EMAIL, "ada.quill@example.com"))
    start_input = start(("email", "phone"), waterfall={"max_amount": "0.30"})
    state = plan_waterfall(start_input, dependencies(_registry(), freshness=freshness))
    assert state.plan.fields == [PHONE]
    assert state.plan.unaffordable == []


@pytest.mark.parametrize(
    ("max_amount", "affordable", "unaffordable"),
    [
        (None, [EMAIL, PHONE], []),
        (Decimal("0.50"), [EMAIL, PHONE], []),
        (Decimal("0.49"), [EMAIL], [PHONE]),
        (Decimal("0.30"), [EMAIL], [PHONE]),
        (Decimal("0.19"), [], [EMAIL, PHONE]),
        (Decimal("0.00"), [], [EMAIL, PHONE]),
    ],
)
def test_split_by_budget_table(
    max_amount: Decimal | None, affordable: list[object], unaffordable: list[object]
) -> None:
    assert split_by_budget([EMAIL, PHONE], max_amount, KeyPlan()) == (affordable, unaffordable)


def test_split_by_budget_uses_key_prices() -> None:
    plan = KeyPlan(email_price="0.50", phone_price="0.10")
    assert split_by_budget([EMAIL, PHONE], Decimal("0.20"), plan) == ([PHONE], [EMAIL])


@pytest.mark.parametrize(("sync", "seconds"), [(True, 25), (False, 240)])
def test_plan_deadline(sync: bool, seconds: int) -> None:
    state = plan_waterfall(start(sync=sync), dependencies(_registry()))
    assert state.plan.deadline_ms == int(RECEIVED_AT.timestamp() * 1000) + seconds * 1000


def test_plan_keeps_ascii_name_parts() -> None:
    state = plan_waterfall(start(first_name="Zoë", last_name="Ørsted"), dependencies(_registry()))
    document = state.to_json()
    assert document["person"]["ascii_first"] == "zoe"
    assert document["person"]["ascii_last"] == "orsted"


def test_plan_company_summary() -> None:
    state = plan_waterfall(start(company_name="Example Holdings Ltd"), dependencies(_registry()))
    assert state.company is not None
    assert state.company.domain == "example.com"
    assert state.company.legal_form is not None
