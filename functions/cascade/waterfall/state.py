"""The waterfall's execution state: the JSON document that every state of the state machine reads and returns.

The API starts an execution with ``request`` and ``context`` (``WaterfallInput``). The plan step
adds everything else, and each provider step returns the whole updated document. The state
machine itself reads only ``plan.next``, ``done`` and ``wait_seconds``, and a ``Catch`` writes
``error``. ``WaterfallState.to_json`` and ``from_json`` round-trip the document: parsing what
``to_json`` wrote and writing it again gives the same JSON.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
    model_validator,
)

from cascade.domain.billing import request_reference
from cascade.domain.models import (
    CompanySummary,
    Confidence,
    EmailFlag,
    EmailVerdict,
    EnrichmentResult,
    NormalisedPerson,
    PersonEnrichmentRequest,
    PhoneVerdict,
    ProviderAttempt,
    ProviderName,
    RequestedField,
)
from cascade.domain.plans import KeyPlan
from cascade.normalise.phones import LineType
from cascade.storage.freshness import FreshValue

_STRICT = ConfigDict(extra="forbid")
NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]


class ValueSource(StrEnum):
    """Origin of a found value: a provider in this run, or the freshness store (never billed again)."""

    PROVIDER = "provider"
    FRESHNESS = "freshness"


class EnrichmentContext(BaseModel):
    """Origin of an enrichment: the API key, the request or bulk row, and the key's plan."""

    model_config = _STRICT

    key_id: NonEmpty
    account_id: NonEmpty
    enrichment_id: NonEmpty
    request_id: NonEmpty | None = None
    job_id: NonEmpty | None = None
    row: Annotated[int, Field(ge=0)] | None = None
    received_at: AwareDatetime
    # True for the HTTP API, whose reply must arrive before API Gateway's 29 s limit.
    sync: bool
    plan: KeyPlan = Field(default_factory=KeyPlan)

    @model_validator(mode="after")
    def _names_one_request(self) -> EnrichmentContext:
        # The match id, and so the no-double-charge guarantee, is built from this reference.
        request_reference(request_id=self.request_id, job_id=self.job_id, row=self.row)
        return self

    @property
    def reference(self) -> str:
        """The request part of every match id of this enrichment."""
        return request_reference(request_id=self.request_id, job_id=self.job_id, row=self.row)


class PlanState(BaseModel):
    """The providers still to call and the limits of the run.

    ``remaining`` lists the providers not yet called, in order, and ``next`` is its first
    element until the run is done. ``fields`` are the fields this run looks for, and
    ``unaffordable`` the requested fields left out because their price exceeds what remained
    of ``waterfall.max_amount``.
    """

    model_config = _STRICT

    remaining: list[ProviderName] = Field(default_factory=list)
    next: ProviderName | None = None
    deadline_ms: Annotated[int, Field(ge=0, description="Epoch milliseconds after which no provider is called.")]
    waits: dict[ProviderName, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    fields: list[RequestedField] = Field(default_factory=list)
    unaffordable: list[RequestedField] = Field(default_factory=list)


class FoundEmail(BaseModel):
    """The best email so far; ``verified_at`` is when its verdict was established."""

    model_config = _STRICT

    address: str
    verdict: EmailVerdict
    flags: list[EmailFlag] = Field(default_factory=list)
    provider: ProviderName
    confidence: Confidence
    verified_at: AwareDatetime
    source: ValueSource = ValueSource.PROVIDER


class FoundPhone(BaseModel):
    """The best phone number so far, in E.164 form."""

    model_config = _STRICT

    e164: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    extension: str | None = None
    line_type: LineType = LineType.UNKNOWN
    verdict: PhoneVerdict
    provider: ProviderName
    confidence: Confidence
    verified_at: AwareDatetime
    source: ValueSource = ValueSource.PROVIDER


class Found(BaseModel):
    model_config = _STRICT

    email: FoundEmail | None = None
    phone: FoundPhone | None = None

    def is_empty(self) -> bool:
        return self.email is None and self.phone is None


class StepError(BaseModel):
    """The error output that a ``Catch`` with ``ResultPath: "$.error"`` writes: the error name and its cause."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class WaterfallInput(BaseModel):
    """The execution input that the API or the bulk worker sends."""

    model_config = _STRICT

    request: PersonEnrichmentRequest
    context: EnrichmentContext


class WaterfallState(BaseModel):
    """The whole execution state, as returned by the plan, step and failure functions."""

    model_config = _STRICT

    request: PersonEnrichmentRequest
    context: EnrichmentContext
    plan: PlanState
    person: NormalisedPerson
    company: CompanySummary | None = None
    found: Found = Field(default_factory=Found)
    attempts: list[ProviderAttempt] = Field(default_factory=list)
    suppressed: bool = False
    done: bool = False
    wait_seconds: Annotated[int, Field(ge=0)] = 0
    error: StepError | None = None

    @classmethod
    def from_json(cls, document: Any) -> WaterfallState:
        return cls.model_validate(document)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @field_serializer("person")
    def _person_with_ascii_parts(self, person: NormalisedPerson) -> dict[str, Any]:
        # NormalisedPerson leaves its ASCII name parts out of replies; the state keeps them,
        # because the pattern source builds addresses from them.
        document = person.model_dump(mode="json")
        for name, info in NormalisedPerson.model_fields.items():
            if info.exclude:
                document[name] = getattr(person, name)
        return document

    @model_serializer(mode="wrap")
    def _leave_out_missing_error(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The state machine's Choice rules test "$.error" with IsPresent, so no error means no key.
        document: dict[str, Any] = handler(self)
        if self.error is None:
            document.pop("error", None)
        return document

    @property
    def accepts_catch_all(self) -> bool:
        """Whether a catch-all email counts as verified, because the request or the key's plan opted in."""
        return self.request.waterfall.accept_catch_all or self.context.plan.accept_catch_all

    def is_verified(self, field: RequestedField) -> bool:
        """Return whether the found value of ``field`` meets the verdict this request requires."""
        if field is RequestedField.EMAIL:
            email = self.found.email
            if email is None:
                return False
            return email.verdict is EmailVerdict.VALID or (
                email.verdict is EmailVerdict.CATCH_ALL and self.accepts_catch_all
            )
        phone = self.found.phone
        return phone is not None and phone.verdict is PhoneVerdict.VALID

    def missing_fields(self) -> list[RequestedField]:
        """Return the fields this run looks for that are not verified yet, in request order."""
        return [field for field in self.plan.fields if not self.is_verified(field)]


class StepEvent(BaseModel):
    """The input of a provider Task: the provider to call and the whole state."""

    model_config = _STRICT

    provider: ProviderName
    state: WaterfallState


class SettleOutput(BaseModel):
    """The execution output: the enrichment result, and whether every provider call failed."""

    model_config = _STRICT

    result: EnrichmentResult
    providers_unavailable: bool


# Field-specific details kept in a stored value's ``extra`` map, all as text.
_EXTRA_FLAGS = "flags"
_EXTRA_CONFIDENCE = "confidence"
_EXTRA_LINE_TYPE = "line_type"
_EXTRA_EXTENSION = "extension"
# Confidence of a stored value written without one.
_STORED_CONFIDENCE = 1.0


def fresh_value(found: FoundEmail | FoundPhone, *, match_id: str | None) -> FreshValue:
    """Describe a found value for the freshness store; ``match_id`` is the charge that billed it."""
    if isinstance(found, FoundEmail):
        extra = {_EXTRA_CONFIDENCE: repr(found.confidence), _EXTRA_FLAGS: ",".join(flag.value for flag in found.flags)}
        return FreshValue(
            field=RequestedField.EMAIL,
            value=found.address,
            verdict=found.verdict.value,
            provider=found.provider,
            verified_at=found.verified_at,
            match_id=match_id,
            extra=extra,
        )
    extra = {_EXTRA_CONFIDENCE: repr(found.confidence), _EXTRA_LINE_TYPE: found.line_type.value}
    if found.extension is not None:
        extra[_EXTRA_EXTENSION] = found.extension
    return FreshValue(
        field=RequestedField.PHONE,
        value=found.e164,
        verdict=found.verdict.value,
        provider=found.provider,
        verified_at=found.verified_at,
        match_id=match_id,
        extra=extra,
    )


def found_from_fresh(value: FreshValue) -> FoundEmail | FoundPhone:
    """Rebuild a found value, marked as coming from the freshness store, from what ``fresh_value`` stored.

    Raises ``ValueError`` (a pydantic ``ValidationError``) when the stored item does not describe a valid value.
    """
    confidence = float(value.extra.get(_EXTRA_CONFIDENCE, _STORED_CONFIDENCE))
    if value.field is RequestedField.EMAIL:
        flags = [flag for flag in value.extra.get(_EXTRA_FLAGS, "").split(",") if flag]
        return FoundEmail.model_validate(
            {
                "address": value.value,
                "verdict": value.verdict,
                "flags": flags,
                "provider": value.provider,
                "confidence": confidence,
                "verified_at": value.verified_at,
                "source": ValueSource.FRESHNESS,
            }
        )
    return FoundPhone.model_validate(
        {
            "e164": value.value,
            "extension": value.extra.get(_EXTRA_EXTENSION),
            "line_type": value.extra.get(_EXTRA_LINE_TYPE, LineType.UNKNOWN.value),
            "verdict": value.verdict,
            "provider": value.provider,
            "confidence": confidence,
            "verified_at": value.verified_at,
            "source": ValueSource.FRESHNESS,
        }
    )
