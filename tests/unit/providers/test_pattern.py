from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.emails import normalise_email
from cascade.normalise.names import parse_person_name
from cascade.providers.base import (
    ContactFinder,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    RateLimit,
    VerificationResult,
)
from cascade.providers.pattern import INFO, PATTERNS, PatternFinder

DOMAIN = "quillon-widgets.de"
EMAIL_ONLY = frozenset({RequestedField.EMAIL})
PROBE = re.compile(r"^[0-9a-f]{16}@quillon-widgets\.de$")

ALL_ADA_QUILL = [
    "ada.quill@quillon-widgets.de",
    "aquill@quillon-widgets.de",
    "ada@quillon-widgets.de",
    "adaquill@quillon-widgets.de",
    "ada_quill@quillon-widgets.de",
    "a.quill@quillon-widgets.de",
    "adaq@quillon-widgets.de",
    "quill.ada@quillon-widgets.de",
    "quilla@quillon-widgets.de",
    "quill@quillon-widgets.de",
]


@dataclass
class FakeVerifier:
    """An injected verifier that returns a verdict per address, or one failure outcome for every call."""

    verdicts: dict[str, EmailVerdict] = field(default_factory=dict)
    default: EmailVerdict = EmailVerdict.INVALID
    name: str = "fake"
    failure: AttemptOutcome | None = None
    # Number of calls that return a verdict before ``failure`` applies; None applies it from the first call.
    fail_after: int | None = None
    retry_after_seconds: float | None = None
    latency_ms: int = 10
    calls: list[str] = field(default_factory=list)
    info: ProviderInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = ProviderInfo(
            name=self.name,
            kind=ProviderKind.EMAIL_VERIFIER,
            fields=EMAIL_ONLY,
            cost=ProviderCost(),
            rate_limit=RateLimit(requests=10, per_seconds=1.0),
            api_version="test",
            default_base_url="https://verifier.invalid",
        )

    def verify(self, address: str) -> VerificationResult:
        self.calls.append(address)
        failing = self.fail_after is None or len(self.calls) > self.fail_after
        if self.failure is not None and failing:
            return VerificationResult(
                outcome=self.failure, retry_after_seconds=self.retry_after_seconds, latency_ms=self.latency_ms
            )
        verdict = self.verdicts.get(address, self.default)
        return VerificationResult(
            outcome=AttemptOutcome.FOUND, verdict=verdict, vendor_status=verdict.value, latency_ms=self.latency_ms
        )


def _person(first: str = "ada", last: str = "quill", domain: str | None = DOMAIN) -> NormalisedPerson:
    return NormalisedPerson(
        first_name=first.title() or None,
        last_name=last.title() or None,
        company_domain=domain,
        ascii_first=first,
        ascii_last=last,
    )


def test_finder_satisfies_protocol() -> None:
    assert isinstance(PatternFinder([FakeVerifier()]), ContactFinder)


def test_info_is_free_email_finder() -> None:
    assert INFO.name == "pattern"
    assert INFO.kind is ProviderKind.CONTACT_FINDER
    assert INFO.fields == EMAIL_ONLY
    assert INFO.cost.per_call == 0
    assert INFO.cost.per_success == 0


def test_patterns_most_common_first() -> None:
    assert PATTERNS[:2] == ("{first}.{last}", "{f}{last}")
    assert len(PATTERNS) == len(set(PATTERNS)) == 10


def test_find_probes_first() -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert PROBE.match(verifier.calls[0])
    assert verifier.calls[0] not in ALL_ADA_QUILL


def test_find_probe_differs_per_call() -> None:
    verifier = FakeVerifier()
    finder = PatternFinder([verifier], max_candidates=1)

    finder.find(_person(), EMAIL_ONLY)
    finder.find(_person(), EMAIL_ONLY)

    assert verifier.calls[0] != verifier.calls[2]


def test_find_candidate_order() -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier], max_candidates=10).find(_person(), EMAIL_ONLY)

    assert verifier.calls[1:] == ALL_ADA_QUILL


def test_find_default_max_candidates() -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert verifier.calls[1:] == ALL_ADA_QUILL[:6]


def test_find_first_valid_stops() -> None:
    verifier = FakeVerifier({"aquill@quillon-widgets.de": EmailVerdict.VALID})

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert len(result.emails) == 1
    assert result.emails[0].address == "aquill@quillon-widgets.de"
    assert result.emails[0].verdict is EmailVerdict.VALID
    assert result.emails[0].confidence == 0.85
    assert result.emails[0].vendor_status == "valid"
    assert verifier.calls[1:] == ALL_ADA_QUILL[:2]
    assert result.detail == "verified by fake"


def test_find_latency_sums_calls() -> None:
    verifier = FakeVerifier({"ada@quillon-widgets.de": EmailVerdict.VALID}, latency_ms=25)

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert len(verifier.calls) == 4
    assert result.latency_ms == 100


def test_find_first_name_missing() -> None:
    person = NormalisedPerson(last_name="Quillfeather", company_domain=DOMAIN, ascii_last="quillfeather")
    verifier = FakeVerifier()

    result = PatternFinder([verifier], max_candidates=10).find(person, EMAIL_ONLY)

    assert verifier.calls[1:] == ["quillfeather@quillon-widgets.de"]
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail is not None
    assert "first name missing" in result.detail


def test_find_title_and_surname_only() -> None:
    name = parse_person_name(full_name="Dr. Quillfeather")
    person = NormalisedPerson(
        last_name=name.last, company_domain=DOMAIN, ascii_first=name.ascii_first, ascii_last=name.ascii_last
    )
    verifier = FakeVerifier()

    result = PatternFinder([verifier], max_candidates=10).find(person, EMAIL_ONLY)

    assert verifier.calls[1:] == ["quillfeather@quillon-widgets.de"]
    assert result.detail is not None
    assert "first name missing" in result.detail


def test_find_first_name_missing_found() -> None:
    person = NormalisedPerson(last_name="Quillfeather", company_domain=DOMAIN, ascii_last="quillfeather")
    verifier = FakeVerifier({"quillfeather@quillon-widgets.de": EmailVerdict.VALID})

    result = PatternFinder([verifier]).find(person, EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == "quillfeather@quillon-widgets.de"
    assert result.detail is not None
    assert "first name missing" in result.detail


def test_find_last_name_missing() -> None:
    verifier = FakeVerifier()

    result = PatternFinder([verifier], max_candidates=10).find(_person(last=""), EMAIL_ONLY)

    assert verifier.calls[1:] == ["ada@quillon-widgets.de"]
    assert result.detail is not None
    assert "last name missing" in result.detail


def test_find_no_name_parts() -> None:
    verifier = FakeVerifier()

    result = PatternFinder([verifier]).find(_person(first="", last=""), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert verifier.calls == []


def test_find_deduplicates_candidates() -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier], max_candidates=10).find(_person(first="a", last="quill"), EMAIL_ONLY)

    candidates = verifier.calls[1:]
    assert len(candidates) == len(set(candidates))
    assert candidates == [
        "a.quill@quillon-widgets.de",
        "aquill@quillon-widgets.de",
        "a@quillon-widgets.de",
        "a_quill@quillon-widgets.de",
        "aq@quillon-widgets.de",
        "quill.a@quillon-widgets.de",
        "quilla@quillon-widgets.de",
        "quill@quillon-widgets.de",
    ]


def test_find_strips_name_punctuation() -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier], max_candidates=2).find(_person(first="mary ann", last="o'neil"), EMAIL_ONLY)

    assert verifier.calls[1:] == ["maryann.oneil@quillon-widgets.de", "moneil@quillon-widgets.de"]


def test_find_folds_hyphen() -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier], max_candidates=1).find(_person(first="jean-luc", last="picard"), EMAIL_ONLY)

    assert verifier.calls[1:] == ["jeanluc.picard@quillon-widgets.de"]


@pytest.mark.parametrize("probe_verdict", [EmailVerdict.VALID, EmailVerdict.CATCH_ALL])
def test_find_catch_all_probe(probe_verdict: EmailVerdict) -> None:
    verifier = FakeVerifier(default=probe_verdict)

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert len(verifier.calls) == 1
    assert result.emails[0].address == "ada.quill@quillon-widgets.de"
    assert result.emails[0].verdict is EmailVerdict.CATCH_ALL
    assert result.emails[0].confidence == 0.3


def test_find_catch_all_never_valid() -> None:
    verifier = FakeVerifier(default=EmailVerdict.VALID)

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert all(email.verdict is not EmailVerdict.VALID for email in result.emails)


def test_find_catch_all_candidate() -> None:
    verifier = FakeVerifier({"aquill@quillon-widgets.de": EmailVerdict.CATCH_ALL})

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert verifier.calls[1:] == ALL_ADA_QUILL[:2]
    assert result.emails[0].address == "ada.quill@quillon-widgets.de"
    assert result.emails[0].verdict is EmailVerdict.CATCH_ALL
    assert result.emails[0].confidence == 0.3


def test_find_all_invalid() -> None:
    result = PatternFinder([FakeVerifier()]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()
    assert result.detail == "all 6 candidates are invalid"


def test_find_unknowns_only() -> None:
    result = PatternFinder([FakeVerifier(default=EmailVerdict.UNKNOWN)]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail == "no candidate verified: 6 unknown, 0 invalid"


def test_find_probe_unknown_continues() -> None:
    verifier = FakeVerifier({"ada.quill@quillon-widgets.de": EmailVerdict.VALID}, default=EmailVerdict.UNKNOWN)

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].verdict is EmailVerdict.VALID


def test_find_disposable_candidates_skipped() -> None:
    verifier = FakeVerifier(
        {"ada.quill@quillon-widgets.de": EmailVerdict.DISPOSABLE, "aquill@quillon-widgets.de": EmailVerdict.VALID}
    )

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.emails[0].address == "aquill@quillon-widgets.de"


def test_find_probe_disposable() -> None:
    verifier = FakeVerifier(default=EmailVerdict.DISPOSABLE)

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert len(verifier.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [
        AttemptOutcome.THROTTLED,
        AttemptOutcome.TRANSIENT_ERROR,
        AttemptOutcome.TIMEOUT,
        AttemptOutcome.AUTH_ERROR,
        AttemptOutcome.QUOTA_EXHAUSTED,
        AttemptOutcome.BAD_RESPONSE,
    ],
)
def test_find_falls_back_to_next_verifier(failure: AttemptOutcome) -> None:
    broken = FakeVerifier(name="first", failure=failure)
    working = FakeVerifier({"aquill@quillon-widgets.de": EmailVerdict.VALID}, name="second")

    result = PatternFinder([broken, working]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == "aquill@quillon-widgets.de"
    assert result.detail == "verified by second"
    assert len(broken.calls) == 1
    assert PROBE.match(working.calls[0])
    assert working.calls[1:] == ALL_ADA_QUILL[:2]


def test_find_fallback_latency_includes_failures() -> None:
    broken = FakeVerifier(name="first", failure=AttemptOutcome.TIMEOUT, latency_ms=2_000)
    working = FakeVerifier({"ada.quill@quillon-widgets.de": EmailVerdict.VALID}, name="second", latency_ms=30)

    result = PatternFinder([broken, working]).find(_person(), EMAIL_ONLY)

    assert result.latency_ms == 2_060


def test_find_fallback_mid_search() -> None:
    first = FakeVerifier(name="first", failure=AttemptOutcome.THROTTLED, fail_after=2)
    second = FakeVerifier({"ada@quillon-widgets.de": EmailVerdict.VALID}, name="second")

    result = PatternFinder([first, second]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].address == "ada@quillon-widgets.de"
    assert result.detail == "verified by second"
    assert first.calls[1:] == ALL_ADA_QUILL[:2]
    assert second.calls == ALL_ADA_QUILL[1:3]


def test_find_dropped_verifier_used_next_call() -> None:
    first = FakeVerifier(name="first", failure=AttemptOutcome.THROTTLED)
    second = FakeVerifier(name="second")
    finder = PatternFinder([first, second])

    finder.find(_person(), EMAIL_ONLY)
    first.failure = None
    result = finder.find(_person(), EMAIL_ONLY)

    assert result.detail == "all 6 candidates are invalid"
    assert len(first.calls) == 8
    assert len(second.calls) == 7


def test_find_no_verifier_answers_retryable_preferred() -> None:
    broken = FakeVerifier(name="first", failure=AttemptOutcome.AUTH_ERROR)
    throttled = FakeVerifier(name="second", failure=AttemptOutcome.THROTTLED, retry_after_seconds=5.0)

    result = PatternFinder([broken, throttled]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 5.0
    assert result.emails == ()
    assert result.detail is not None
    assert "first auth_error" in result.detail
    assert "second throttled" in result.detail


def test_find_no_verifier_answers_permanent() -> None:
    broken = FakeVerifier(name="first", failure=AttemptOutcome.AUTH_ERROR)
    empty = FakeVerifier(name="second", failure=AttemptOutcome.QUOTA_EXHAUSTED)

    result = PatternFinder([broken, empty]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.AUTH_ERROR


def test_find_verifier_fails_after_candidates() -> None:
    verifier = FakeVerifier(failure=AttemptOutcome.TRANSIENT_ERROR, fail_after=3)

    result = PatternFinder([verifier]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.TRANSIENT_ERROR
    assert result.emails == ()
    assert len(verifier.calls) == 4


@pytest.mark.parametrize("domain", ["gmail.com", "outlook.com", "mailinator.com"])
def test_find_rejects_consumer_domain(domain: str) -> None:
    verifier = FakeVerifier()

    result = PatternFinder([verifier]).find(_person(domain=domain), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail is not None
    assert verifier.calls == []


def test_find_without_domain() -> None:
    verifier = FakeVerifier()

    result = PatternFinder([verifier]).find(_person(domain=None), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail == "no company_domain to build addresses on"
    assert verifier.calls == []


def test_find_phone_only_request() -> None:
    verifier = FakeVerifier()

    result = PatternFinder([verifier]).find(_person(), frozenset({RequestedField.PHONE}))

    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert verifier.calls == []


def test_find_without_verifiers() -> None:
    result = PatternFinder([]).find(_person(), EMAIL_ONLY)

    assert result.outcome is AttemptOutcome.SKIPPED_NO_CREDENTIALS


def test_find_catch_all_flags_from_address() -> None:
    verifier = FakeVerifier(default=EmailVerdict.CATCH_ALL)

    result = PatternFinder([verifier]).find(_person(first="info", last=""), EMAIL_ONLY)

    assert result.emails[0].address == "info@quillon-widgets.de"
    assert result.emails[0].flags == frozenset({EmailFlag.ROLE})


def test_find_detail_has_no_name() -> None:
    result = PatternFinder([FakeVerifier()]).find(_person(), EMAIL_ONLY)

    assert result.detail is not None
    assert "ada" not in result.detail
    assert "quill" not in result.detail


@pytest.mark.parametrize("max_candidates", [0, -1])
def test_finder_rejects_max_candidates(max_candidates: int) -> None:
    with pytest.raises(ValueError, match="max_candidates"):
        PatternFinder([FakeVerifier()], max_candidates=max_candidates)


_NAME_PARTS = st.text(max_size=12)


@settings(max_examples=200, deadline=None)
@given(first=_NAME_PARTS, last=_NAME_PARTS)
def test_find_candidates_are_valid_addresses(first: str, last: str) -> None:
    verifier = FakeVerifier()

    PatternFinder([verifier], max_candidates=10).find(_person(first=first, last=last), EMAIL_ONLY)

    candidates = verifier.calls[1:]
    assert len(candidates) == len(set(candidates))
    assert all(normalise_email(address).address == address for address in candidates)
