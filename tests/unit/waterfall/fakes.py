"""Scripted providers and in-memory stores for waterfall tests, and builders of requests and states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cascade.domain.billing import LedgerLine
from cascade.domain.models import (
    AttemptOutcome,
    EmailFlag,
    EmailVerdict,
    NormalisedPerson,
    PersonEnrichmentRequest,
    PhoneVerdict,
    RequestedField,
)
from cascade.domain.plans import KeyPlan
from cascade.normalise.phones import LineType
from cascade.providers.base import (
    ContactFinder,
    EmailCandidate,
    EmailVerifier,
    PhoneCandidate,
    PhoneLookupResult,
    PhoneValidator,
    ProviderInfo,
    ProviderResult,
    VerificationResult,
)
from cascade.providers.registry import Availability, all_provider_infos
from cascade.settings import Settings
from cascade.storage.freshness import FreshValue
from cascade.storage.ledger import ChargeOutcome
from cascade.verification.mx import StaticMxResolver
from cascade.waterfall.dependencies import Freshness, Ledger, Suppressions, WaterfallDependencies
from cascade.waterfall.state import EnrichmentContext, WaterfallInput

RECEIVED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
COMPANY_DOMAIN = "example.com"
EMAIL = RequestedField.EMAIL
PHONE = RequestedField.PHONE
INFOS = {info.name: info for info in all_provider_infos()}
MX = {COMPANY_DOMAIN: ["mx.example.com"], "mail.example.com": ["mx.example.com"], "example.org": ["mx.example.org"]}


class Clock:
    """A settable clock; ``monotonic`` follows it, so a finder that advances it adds latency."""

    def __init__(self, now: datetime = RECEIVED_AT + timedelta(seconds=1)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeFinder:
    """A contact finder that returns its scripted results in order, then ``not_found``."""

    name: str
    results: list[ProviderResult] = field(default_factory=list)
    clock: Clock | None = None
    latency_seconds: float = 0.0
    calls: list[frozenset[RequestedField]] = field(default_factory=list)
    info: ProviderInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = INFOS[self.name]

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        self.calls.append(fields)
        if self.clock is not None:
            self.clock.advance(self.latency_seconds)
        if self.results:
            return self.results.pop(0)
        return ProviderResult(AttemptOutcome.NOT_FOUND, detail="no match")


@dataclass
class FakeVerifier:
    """An email verifier that returns one verdict for every address and records what it was asked."""

    verdict: EmailVerdict
    name: str = "zerobounce"
    calls: list[str] = field(default_factory=list)
    info: ProviderInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = INFOS[self.name]

    def verify(self, address: str) -> VerificationResult:
        self.calls.append(address)
        return VerificationResult(AttemptOutcome.FOUND, self.verdict, latency_ms=5)


@dataclass
class FakePhoneValidator:
    """A phone validator that returns one verdict and line type for every number."""

    verdict: PhoneVerdict
    line_type: LineType = LineType.MOBILE
    calls: list[str] = field(default_factory=list)
    info: ProviderInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = INFOS["twilio"]

    def lookup(self, e164: str) -> PhoneLookupResult:
        self.calls.append(e164)
        return PhoneLookupResult(AttemptOutcome.FOUND, e164=e164, verdict=self.verdict, line_type=self.line_type)


class FakeRegistry:
    """The registry's interface over fake finders: a name without a finder has no credentials."""

    def __init__(
        self,
        finders: Iterable[ContactFinder],
        *,
        verifiers: Sequence[EmailVerifier] = (),
        phone_validator: PhoneValidator | None = None,
    ) -> None:
        self._finders = {finder.info.name: finder for finder in finders}
        self._verifiers = list(verifiers)
        self._phone_validator = phone_validator

    def info(self, name: str) -> ProviderInfo:
        return INFOS[name]

    def availability(self, name: str) -> Availability:
        return Availability.READY if name in self._finders else Availability.NO_CREDENTIALS

    def finder(self, name: str) -> ContactFinder | None:
        return self._finders.get(name)

    def verifiers(self) -> list[EmailVerifier]:
        return list(self._verifiers)

    def phone_validator(self) -> PhoneValidator | None:
        return self._phone_validator


class MemorySuppressions:
    def __init__(self, suppressed: Iterable[str] = ()) -> None:
        self.identities = set(suppressed)
        self.checks = 0

    def is_suppressed(self, account_id: str, identities: Iterable[str]) -> bool:
        self.checks += 1
        return any(identity in self.identities for identity in identities)


class MemoryFreshness:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str, RequestedField], FreshValue] = {}

    def get(
        self, key_id: str, identity: str, field: RequestedField, *, max_age_days: int, now: datetime
    ) -> FreshValue | None:
        value = self.values.get((key_id, identity, field))
        if value is None or max_age_days == 0 or now - value.verified_at > timedelta(days=max_age_days):
            return None
        return value

    def put(self, key_id: str, identity: str, value: FreshValue, *, now: datetime) -> None:
        self.values[(key_id, identity, value.field)] = value


class MemoryLedger:
    def __init__(self) -> None:
        self.lines: dict[str, LedgerLine] = {}

    def charge_with_retry(self, line: LedgerLine, attempts: int = 5) -> ChargeOutcome:
        if line.line_id in self.lines:
            return ChargeOutcome.DUPLICATE
        self.lines[line.line_id] = line
        return ChargeOutcome.CHARGED

    def get(self, line_id: str) -> LedgerLine | None:
        return self.lines.get(line_id)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sync_deadline_seconds": 25.0,
        "provider_read_timeout_seconds": 8.0,
        "provider_connect_timeout_seconds": 2.0,
        "freshness_days": 30,
        "default_region": "US",
    }
    values.update(overrides)
    return Settings(**values)


def dependencies(
    registry: FakeRegistry,
    *,
    clock: Clock | None = None,
    ledger: Ledger | None = None,
    freshness: Freshness | None = None,
    suppressions: Suppressions | None = None,
    **setting_overrides: Any,
) -> WaterfallDependencies:
    clock = clock or Clock()
    return WaterfallDependencies(
        settings=settings(**setting_overrides),
        registry=registry,
        mx_resolver=StaticMxResolver(MX),
        ledger=ledger or MemoryLedger(),
        freshness=freshness or MemoryFreshness(),
        suppressions=suppressions or MemorySuppressions(),
        clock=clock,
        monotonic=clock.monotonic,
    )


def request(fields: Sequence[str] = ("email",), **changes: Any) -> PersonEnrichmentRequest:
    document: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Quill",
        "company_domain": COMPANY_DOMAIN,
        "fields": list(fields),
    }
    document.update(changes)
    return PersonEnrichmentRequest.model_validate(document)


def context(*, plan: KeyPlan | None = None, sync: bool = True, **changes: Any) -> EnrichmentContext:
    document: dict[str, Any] = {
        "key_id": "key_test",
        "account_id": "acct_test",
        "enrichment_id": "enr_test",
        "request_id": "req_test",
        "received_at": RECEIVED_AT,
        "sync": sync,
        "plan": plan or KeyPlan(),
    }
    document.update(changes)
    return EnrichmentContext.model_validate(document)


def start(
    fields: Sequence[str] = ("email",), *, plan: KeyPlan | None = None, sync: bool = True, **request_changes: Any
) -> WaterfallInput:
    return WaterfallInput(request=request(fields, **request_changes), context=context(plan=plan, sync=sync))


def email_result(
    address: str = "ada.quill@example.com",
    verdict: EmailVerdict = EmailVerdict.VALID,
    confidence: float = 0.9,
    flags: frozenset[EmailFlag] = frozenset(),
) -> ProviderResult:
    candidate = EmailCandidate(address=address, verdict=verdict, vendor_status=None, confidence=confidence, flags=flags)
    return ProviderResult(AttemptOutcome.FOUND, emails=(candidate,), detail="matched", latency_ms=40)


def phone_result(
    number: str = "+442079460123", verdict: PhoneVerdict = PhoneVerdict.VALID, confidence: float = 0.8
) -> ProviderResult:
    candidate = PhoneCandidate(number=number, vendor_type="direct", confidence=confidence, verdict=verdict)
    return ProviderResult(AttemptOutcome.FOUND, phones=(candidate,), detail="matched", latency_ms=40)


def outcome(value: AttemptOutcome, *, retry_after: float | None = None) -> ProviderResult:
    return ProviderResult(value, retry_after_seconds=retry_after, detail=f"scripted {value.value}")


def fresh(field: RequestedField, value: str, *, verdict: str = "valid", age_days: float = 1.0) -> FreshValue:
    extra: Mapping[str, str] = {"confidence": "0.9"}
    if field is PHONE:
        extra = {"confidence": "0.9", "line_type": "fixed_line"}
    return FreshValue(
        field=field,
        value=value,
        verdict=verdict,
        provider="hunter",
        verified_at=RECEIVED_AT - timedelta(days=age_days),
        match_id="mat_earlier",
        extra=extra,
    )
