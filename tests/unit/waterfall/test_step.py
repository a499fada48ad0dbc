from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from cascade.domain.models import AttemptOutcome, EmailVerdict, PhoneVerdict
from cascade.normalise.phones import LineType
from cascade.providers.base import EmailCandidate, ProviderResult
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.errors import ProviderThrottledError, ProviderTransientError
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.state import StepError, WaterfallState
from cascade.waterfall.step import record_failure, run_step
from tests.unit.waterfall.fakes import (
    EMAIL,
    PHONE,
    Clock,
    FakeFinder,
    FakePhoneValidator,
    FakeRegistry,
    FakeVerifier,
    dependencies,
    email_result,
    outcome,
    phone_result,
    start,
)

CATCH_ALL = EmailVerdict.CATCH_ALL


def _setup(
    finders: Sequence[FakeFinder],
    *,
    fields: Sequence[str] = ("email",),
    verifiers: Sequence[FakeVerifier] = (),
    phone_validator: FakePhoneValidator | None = None,
    clock: Clock | None = None,
    **request_changes: Any,
) -> tuple[WaterfallState, WaterfallDependencies]:
    registry = FakeRegistry(finders, verifiers=verifiers, phone_validator=phone_validator)
    deps = dependencies(registry, clock=clock)
    order = [finder.name for finder in finders]
    waterfall = {"order": order, **request_changes.pop("waterfall", {})}
    state = plan_waterfall(start(fields, waterfall=waterfall, **request_changes), deps)
    return state, deps


def _run(state: WaterfallState, deps: WaterfallDependencies) -> WaterfallState:
    """Step through the plan as the state machine does, ignoring waits; stop when done."""
    while not state.done:
        assert state.plan.next is not None
        state = run_step(state.plan.next, state, deps)
    return state


def test_step_found_at_first_provider() -> None:
    clock = Clock()
    hunter = FakeFinder("hunter", [email_result()], clock=clock, latency_seconds=0.25)
    state, deps = _setup([hunter, FakeFinder("apollo")], clock=clock)
    after = run_step("hunter", state, deps)
    assert after.done is True
    assert after.plan.next is None
    assert after.found.email is not None
    assert after.found.email.address == "ada.quill@example.com"
    assert after.found.email.verdict is EmailVerdict.VALID
    assert after.found.email.provider == "hunter"
    assert after.found.email.confidence == 0.9
    assert after.found.email.verified_at == clock.now
    assert after.is_verified(EMAIL)
    assert [(a.provider, a.outcome, a.latency_ms) for a in after.attempts] == [("hunter", AttemptOutcome.FOUND, 250)]
    assert hunter.calls == [frozenset({EMAIL})]


def test_step_does_not_change_its_input() -> None:
    state, deps = _setup([FakeFinder("hunter", [email_result()])])
    before = state.to_json()
    run_step("hunter", state, deps)
    assert state.to_json() == before


def test_step_not_found_then_found() -> None:
    apollo = FakeFinder("apollo", [email_result(confidence=0.7)])
    state, deps = _setup([FakeFinder("hunter"), apollo])
    first = run_step("hunter", state, deps)
    assert first.done is False
    assert first.plan.next == "apollo"
    assert first.plan.remaining == ["apollo"]
    assert first.attempts[0].outcome is AttemptOutcome.NOT_FOUND
    second = run_step("apollo", first, deps)
    assert second.done is True
    assert second.found.email is not None
    assert second.found.email.provider == "apollo"
    assert [a.outcome for a in second.attempts] == [AttemptOutcome.NOT_FOUND, AttemptOutcome.FOUND]


@pytest.mark.parametrize(
    "failure", [AttemptOutcome.AUTH_ERROR, AttemptOutcome.QUOTA_EXHAUSTED, AttemptOutcome.BAD_RESPONSE]
)
def test_step_permanent_failure_advances(failure: AttemptOutcome) -> None:
    state, deps = _setup([FakeFinder("hunter", [outcome(failure)]), FakeFinder("apollo")])
    after = run_step("hunter", state, deps)
    assert after.plan.next == "apollo"
    assert after.attempts[0].outcome is failure
    assert after.attempts[0].detail == f"scripted {failure.value}"


def test_step_last_provider_not_found_is_done() -> None:
    state, deps = _setup([FakeFinder("hunter")])
    after = run_step("hunter", state, deps)
    assert after.done is True
    assert after.found.email is None


def test_step_throttled_with_retry_after_waits_then_succeeds() -> None:
    hunter = FakeFinder("hunter", [outcome(AttemptOutcome.THROTTLED, retry_after=1.2), email_result()])
    state, deps = _setup([hunter, FakeFinder("apollo")])
    waiting = run_step("hunter", state, deps)
    assert waiting.wait_seconds == 2
    assert waiting.plan.next == "hunter"
    assert waiting.plan.remaining == ["hunter", "apollo"]
    assert waiting.plan.waits == {"hunter": 1}
    assert waiting.done is False
    assert waiting.attempts[0].outcome is AttemptOutcome.THROTTLED
    after = run_step("hunter", waiting, deps)
    assert after.wait_seconds == 0
    assert after.done is True
    assert after.found.email is not None
    assert [a.outcome for a in after.attempts] == [AttemptOutcome.THROTTLED, AttemptOutcome.FOUND]


def test_step_short_retry_after_waits_one_second() -> None:
    hunter = FakeFinder("hunter", [outcome(AttemptOutcome.THROTTLED, retry_after=0.1)])
    state, deps = _setup([hunter])
    assert run_step("hunter", state, deps).wait_seconds == 1


def test_step_throttled_without_retry_after_raises() -> None:
    state, deps = _setup([FakeFinder("hunter", [outcome(AttemptOutcome.THROTTLED)])])
    with pytest.raises(ProviderThrottledError, match="hunter is throttled and the vendor named no delay"):
        run_step("hunter", state, deps)


def test_step_throttled_third_time_raises() -> None:
    throttled = [outcome(AttemptOutcome.THROTTLED, retry_after=1) for _ in range(3)]
    state, deps = _setup([FakeFinder("hunter", throttled)])
    state = run_step("hunter", state, deps)
    state = run_step("hunter", state, deps)
    assert state.plan.waits == {"hunter": 2}
    with pytest.raises(ProviderThrottledError, match="already waited 2 times"):
        run_step("hunter", state, deps)


def test_step_throttled_delay_past_deadline_raises() -> None:
    state, deps = _setup([FakeFinder("hunter", [outcome(AttemptOutcome.THROTTLED, retry_after=30)])])
    with pytest.raises(ProviderThrottledError, match="does not fit before the deadline"):
        run_step("hunter", state, deps)


@pytest.mark.parametrize("failure", [AttemptOutcome.TRANSIENT_ERROR, AttemptOutcome.TIMEOUT])
def test_step_transient_raises(failure: AttemptOutcome) -> None:
    state, deps = _setup([FakeFinder("hunter", [outcome(failure)])])
    with pytest.raises(ProviderTransientError, match=f"hunter returned {failure.value}"):
        run_step("hunter", state, deps)


def test_step_deadline_skips_remaining() -> None:
    clock = Clock()
    hunter = FakeFinder("hunter", [email_result()])
    state, deps = _setup([hunter, FakeFinder("apollo"), FakeFinder("pattern")], clock=clock)
    clock.advance(20)  # 21 s after receipt: 4 s left, less than the 8 s read timeout
    after = run_step("hunter", state, deps)
    assert hunter.calls == []
    assert after.done is True
    assert [(a.provider, a.outcome) for a in after.attempts] == [
        ("hunter", AttemptOutcome.SKIPPED_DEADLINE),
        ("apollo", AttemptOutcome.SKIPPED_DEADLINE),
        ("pattern", AttemptOutcome.SKIPPED_DEADLINE),
    ]
    assert all(attempt.latency_ms == 0 for attempt in after.attempts)


def test_step_bulk_has_longer_deadline() -> None:
    clock = Clock()
    registry = FakeRegistry([FakeFinder("hunter", [email_result()])])
    deps = dependencies(registry, clock=clock)
    state = plan_waterfall(start(sync=False), deps)
    clock.advance(120)
    assert run_step("hunter", state, deps).found.email is not None


def test_step_catch_all_kept_search_continues() -> None:
    verifier = FakeVerifier(CATCH_ALL)
    hunter = FakeFinder("hunter", [email_result(verdict=CATCH_ALL, confidence=0.6)])
    apollo = FakeFinder("apollo", [email_result(address="ada@example.com")])
    state, deps = _setup([hunter, apollo], verifiers=[verifier])
    first = run_step("hunter", state, deps)
    assert first.found.email is not None
    assert first.found.email.verdict is CATCH_ALL
    assert not first.is_verified(EMAIL)
    assert first.done is False
    assert first.plan.next == "apollo"
    assert verifier.calls == ["ada.quill@example.com"]
    second = run_step("apollo", first, deps)
    assert second.found.email is not None
    assert second.found.email.address == "ada@example.com"
    assert second.found.email.verdict is EmailVerdict.VALID


def test_step_catch_all_beats_weaker_later() -> None:
    hunter = FakeFinder("hunter", [email_result(verdict=CATCH_ALL, confidence=0.6)])
    apollo = FakeFinder("apollo", [email_result(address="ada@example.com", verdict=CATCH_ALL, confidence=0.5)])
    state, deps = _setup([hunter, apollo], verifiers=[FakeVerifier(CATCH_ALL)])
    after = _run(state, deps)
    assert after.found.email is not None
    assert after.found.email.address == "ada.quill@example.com"
    assert after.found.email.verdict is CATCH_ALL


def test_step_catch_all_with_opt_in_verified() -> None:
    hunter = FakeFinder("hunter", [email_result(verdict=CATCH_ALL)])
    state, deps = _setup(
        [hunter, FakeFinder("apollo")], verifiers=[FakeVerifier(CATCH_ALL)], waterfall={"accept_catch_all": True}
    )
    after = run_step("hunter", state, deps)
    assert after.is_verified(EMAIL)
    assert after.done is True


def test_step_catch_all_never_upgraded_to_valid() -> None:
    hunter = FakeFinder("hunter", [email_result(verdict=CATCH_ALL)])
    state, deps = _setup([hunter], verifiers=[FakeVerifier(EmailVerdict.VALID)])
    after = run_step("hunter", state, deps)
    assert after.found.email is not None
    assert after.found.email.verdict is CATCH_ALL


def test_step_unknown_email_takes_verifier_verdict() -> None:
    hunter = FakeFinder("hunter", [email_result(verdict=EmailVerdict.UNKNOWN)])
    state, deps = _setup([hunter], verifiers=[FakeVerifier(EmailVerdict.VALID)])
    after = run_step("hunter", state, deps)
    assert after.found.email is not None
    assert after.found.email.verdict is EmailVerdict.VALID
    assert after.is_verified(EMAIL)


def test_step_unknown_email_no_verifier_kept() -> None:
    state, deps = _setup([FakeFinder("hunter", [email_result(verdict=EmailVerdict.UNKNOWN)])])
    after = run_step("hunter", state, deps)
    assert after.found.email is not None
    assert after.found.email.verdict is EmailVerdict.UNKNOWN
    assert not after.is_verified(EMAIL)


@pytest.mark.parametrize("vendor", [EmailVerdict.INVALID, EmailVerdict.DISPOSABLE])
def test_step_invalid_email_discarded_unverified(vendor: EmailVerdict) -> None:
    verifier = FakeVerifier(EmailVerdict.VALID)
    state, deps = _setup([FakeFinder("hunter", [email_result(verdict=vendor)])], verifiers=[verifier])
    after = run_step("hunter", state, deps)
    assert after.found.email is None
    assert verifier.calls == []
    assert after.attempts[0].outcome is AttemptOutcome.NOT_FOUND


def test_step_verifier_invalid_discards_email() -> None:
    hunter = FakeFinder("hunter", [email_result(verdict=EmailVerdict.UNKNOWN)])
    state, deps = _setup([hunter], verifiers=[FakeVerifier(EmailVerdict.INVALID)])
    after = run_step("hunter", state, deps)
    assert after.found.email is None
    assert after.attempts[0].outcome is AttemptOutcome.NOT_FOUND


def test_step_email_on_domain_without_mail_discarded() -> None:
    hunter = FakeFinder("hunter", [email_result(address="ada@nomail.example", verdict=EmailVerdict.UNKNOWN)])
    state, deps = _setup([hunter], verifiers=[FakeVerifier(EmailVerdict.VALID)])
    assert run_step("hunter", state, deps).found.email is None


def test_step_best_candidate_verified_first() -> None:
    candidates = (
        EmailCandidate("ada@example.com", EmailVerdict.UNKNOWN, None, 0.95),
        EmailCandidate("ada.quill@example.com", EmailVerdict.VALID, None, 0.5),
    )
    verifier = FakeVerifier(EmailVerdict.VALID)
    hunter = FakeFinder("hunter", [ProviderResult(AttemptOutcome.FOUND, emails=candidates)])
    state, deps = _setup([hunter], verifiers=[verifier])
    after = run_step("hunter", state, deps)
    assert after.found.email is not None
    assert after.found.email.address == "ada.quill@example.com"
    assert verifier.calls == []


def test_step_pattern_catch_all_not_verified_again() -> None:
    verifier = FakeVerifier(EmailVerdict.VALID)
    pattern = FakeFinder("pattern", [email_result(verdict=CATCH_ALL, confidence=0.3)])
    state, deps = _setup([pattern], verifiers=[verifier])
    after = run_step("pattern", state, deps)
    assert verifier.calls == []
    assert after.found.email is not None
    assert after.found.email.verdict is CATCH_ALL


def test_step_email_and_phone_from_different_providers() -> None:
    hunter = FakeFinder("hunter", [email_result()])
    apollo = FakeFinder("apollo")
    lusha = FakeFinder("lusha", [phone_result()])
    state, deps = _setup([hunter, apollo, lusha], fields=("email", "phone"))
    first = run_step("hunter", state, deps)
    assert first.is_verified(EMAIL)
    # apollo finds only emails, which is no longer missing.
    assert first.plan.next == "lusha"
    second = run_step("lusha", first, deps)
    assert second.done is True
    assert lusha.calls == [frozenset({PHONE})]
    assert apollo.calls == []
    assert second.found.phone is not None
    assert second.found.phone.e164 == "+442079460123"
    assert second.found.phone.provider == "lusha"
    assert second.found.phone.line_type is LineType.FIXED_LINE
    assert second.found.email is not None
    assert second.found.email.provider == "hunter"


def test_step_phone_validator_decides() -> None:
    validator = FakePhoneValidator(PhoneVerdict.VALID, LineType.MOBILE)
    state, deps = _setup([FakeFinder("lusha", [phone_result()])], fields=("phone",), phone_validator=validator)
    after = run_step("lusha", state, deps)
    assert validator.calls == ["+442079460123"]
    assert after.found.phone is not None
    assert after.found.phone.line_type is LineType.MOBILE
    assert after.is_verified(PHONE)


def test_step_phone_validator_invalid_discards() -> None:
    validator = FakePhoneValidator(PhoneVerdict.INVALID)
    state, deps = _setup([FakeFinder("lusha", [phone_result()])], fields=("phone",), phone_validator=validator)
    after = run_step("lusha", state, deps)
    assert after.found.phone is None
    assert after.attempts[0].outcome is AttemptOutcome.NOT_FOUND


def test_step_vendor_invalid_phone_discarded() -> None:
    result = phone_result(number="12345", verdict=PhoneVerdict.INVALID)
    state, deps = _setup([FakeFinder("lusha", [result])], fields=("phone",))
    assert run_step("lusha", state, deps).found.phone is None


def test_step_wrong_provider_rejected() -> None:
    state, deps = _setup([FakeFinder("hunter"), FakeFinder("apollo")])
    with pytest.raises(ValueError, match="plan's next provider is 'hunter'"):
        run_step("apollo", state, deps)


def test_step_unconfigured_provider_recorded_as_skipped() -> None:
    state, _ = _setup([FakeFinder("hunter"), FakeFinder("apollo")])
    # The credentials of hunter were removed between the plan and its step.
    without_hunter = dependencies(FakeRegistry([FakeFinder("apollo")]))
    after = run_step("hunter", state, without_hunter)
    assert after.attempts[0].outcome is AttemptOutcome.SKIPPED_NO_CREDENTIALS
    assert after.plan.next == "apollo"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("States.Timeout", AttemptOutcome.TIMEOUT),
        ("ProviderThrottledError", AttemptOutcome.THROTTLED),
        ("ProviderTransientError", AttemptOutcome.TRANSIENT_ERROR),
        ("Lambda.ServiceException", AttemptOutcome.TRANSIENT_ERROR),
        ("KeyError", AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_record_failure_outcome(error: str, expected: AttemptOutcome) -> None:
    state, deps = _setup([FakeFinder("hunter"), FakeFinder("apollo")])
    failed = state.model_copy(update={"error": StepError(error=error, cause='{"errorMessage": "x"}')})
    after = record_failure(failed, deps)
    assert after.error is None
    assert "error" not in after.to_json()
    assert after.plan.next == "apollo"
    assert after.plan.remaining == ["apollo"]
    assert after.attempts[-1].provider == "hunter"
    assert after.attempts[-1].outcome is expected
    assert after.attempts[-1].latency_ms == 0
    assert error in (after.attempts[-1].detail or "")


def test_record_failure_last_provider_is_done() -> None:
    state, deps = _setup([FakeFinder("hunter")])
    failed = WaterfallState.from_json({**state.to_json(), "error": {"Error": "States.Timeout", "Cause": ""}})
    after = record_failure(failed, deps)
    assert after.done is True
    assert after.plan.next is None


def test_record_failure_clears_wait() -> None:
    state, deps = _setup([FakeFinder("hunter"), FakeFinder("apollo")])
    failed = state.model_copy(update={"error": StepError(error="States.Timeout"), "wait_seconds": 3})
    assert record_failure(failed, deps).wait_seconds == 0


def test_record_failure_without_error_rejected() -> None:
    state, deps = _setup([FakeFinder("hunter")])
    with pytest.raises(ValueError, match="no error to record"):
        record_failure(state, deps)


def test_step_valid_email_off_company_domain_verified() -> None:
    verifier = FakeVerifier(EmailVerdict.INVALID)
    stale = email_result(address="ada.quill@example.org")
    state, deps = _setup([FakeFinder("hunter", [stale])], verifiers=[verifier])
    after = run_step("hunter", state, deps)
    assert verifier.calls == ["ada.quill@example.org"]
    assert after.found.email is None
    assert after.attempts[0].outcome is AttemptOutcome.NOT_FOUND


def test_step_valid_email_off_domain_confirmed_kept() -> None:
    verifier = FakeVerifier(EmailVerdict.VALID)
    state, deps = _setup([FakeFinder("hunter", [email_result(address="ada@example.org")])], verifiers=[verifier])
    after = run_step("hunter", state, deps)
    assert after.found.email is not None
    assert after.found.email.address == "ada@example.org"
    assert after.is_verified(EMAIL)


@pytest.mark.parametrize("address", ["ada.quill@example.com", "ada.quill@mail.example.com"])
def test_step_valid_email_on_company_domain_trusted(address: str) -> None:
    verifier = FakeVerifier(EmailVerdict.INVALID)
    state, deps = _setup([FakeFinder("hunter", [email_result(address=address)])], verifiers=[verifier])
    after = run_step("hunter", state, deps)
    assert verifier.calls == []
    assert after.is_verified(EMAIL)
