"""Combine the numbering plan and an optional phone validator into one verdict per number.

The verdict states whether the number is valid, never whether it is in service. The numbering
plan gives a line type for every valid number, but in shared plans such as the US and Canada it
is ``fixed_line_or_mobile``, which stays as it is: only a validator with carrier data can return
``mobile`` for such a number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cascade.domain.models import AttemptOutcome, PhoneVerdict
from cascade.normalise.notes import Note, NoteKind
from cascade.normalise.phones import LineType, Phone, normalise_phone
from cascade.providers.base import PhoneLookupResult, PhoneValidator
from cascade.verification.email import VerifierAttempt

NUMBERING_PLAN = "numbering_plan"


@dataclass(frozen=True, slots=True)
class PhoneVerification:
    """The combined verdict about one phone number.

    ``e164``, ``extension`` and ``country`` are ``None`` when normalisation rejects the input.
    ``line_type_source`` is ``"numbering_plan"`` or the name of the validator whose line type
    was used, and ``carrier`` comes only from a validator. ``detail`` explains why the verdict and
    line type are what they are and contains no number. ``notes`` are the phone normaliser's
    notes, and ``attempts`` contains the validator call when one was made.
    """

    e164: str | None
    extension: str | None
    country: str | None
    verdict: PhoneVerdict
    line_type: LineType
    line_type_source: str
    carrier: str | None
    detail: str | None
    notes: tuple[Note, ...]
    attempts: tuple[VerifierAttempt, ...] = ()


def verify_phone(
    number: str, *, country: str | None, default_region: str, validator: PhoneValidator | None = None
) -> PhoneVerification:
    """Normalise one number and, when a validator is set, call it once with the E.164 form.

    A validator result with outcome ``found`` replaces the numbering plan's verdict and line type,
    except where the validator returns ``unknown`` for either, which keeps the plan's value.
    A failed validator call keeps the plan's verdict and notes that in ``detail``. A number that
    normalisation rejects is ``invalid`` and reaches no validator. Raises ``ValueError`` only for
    a ``default_region`` without a numbering plan, as ``normalise_phone`` does.
    """
    phone = normalise_phone(number, country, default_region)
    if phone.e164 is None:
        rejection = next((note for note in phone.notes if note.kind is NoteKind.REJECTED), None)
        code = rejection.code if rejection is not None else "invalid_number"
        return PhoneVerification(
            e164=None,
            extension=None,
            country=None,
            verdict=PhoneVerdict.INVALID,
            line_type=LineType.UNKNOWN,
            line_type_source=NUMBERING_PLAN,
            carrier=None,
            detail=f"the number failed normalisation ({code})",
            notes=phone.notes,
        )

    planned = _from_numbering_plan(phone)
    if validator is None:
        return planned

    result = validator.lookup(phone.e164)
    name = validator.info.name
    attempts = (VerifierAttempt(name, result.outcome, result.latency_ms),)
    if result.outcome is not AttemptOutcome.FOUND:
        detail = f"the validator {name} returned {result.outcome.value}, so the numbering plan's answer stands"
        if result.detail:
            detail += f" ({result.detail})"
        return replace(planned, detail=detail, attempts=attempts)
    return _from_validator(phone, planned, result, name, attempts)


def _from_numbering_plan(phone: Phone) -> PhoneVerification:
    detail = None
    if phone.line_type is LineType.FIXED_LINE_OR_MOBILE:
        detail = (
            "the numbering plan assigns this range to both fixed lines and mobiles, so the line type "
            "stays fixed_line_or_mobile"
        )
    return PhoneVerification(
        e164=phone.e164,
        extension=phone.extension,
        country=phone.country,
        verdict=PhoneVerdict.VALID if phone.is_valid else PhoneVerdict.INVALID,
        line_type=phone.line_type,
        line_type_source=NUMBERING_PLAN,
        carrier=None,
        detail=detail,
        notes=phone.notes,
    )


def _from_validator(
    phone: Phone,
    planned: PhoneVerification,
    result: PhoneLookupResult,
    name: str,
    attempts: tuple[VerifierAttempt, ...],
) -> PhoneVerification:
    if result.verdict is PhoneVerdict.UNKNOWN:
        verdict, verdict_source = planned.verdict, NUMBERING_PLAN
    else:
        verdict, verdict_source = result.verdict, name
    if result.line_type is LineType.UNKNOWN:
        line_type, source = planned.line_type, NUMBERING_PLAN
    else:
        line_type, source = result.line_type, name
    detail = f"the verdict comes from {verdict_source} and the line type from {source}"
    return PhoneVerification(
        e164=phone.e164,
        extension=phone.extension,
        country=phone.country,
        verdict=verdict,
        line_type=line_type,
        line_type_source=source,
        carrier=result.carrier,
        detail=detail,
        notes=phone.notes,
        attempts=attempts,
    )
