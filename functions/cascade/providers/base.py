"""The contract every data provider implements, and the typed outcomes of one call.

An adapter makes exactly one HTTP request per call and never retries: retries, waits and
fallbacks belong to the state machine, which reads ``ProviderResult.outcome`` and
``retry_after_seconds``. Vendor errors, including the ones vendors send inside an HTTP
200, are mapped to ``AttemptOutcome`` by status code and body fields, never by matching
message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cascade.domain.models import (
    AttemptOutcome,
    EmailFlag,
    EmailVerdict,
    NormalisedPerson,
    PhoneVerdict,
    RequestedField,
)
from cascade.normalise.phones import LineType


class ProviderKind(StrEnum):
    CONTACT_FINDER = "contact_finder"
    EMAIL_VERIFIER = "email_verifier"
    PHONE_VALIDATOR = "phone_validator"
    COMPANY_REGISTRY = "company_registry"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A vendor's documented request budget per account: ``requests`` per ``per_seconds``."""

    requests: int
    per_seconds: float


@dataclass(frozen=True, slots=True)
class ProviderCost:
    """The cost of one call to Cascade, in US dollars (may be finer than a cent)."""

    per_call: Decimal = Decimal("0")
    per_success: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """Budget left as the vendor reported it in response headers, when it does."""

    remaining: int | None = None
    limit: int | None = None
    reset_after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class EmailCandidate:
    """An email address a provider returned, with the provider's own verdict mapped to Cascade's."""

    address: str
    verdict: EmailVerdict
    vendor_status: str | None
    confidence: float
    flags: frozenset[EmailFlag] = frozenset()


@dataclass(frozen=True, slots=True)
class PhoneCandidate:
    """A phone number a provider returned.

    ``number`` is the E.164 form when the adapter found the number valid in its numbering plan, and
    the vendor's text, trimmed, otherwise (``providers.candidates.phone_candidate`` builds both).
    """

    number: str
    vendor_type: str | None
    confidence: float
    line_type: LineType = LineType.UNKNOWN
    verdict: PhoneVerdict = PhoneVerdict.UNKNOWN


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """The outcome of one provider call."""

    outcome: AttemptOutcome
    emails: tuple[EmailCandidate, ...] = ()
    phones: tuple[PhoneCandidate, ...] = ()
    retry_after_seconds: float | None = None
    rate_limit: RateLimitState | None = None
    http_status: int | None = None
    # Why the call ended this way, for logs and the attempts list; never personal data.
    detail: str | None = None
    latency_ms: int = 0

    @property
    def found_anything(self) -> bool:
        return bool(self.emails or self.phones)


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """A hosted or local verifier's result for one email address."""

    outcome: AttemptOutcome
    verdict: EmailVerdict = EmailVerdict.UNKNOWN
    flags: frozenset[EmailFlag] = frozenset()
    vendor_status: str | None = None
    vendor_sub_status: str | None = None
    retry_after_seconds: float | None = None
    http_status: int | None = None
    detail: str | None = None
    latency_ms: int = 0


@dataclass(frozen=True, slots=True)
class PhoneLookupResult:
    """A phone validator's result for one number."""

    outcome: AttemptOutcome
    e164: str | None = None
    verdict: PhoneVerdict = PhoneVerdict.UNKNOWN
    line_type: LineType = LineType.UNKNOWN
    carrier: str | None = None
    vendor_type: str | None = None
    retry_after_seconds: float | None = None
    http_status: int | None = None
    detail: str | None = None
    latency_ms: int = 0


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """A provider's description, as the registry and the plan step read it before calling the provider."""

    name: str
    kind: ProviderKind
    fields: frozenset[RequestedField]
    cost: ProviderCost
    rate_limit: RateLimit
    api_version: str
    # The vendor's production base URL; the sandbox URL replaces it by configuration.
    default_base_url: str
    extra: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class ContactFinder(Protocol):
    info: ProviderInfo

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        """Look the person up once and return candidates or a typed failure outcome."""
        ...


@runtime_checkable
class EmailVerifier(Protocol):
    info: ProviderInfo

    def verify(self, address: str) -> VerificationResult:
        """Check one address once and return Cascade's verdict or a typed failure outcome."""
        ...


@runtime_checkable
class PhoneValidator(Protocol):
    info: ProviderInfo

    def lookup(self, e164: str) -> PhoneLookupResult:
        """Look one E.164 number up once and return its validity and line type."""
        ...
