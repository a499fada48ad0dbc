from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict, RequestedField
from cascade.providers.base import (
    EmailVerifier,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    RateLimit,
    VerificationResult,
)
from cascade.verification.email import EmailVerification, VerifierAttempt, verify_email
from cascade.verification.mx import MxAnswer, MxStatus, StaticMxResolver

MX = {"example.com": ["mx.example.com"], "gmail.com": ["gmail-smtp-in.l.google.com"], "xn--bcher-kva.de": ["mx"]}


def _info(name: str) -> ProviderInfo:
    return ProviderInfo(
        name=name,
        kind=ProviderKind.EMAIL_VERIFIER,
        fields=frozenset({RequestedField.EMAIL}),
        cost=ProviderCost(),
        rate_limit=RateLimit(requests=10, per_seconds=1.0),
        api_version="test",
        default_base_url="https://verifier.invalid",
    )


@dataclass
class _FakeVerifier:
    """A verifier that returns one scripted result and records the addresses it was asked about."""

    name: str
    result: VerificationResult
    calls: list[str] = field(default_factory=list)
    info: ProviderInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = _info(self.name)

    def verify(self, address: str) -> VerificationResult:
        self.calls.append(address)
        return self.result


def _answering(
    name: str,
    verdict: EmailVerdict,
    *,
    flags: frozenset[EmailFlag] = frozenset(),
    vendor_status: str | None = None,
) -> _FakeVerifier:
    result = VerificationResult(AttemptOutcome.FOUND, verdict, flags=flags, vendor_status=vendor_status, latency_ms=7)
    return _FakeVerifier(name, result)


def _failing(name: str, outcome: AttemptOutcome) -> _FakeVerifier:
    return _FakeVerifier(name, VerificationResult(outcome, detail=f"{name} failed", latency_ms=3))


class _CountingResolver:
    def __init__(self, mapping: dict[str, list[str]]) -> None:
        self._static = StaticMxResolver(mapping)
        self.domains: list[str] = []

    def resolve_mx(self, domain: str) -> MxAnswer:
        self.domains.append(domain)
        return self._static.resolve_mx(domain)


class _FailingResolver:
    def resolve_mx(self, domain: str) -> MxAnswer:
        return MxAnswer(MxStatus.ERROR, detail="the MX lookup timed out after 3 s")


def test_fake_verifier_meets_protocol() -> None:
    assert isinstance(_answering("one", EmailVerdict.VALID), EmailVerifier)


@pytest.mark.parametrize("address", ["not an address", "", "ada@", "@example.com", "ada@localhost", "a@b@c.com"])
def test_verify_email_syntax_rejection_calls_nothing(address: str) -> None:
    resolver = _CountingResolver(MX)
    verifier = _answering("one", EmailVerdict.VALID)
    result = verify_email(address, mx_resolver=resolver, verifiers=[verifier])
    assert result.verdict is EmailVerdict.INVALID
    assert result.ascii_address is None
    assert result.verifier is None
    assert result.mx is None
    assert result.attempts == ()
    assert resolver.domains == []
    assert verifier.calls == []


def test_verify_email_syntax_rejection_keeps_notes() -> None:
    result = verify_email("ada.example.com", mx_resolver=_CountingResolver(MX), verifiers=[])
    assert result.address == "ada.example.com"
    assert result.detail is not None
    assert "syntax" in result.detail
    assert [note.code for note in result.notes] == ["invalid_email"]


def test_verify_email_disposable_skips_mx_and_verifiers() -> None:
    resolver = _CountingResolver(MX)
    verifier = _answering("one", EmailVerdict.VALID)
    result = verify_email("someone@mailinator.com", mx_resolver=resolver, verifiers=[verifier])
    assert result.verdict is EmailVerdict.DISPOSABLE
    assert result.disposable is True
    assert result.mx is None
    assert resolver.domains == []
    assert verifier.calls == []


@pytest.mark.parametrize(
    ("mapping", "status"),
    [({"example.com": []}, MxStatus.NO_MX), ({"example.com": ["0 ."]}, MxStatus.NO_MX), ({}, MxStatus.NO_DOMAIN)],
    ids=["no-records", "null-mx", "no-domain"],
)
def test_verify_email_without_mail_server_is_invalid(mapping: dict[str, list[str]], status: MxStatus) -> None:
    verifier = _answering("one", EmailVerdict.VALID)
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(mapping), verifiers=[verifier])
    assert result.verdict is EmailVerdict.INVALID
    assert result.mx is not None
    assert result.mx.status is status
    assert result.verifier is None
    assert verifier.calls == []


def test_verify_email_first_answer_decides() -> None:
    first = _answering("one", EmailVerdict.VALID, vendor_status="deliverable")
    second = _answering("two", EmailVerdict.INVALID)
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(MX), verifiers=[first, second])
    assert result.verdict is EmailVerdict.VALID
    assert result.verifier == "one"
    assert result.vendor_status == "deliverable"
    assert result.attempts == (VerifierAttempt("one", AttemptOutcome.FOUND, 7),)
    assert second.calls == []


def test_verify_email_falls_back_in_order() -> None:
    throttled = _failing("one", AttemptOutcome.THROTTLED)
    timed_out = _failing("two", AttemptOutcome.TIMEOUT)
    answering = _answering("three", EmailVerdict.CATCH_ALL)
    unused = _answering("four", EmailVerdict.VALID)
    result = verify_email(
        "ada.quill@example.com",
        mx_resolver=StaticMxResolver(MX),
        verifiers=[throttled, timed_out, answering, unused],
    )
    assert result.verdict is EmailVerdict.CATCH_ALL
    assert result.verifier == "three"
    assert [attempt.verifier for attempt in result.attempts] == ["one", "two", "three"]
    assert [attempt.outcome for attempt in result.attempts] == [
        AttemptOutcome.THROTTLED,
        AttemptOutcome.TIMEOUT,
        AttemptOutcome.FOUND,
    ]
    assert unused.calls == []


@pytest.mark.parametrize(
    "outcome",
    [
        AttemptOutcome.THROTTLED,
        AttemptOutcome.TRANSIENT_ERROR,
        AttemptOutcome.TIMEOUT,
        AttemptOutcome.AUTH_ERROR,
        AttemptOutcome.QUOTA_EXHAUSTED,
        AttemptOutcome.BAD_RESPONSE,
        AttemptOutcome.NOT_FOUND,
    ],
)
def test_verify_email_failed_outcome_tries_next(outcome: AttemptOutcome) -> None:
    failing = _failing("one", outcome)
    answering = _answering("two", EmailVerdict.INVALID)
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(MX), verifiers=[failing, answering])
    assert result.verdict is EmailVerdict.INVALID
    assert result.verifier == "two"
    assert failing.calls == ["ada.quill@example.com"]


def test_verify_email_none_answering_is_unknown() -> None:
    verifiers = [_failing("one", AttemptOutcome.QUOTA_EXHAUSTED), _failing("two", AttemptOutcome.AUTH_ERROR)]
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(MX), verifiers=verifiers)
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.verifier is None
    assert len(result.attempts) == 2
    assert result.detail == "no verifier returned a verdict: one quota_exhausted, two auth_error"


def test_verify_email_without_verifiers_is_unknown() -> None:
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(MX), verifiers=[])
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.mx is not None
    assert result.mx.status is MxStatus.FOUND
    assert result.detail is not None
    assert "no verifier is configured" in result.detail


def test_verify_email_found_unknown_stops_chain() -> None:
    unknown = _answering("one", EmailVerdict.UNKNOWN)
    later = _answering("two", EmailVerdict.VALID)
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(MX), verifiers=[unknown, later])
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.verifier == "one"
    assert later.calls == []


def test_verify_email_mx_error_still_asks_verifiers() -> None:
    verifier = _answering("one", EmailVerdict.VALID)
    result = verify_email("ada.quill@example.com", mx_resolver=_FailingResolver(), verifiers=[verifier])
    assert result.verdict is EmailVerdict.VALID
    assert result.mx is not None
    assert result.mx.status is MxStatus.ERROR
    assert verifier.calls == ["ada.quill@example.com"]


def test_verify_email_mx_error_detail() -> None:
    result = verify_email(
        "ada.quill@example.com",
        mx_resolver=_FailingResolver(),
        verifiers=[_failing("one", AttemptOutcome.TIMEOUT)],
    )
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.detail is not None
    assert "one timeout" in result.detail
    assert "MX lookup failed" in result.detail


def test_verify_email_uses_ascii_form() -> None:
    resolver = _CountingResolver(MX)
    verifier = _answering("one", EmailVerdict.VALID)
    result = verify_email("Ada <ada@Bücher.de>", mx_resolver=resolver, verifiers=[verifier])
    assert result.address == "ada@bücher.de"
    assert result.ascii_address == "ada@xn--bcher-kva.de"
    assert resolver.domains == ["xn--bcher-kva.de"]
    assert verifier.calls == ["ada@xn--bcher-kva.de"]


@pytest.mark.parametrize(
    ("address", "flags"),
    [
        ("ada.quill@example.com", frozenset()),
        ("sales@example.com", frozenset({EmailFlag.ROLE})),
        ("ada.quill@gmail.com", frozenset({EmailFlag.FREE_MAIL})),
        ("info@gmail.com", frozenset({EmailFlag.ROLE, EmailFlag.FREE_MAIL})),
    ],
)
def test_verify_email_flags_from_address(address: str, flags: frozenset[EmailFlag]) -> None:
    result = verify_email(address, mx_resolver=StaticMxResolver(MX), verifiers=[_answering("one", EmailVerdict.VALID)])
    assert result.flags == flags


def test_verify_email_flags_merge_verifier_flags() -> None:
    verifier = _answering("one", EmailVerdict.VALID, flags=frozenset({EmailFlag.ROLE}))
    result = verify_email("ada.quill@gmail.com", mx_resolver=StaticMxResolver(MX), verifiers=[verifier])
    assert result.flags == frozenset({EmailFlag.ROLE, EmailFlag.FREE_MAIL})


def test_verify_email_flags_kept_when_none_answers() -> None:
    result = verify_email(
        "sales@example.com",
        mx_resolver=StaticMxResolver(MX),
        verifiers=[_failing("one", AttemptOutcome.TIMEOUT)],
    )
    assert result.flags == frozenset({EmailFlag.ROLE})


def test_verify_email_disposable_verdict_from_verifier() -> None:
    verifier = _answering("one", EmailVerdict.DISPOSABLE)
    result = verify_email("ada.quill@example.com", mx_resolver=StaticMxResolver(MX), verifiers=[verifier])
    assert result.verdict is EmailVerdict.DISPOSABLE
    assert result.disposable is True


def _verify(address: str) -> EmailVerification:
    return verify_email(address, mx_resolver=StaticMxResolver(MX), verifiers=[_answering("one", EmailVerdict.VALID)])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_verify_email_never_raises(value: str) -> None:
    result = _verify(value)
    assert isinstance(result.verdict, EmailVerdict)


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,10})?", fullmatch=True),
    st.sampled_from(["example.com", "gmail.com", "EXAMPLE.com", "bücher.de"]),
)
def test_verify_email_idempotent_on_own_address(local: str, domain: str) -> None:
    first = _verify(f"{local}@{domain}")
    second = _verify(first.address)
    assert second.address == first.address
    assert second.verdict is first.verdict
    assert second.flags == first.flags
