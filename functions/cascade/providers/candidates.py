"""Turn the addresses and numbers that vendors return into candidates, the same way for every adapter.

An address on a disposable domain is always DISPOSABLE, whatever the vendor's status. A number's
line type comes from its numbering plan, and the vendor's line type settles it only where the plan
leaves it open.
"""

from __future__ import annotations

from cascade.domain.models import EmailFlag, EmailVerdict, PhoneVerdict
from cascade.normalise.emails import Email, normalise_email
from cascade.normalise.phones import LineType, normalise_phone
from cascade.providers.base import EmailCandidate, PhoneCandidate

# Line types that the numbering plan leaves open, so a vendor's word can settle them.
_PLAN_UNDECIDED = frozenset({LineType.FIXED_LINE_OR_MOBILE, LineType.UNKNOWN})


def address_flags(email: Email) -> frozenset[EmailFlag]:
    """Return the flags that the address itself shows: a role mailbox and a free-mail domain."""
    flags: set[EmailFlag] = set()
    if email.is_role:
        flags.add(EmailFlag.ROLE)
    if email.is_free_mail:
        flags.add(EmailFlag.FREE_MAIL)
    return frozenset(flags)


def email_candidate(
    address: str,
    vendor_status: str | None,
    verdict: EmailVerdict,
    confidence: float,
    *,
    vendor_free_mail: bool = False,
) -> EmailCandidate | None:
    """Normalise a vendor's address into a candidate, or return ``None`` when it is not a valid address.

    A mailbox on a disposable domain is never a work address worth billing, so its verdict is
    DISPOSABLE whatever the vendor's status. ``vendor_free_mail`` adds the FREE_MAIL flag, for a
    vendor that marks free-mail domains that Cascade's own list does not contain.
    """
    email = normalise_email(address)
    if email.address is None:
        return None
    flags = address_flags(email)
    if vendor_free_mail:
        flags |= {EmailFlag.FREE_MAIL}
    return EmailCandidate(
        address=email.address,
        verdict=EmailVerdict.DISPOSABLE if email.is_disposable else verdict,
        vendor_status=vendor_status,
        confidence=confidence,
        flags=flags,
    )


def phone_candidate(
    number: str, vendor_type: str | None, evidence: LineType | None, country: str | None, confidence: float
) -> PhoneCandidate:
    """Normalise a vendor's number into a candidate with its E.164 form, or its trimmed text when it is not valid.

    ``evidence`` is the line type that the vendor reports, if any. It replaces the numbering plan's
    type only where the plan leaves the type open.
    """
    phone = normalise_phone(number, country)
    if phone.e164 is None or not phone.is_valid:
        # Without a country and a leading +, the number was read in the default region, so the
        # rejection does not show that the number is invalid in its own plan.
        judged = bool(country) or number.lstrip().startswith(("+", "00"))
        return PhoneCandidate(
            number=number.strip(),
            vendor_type=vendor_type,
            confidence=confidence,
            verdict=PhoneVerdict.INVALID if judged else PhoneVerdict.UNKNOWN,
        )
    line_type = phone.line_type
    if evidence is not None and line_type in _PLAN_UNDECIDED:
        line_type = evidence
    return PhoneCandidate(
        number=phone.e164,
        vendor_type=vendor_type,
        confidence=confidence,
        line_type=line_type,
        verdict=PhoneVerdict.VALID,
    )
