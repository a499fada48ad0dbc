"""Combine syntax, disposable-domain, MX and verifier checks into one verdict per email address.

The checks run from cheapest to most expensive and stop as soon as one decides. An address that
fails syntax, uses a disposable domain or has a domain without mail servers never reaches a
verifier. The verifiers are called one at a time, in order, until one returns a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict
from cascade.normalise.emails import Email, normalise_email
from cascade.normalise.notes import Note, NoteKind
from cascade.providers.base import EmailVerifier
from cascade.verification.mx import MxAnswer, MxResolver, MxStatus


class VerifierAttempt(NamedTuple):
    """One verifier call: the provider name, how the call ended and how long it took."""

    verifier: str
    outcome: AttemptOutcome
    latency_ms: int


@dataclass(frozen=True, slots=True)
class EmailVerification:
    """The combined verdict about one email address.

    ``address`` is the normalised address, or the input as supplied when its syntax is rejected,
    in which case ``ascii_address`` is ``None``. ``ascii_address`` is also ``None`` when the local
    part needs SMTPUTF8. ``verifier`` names the provider whose result set the verdict and is
    ``None`` when a local check decided or no verifier returned a verdict. ``detail`` explains why the verdict is
    what it is and contains no address. ``notes`` are the email normaliser's notes.
    """

    address: str
    ascii_address: str | None
    verdict: EmailVerdict
    flags: frozenset[EmailFlag]
    disposable: bool
    mx: MxAnswer | None
    verifier: str | None
    vendor_status: str | None
    attempts: tuple[VerifierAttempt, ...]
    detail: str | None
    notes: tuple[Note, ...] = ()


def verify_email(address: str, *, mx_resolver: MxResolver, verifiers: Sequence[EmailVerifier]) -> EmailVerification:
    """Check one address: syntax, disposable domain, MX records, then each verifier in order.

    The first verifier whose call ends with outcome ``found`` decides the verdict, even when
    that verdict is ``unknown``. Any other outcome (throttled, timeout, auth or quota errors, a
    bad response) moves on to the next verifier. When the MX lookup itself fails, the verifiers
    still run, because a hosted verifier does its own lookup. Verifier exceptions propagate,
    because the ``EmailVerifier`` contract reports failures as outcomes.
    """
    email = normalise_email(address)
    if email.address is None or email.ascii_domain is None:
        rejection = next((note for note in email.notes if note.kind is NoteKind.REJECTED), None)
        code = rejection.code if rejection is not None else "invalid_email"
        return _local_verdict(
            address.strip(), email, EmailVerdict.INVALID, f"the address failed the syntax check ({code})"
        )

    if email.is_disposable:
        return _local_verdict(
            email.address, email, EmailVerdict.DISPOSABLE, "the domain belongs to a disposable-address service"
        )

    mx = mx_resolver.resolve_mx(email.ascii_domain)
    if mx.status in (MxStatus.NO_DOMAIN, MxStatus.NO_MX):
        reason = "does not exist" if mx.status is MxStatus.NO_DOMAIN else "accepts no mail"
        return _local_verdict(email.address, email, EmailVerdict.INVALID, f"the domain {reason}: {mx.detail}", mx=mx)

    return _ask_verifiers(email, email.address, mx, verifiers)


def _ask_verifiers(email: Email, address: str, mx: MxAnswer, verifiers: Sequence[EmailVerifier]) -> EmailVerification:
    # Hosted verifiers take the Unicode form only when the local part has no ASCII form.
    submitted = email.ascii_address or address
    attempts: list[VerifierAttempt] = []
    failures: list[str] = []
    for verifier in verifiers:
        result = verifier.verify(submitted)
        name = verifier.info.name
        attempts.append(VerifierAttempt(name, result.outcome, result.latency_ms))
        if result.outcome is not AttemptOutcome.FOUND:
            failures.append(f"{name} {result.outcome.value}")
            continue
        return EmailVerification(
            address=address,
            ascii_address=email.ascii_address,
            verdict=result.verdict,
            flags=email_flags(email) | result.flags,
            disposable=result.verdict is EmailVerdict.DISPOSABLE,
            mx=mx,
            verifier=name,
            vendor_status=result.vendor_status,
            attempts=tuple(attempts),
            detail=result.detail,
            notes=email.notes,
        )

    if failures:
        detail = "no verifier returned a verdict: " + ", ".join(failures)
    else:
        detail = "no verifier is configured, so only syntax and MX records were checked"
    if mx.status is MxStatus.ERROR:
        detail += f"; the MX lookup failed too: {mx.detail}"
    return EmailVerification(
        address=address,
        ascii_address=email.ascii_address,
        verdict=EmailVerdict.UNKNOWN,
        flags=email_flags(email),
        disposable=False,
        mx=mx,
        verifier=None,
        vendor_status=None,
        attempts=tuple(attempts),
        detail=detail,
        notes=email.notes,
    )


def _local_verdict(
    address: str, email: Email, verdict: EmailVerdict, detail: str, *, mx: MxAnswer | None = None
) -> EmailVerification:
    return EmailVerification(
        address=address,
        ascii_address=email.ascii_address,
        verdict=verdict,
        flags=email_flags(email),
        disposable=email.is_disposable,
        mx=mx,
        verifier=None,
        vendor_status=None,
        attempts=(),
        detail=detail,
        notes=email.notes,
    )


def email_flags(email: Email) -> frozenset[EmailFlag]:
    """Return the flags that the address itself shows: a role mailbox, a free-mail domain."""
    flags: set[EmailFlag] = set()
    if email.is_role:
        flags.add(EmailFlag.ROLE)
    if email.is_free_mail:
        flags.add(EmailFlag.FREE_MAIL)
    return frozenset(flags)
