from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cascade.domain.models import AttemptOutcome, PhoneVerdict, RequestedField
from cascade.normalise.phones import LineType
from cascade.providers.base import (
    PhoneLookupResult,
    PhoneValidator,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    RateLimit,
)
from cascade.verification.email import VerifierAttempt
from cascade.verification.phone import NUMBERING_PLAN, verify_phone

US_NUMBER = "(201) 555-0123 x42"
GB_MOBILE = "+44 7400 123456"


@dataclass
class _FakeValidator:
    """A phone validator that returns one scripted result and records the numbers it was asked about."""

    result: PhoneLookupResult
    name: str = "lookup"
    calls: list[str] = field(default_factory=list)
    info: ProviderInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = ProviderInfo(
            name=self.name,
            kind=ProviderKind.PHONE_VALIDATOR,
            fields=frozenset({RequestedField.PHONE}),
            cost=ProviderCost(),
            rate_limit=RateLimit(requests=10, per_seconds=1.0),
            api_version="test",
            default_base_url="https://validator.invalid",
        )

    def lookup(self, e164: str) -> PhoneLookupResult:
        self.calls.append(e164)
        return self.result


def _found(
    verdict: PhoneVerdict = PhoneVerdict.VALID, line_type: LineType = LineType.MOBILE, carrier: str | None = "Carrier"
) -> _FakeValidator:
    return _FakeValidator(
        PhoneLookupResult(AttemptOutcome.FOUND, verdict=verdict, line_type=line_type, carrier=carrier, latency_ms=5)
    )


def test_fake_validator_meets_protocol() -> None:
    assert isinstance(_found(), PhoneValidator)


def test_verify_phone_us_number_from_plan() -> None:
    result = verify_phone(US_NUMBER, country="US", default_region="US")
    assert result.e164 == "+12015550123"
    assert result.extension == "42"
    assert result.country == "US"
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is LineType.FIXED_LINE_OR_MOBILE
    assert result.line_type_source == NUMBERING_PLAN
    assert result.carrier is None
    assert result.attempts == ()


def test_verify_phone_shared_range_explained() -> None:
    result = verify_phone(US_NUMBER, country="US", default_region="US")
    assert result.detail is not None
    assert "fixed_line_or_mobile" in result.detail


def test_verify_phone_plan_mobile_range() -> None:
    result = verify_phone(GB_MOBILE, country=None, default_region="US")
    assert result.e164 == "+447400123456"
    assert result.country == "GB"
    assert result.line_type is LineType.MOBILE
    assert result.line_type_source == NUMBERING_PLAN


def test_verify_phone_validator_mobile_is_evidence() -> None:
    validator = _found(line_type=LineType.MOBILE, carrier="Example Wireless")
    result = verify_phone(US_NUMBER, country="US", default_region="US", validator=validator)
    assert result.line_type is LineType.MOBILE
    assert result.line_type_source == "lookup"
    assert result.verdict is PhoneVerdict.VALID
    assert result.carrier == "Example Wireless"
    assert result.extension == "42"
    assert result.attempts == (VerifierAttempt("lookup", AttemptOutcome.FOUND, 5),)


def test_verify_phone_validator_gets_e164_without_extension() -> None:
    validator = _found()
    verify_phone(US_NUMBER, country="US", default_region="US", validator=validator)
    assert validator.calls == ["+12015550123"]


def test_verify_phone_validator_invalid_verdict_wins() -> None:
    validator = _found(verdict=PhoneVerdict.INVALID, line_type=LineType.UNKNOWN, carrier=None)
    result = verify_phone(US_NUMBER, country="US", default_region="US", validator=validator)
    assert result.verdict is PhoneVerdict.INVALID
    assert result.line_type is LineType.FIXED_LINE_OR_MOBILE
    assert result.line_type_source == NUMBERING_PLAN


def test_verify_phone_validator_unknowns_keep_plan() -> None:
    validator = _found(verdict=PhoneVerdict.UNKNOWN, line_type=LineType.UNKNOWN, carrier=None)
    result = verify_phone(US_NUMBER, country="US", default_region="US", validator=validator)
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is LineType.FIXED_LINE_OR_MOBILE
    assert result.line_type_source == NUMBERING_PLAN
    assert result.detail == "the verdict comes from numbering_plan and the line type from numbering_plan"


def test_verify_phone_validator_shared_type_stays() -> None:
    validator = _found(line_type=LineType.FIXED_LINE_OR_MOBILE)
    result = verify_phone(US_NUMBER, country="US", default_region="US", validator=validator)
    assert result.line_type is LineType.FIXED_LINE_OR_MOBILE


@pytest.mark.parametrize(
    "outcome",
    [
        AttemptOutcome.THROTTLED,
        AttemptOutcome.TIMEOUT,
        AttemptOutcome.TRANSIENT_ERROR,
        AttemptOutcome.AUTH_ERROR,
        AttemptOutcome.QUOTA_EXHAUSTED,
        AttemptOutcome.BAD_RESPONSE,
    ],
)
def test_verify_phone_validator_failure_keeps_plan(outcome: AttemptOutcome) -> None:
    validator = _FakeValidator(PhoneLookupResult(outcome, line_type=LineType.MOBILE, detail="HTTP 503", latency_ms=9))
    result = verify_phone(US_NUMBER, country="US", default_region="US", validator=validator)
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is LineType.FIXED_LINE_OR_MOBILE
    assert result.line_type_source == NUMBERING_PLAN
    assert (
        result.detail
        == f"the validator lookup returned {outcome.value}, so the numbering plan's answer stands (HTTP 503)"
    )
    assert result.attempts == (VerifierAttempt("lookup", outcome, 9),)
    assert validator.calls == ["+12015550123"]


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("not a number", "not_a_number"),
        ("", "empty"),
        ("1.23457E+11", "spreadsheet_scientific_notation"),
        ("555-0123", "missing_area_code"),
        ("+1 201 555 0123 / +1 201 555 0124", "multiple_numbers"),
    ],
)
def test_verify_phone_rejected_calls_nothing(number: str, code: str) -> None:
    validator = _found()
    result = verify_phone(number, country="US", default_region="US", validator=validator)
    assert result.verdict is PhoneVerdict.INVALID
    assert result.e164 is None
    assert result.line_type is LineType.UNKNOWN
    assert result.detail == f"the number failed normalisation ({code})"
    assert validator.calls == []


def test_verify_phone_rejection_keeps_notes() -> None:
    result = verify_phone("not a number", country="US", default_region="US")
    assert [note.code for note in result.notes] == ["not_a_number"]


def test_verify_phone_bad_default_region_raises() -> None:
    with pytest.raises(ValueError, match="default_region"):
        verify_phone(US_NUMBER, country=None, default_region="XX")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_verify_phone_never_raises(value: str) -> None:
    result = verify_phone(value, country="US", default_region="US", validator=_found())
    assert isinstance(result.verdict, PhoneVerdict)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\+1 201 555 0[0-9]{3}", fullmatch=True))
def test_verify_phone_idempotent_on_e164(value: str) -> None:
    first = verify_phone(value, country=None, default_region="US")
    assume(first.e164 is not None)
    second = verify_phone(first.e164 or "", country=None, default_region="US")
    assert second.e164 == first.e164
    assert second.line_type is first.line_type
    assert second.verdict is first.verdict
