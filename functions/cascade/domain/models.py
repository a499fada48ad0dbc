"""Pydantic models for what flows through Cascade: requests, normalised inputs, results.

Field names follow the public HTTP contract (v1). Request models reject unknown fields so
that a typo such as ``company_domian`` is an error instead of a silently ignored value.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cascade.domain.countries import parse_country_code
from cascade.domain.money import ZERO, Money, SignedMoney
from cascade.normalise.phones import LineType
from cascade.registries.models import Company, CompanyCandidate, MatchStatus

ProviderName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["hunter"])]
CountryCode = Annotated[str, AfterValidator(parse_country_code), Field(examples=["GB"])]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class RequestedField(StrEnum):
    """A contact field that a request can ask for and that can be billed."""

    EMAIL = "email"
    PHONE = "phone"


class EmailVerdict(StrEnum):
    """Whether a mailbox is known to accept mail.

    ``catch_all``: the domain accepts every address, so the mailbox cannot be proven.
    """

    VALID = "valid"
    CATCH_ALL = "catch_all"
    INVALID = "invalid"
    UNKNOWN = "unknown"
    DISPOSABLE = "disposable"


class EmailFlag(StrEnum):
    ROLE = "role"
    FREE_MAIL = "free_mail"


class PhoneVerdict(StrEnum):
    """Whether a number is valid in its numbering plan; never a claim that it is in service."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class EnrichmentStatus(StrEnum):
    MATCHED = "matched"
    PARTIAL = "partial"
    NOT_FOUND = "not_found"
    SUPPRESSED = "suppressed"


class AttemptOutcome(StrEnum):
    """The outcome of one provider call, in Cascade's vocabulary rather than the vendor's."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    THROTTLED = "throttled"
    TRANSIENT_ERROR = "transient_error"
    TIMEOUT = "timeout"
    AUTH_ERROR = "auth_error"
    QUOTA_EXHAUSTED = "quota_exhausted"
    BAD_RESPONSE = "bad_response"
    SKIPPED_NO_CREDENTIALS = "skipped_no_credentials"
    SKIPPED_DEADLINE = "skipped_deadline"
    SKIPPED_BUDGET = "skipped_budget"


_STRICT_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WaterfallOverrides(BaseModel):
    """Per-request control of the provider cascade; unset values come from the API key's plan."""

    model_config = _STRICT_INPUT

    order: list[ProviderName] | None = Field(
        default=None, description="Providers to try, in this order; others are not called.", max_length=50
    )
    skip: list[ProviderName] = Field(default_factory=list, description="Providers never to call.", max_length=50)
    accept_catch_all: bool = Field(
        default=False,
        description="Accept and bill an email on a catch-all domain, whose mailbox cannot be proven.",
    )
    max_amount: Money | None = Field(
        default=None, description='Maximum this row may be charged, in dollars, such as "0.20".'
    )


class PersonEnrichmentRequest(BaseModel):
    """``POST /v1/people/enrich``.

    Minimum input: a LinkedIn profile URL, or a name (full, or first and last) together
    with a company domain or a company name.
    """

    model_config = _STRICT_INPUT

    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(max_length=100)] | None = None
    full_name: Annotated[str, Field(max_length=200)] | None = None
    company_name: Annotated[str, Field(max_length=200)] | None = None
    company_domain: Annotated[str, Field(max_length=2048, description="A bare domain or any website URL.")] | None = (
        None
    )
    linkedin_url: Annotated[str, Field(max_length=2048)] | None = None
    country: CountryCode | None = None
    fields: list[RequestedField] = Field(default_factory=lambda: [RequestedField.EMAIL], min_length=1, max_length=2)
    waterfall: WaterfallOverrides = Field(default_factory=WaterfallOverrides)
    max_age_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        default=None, description="Accept a stored result verified within this many days; 0 forces a fresh lookup."
    )
    external_id: Annotated[str, Field(max_length=128)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_strings_are_missing(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                key: (None if isinstance(value, str) and not value.strip() else value) for key, value in data.items()
            }
        return data

    @model_validator(mode="after")
    def _check_minimum_input(self) -> PersonEnrichmentRequest:
        if len(set(self.fields)) != len(self.fields):
            raise ValueError('fields lists a value twice; send each of "email" and "phone" at most once')
        has_name = bool(self.full_name) or bool(self.first_name and self.last_name)
        has_company = bool(self.company_domain or self.company_name)
        if not self.linkedin_url and not (has_name and has_company):
            raise ValueError(
                "too little to identify a person: send linkedin_url, or a name (full_name, or first_name and "
                "last_name) together with company_domain or company_name"
            )
        return self


class NormalisedPerson(BaseModel):
    """The canonical form of a person request's identifying fields, as returned in ``person``."""

    model_config = ConfigDict(frozen=True)

    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    company_name: str | None = None
    company_domain: str | None = Field(default=None, description="Registrable domain in ASCII (punycode) form.")
    linkedin_url: str | None = Field(default=None, description="https://www.linkedin.com/in/<slug>")
    country: str | None = None
    # Lower-case ASCII-folded name parts for email patterns; internal, not part of the reply.
    ascii_first: str = Field(default="", exclude=True)
    ascii_middle: str = Field(default="", exclude=True)
    ascii_last: str = Field(default="", exclude=True)


class CompanySummary(BaseModel):
    """The company block of a person result: the company as the input names it, and its registry match.

    ``name``, ``base_name``, ``legal_form`` and ``domain`` come from the input. The other fields
    describe the lookup in the government registries.
    """

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    base_name: str | None = None
    legal_form: str | None = None
    domain: str | None = None
    match: MatchStatus | None = Field(
        default=None,
        description="Outcome of the registry lookup, or null when no lookup ran, as for a suppressed contact.",
    )
    registry: Company | None = Field(
        default=None, description="The registry facts of the company, each with its source, when resolved."
    )
    candidates: list[CompanyCandidate] = Field(
        default_factory=list,
        description="Registry records that may be this company, best first, when the match is ambiguous.",
    )
    notes: list[str] = Field(
        default_factory=list, description="How the lookup went: registries skipped or failed, cached results."
    )


class EmailResult(BaseModel):
    address: str
    verdict: EmailVerdict
    flags: list[EmailFlag] = Field(default_factory=list)
    verified_at: AwareDatetime
    provider: ProviderName
    confidence: Confidence


class PhoneResult(BaseModel):
    e164: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    extension: str | None = None
    line_type: LineType
    verdict: PhoneVerdict
    verified_at: AwareDatetime
    provider: ProviderName
    confidence: Confidence


class ProviderAttempt(BaseModel):
    provider: ProviderName
    outcome: AttemptOutcome
    latency_ms: Annotated[int, Field(ge=0)]
    detail: str | None = Field(default=None, description="Why the call ended this way, without personal data.")


class BillingLine(BaseModel):
    match_id: str
    field: RequestedField
    amount: SignedMoney
    provider: ProviderName
    verdict: str


class Billing(BaseModel):
    billed: bool = False
    amount: SignedMoney = ZERO
    lines: list[BillingLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _amount_is_sum_of_lines(self) -> Billing:
        total = sum((line.amount for line in self.lines), Decimal("0.00"))
        if total != self.amount:
            raise ValueError(f"billing amount {self.amount} differs from the sum of its lines {total}")
        if self.billed != bool(self.lines):
            raise ValueError("billing.billed must be true exactly when there are billing lines")
        return self


class EnrichmentResult(BaseModel):
    """The reply to ``POST /v1/people/enrich`` and ``GET /v1/enrichments/{id}``."""

    id: str
    status: EnrichmentStatus
    person: NormalisedPerson
    email: EmailResult | None = None
    phone: PhoneResult | None = None
    company: CompanySummary | None = None
    attempts: list[ProviderAttempt] = Field(default_factory=list)
    billing: Billing = Field(default_factory=Billing)
    stale: bool = Field(
        default=False,
        description=(
            "True when a registry lists the company as dissolved or closed, so the contact is probably out of "
            "date. Emails and phones are still returned, and verified ones are billed as usual."
        ),
    )
    stale_reason: str | None = Field(
        default=None, description="Why the contact is stale: the company status and the registry that reports it."
    )
    created_at: datetime | None = None
