"""Cascade's own email finder: build likely work addresses from name patterns and prove one with a verifier.

The source makes no HTTP request of its own. It first sends a random address on the company domain
to a verifier. A domain that accepts that address accepts every address, so no candidate can be
proven there, and the most common pattern is returned as ``catch_all`` with low confidence. On any
other domain the candidates are verified in order until one is valid.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.domains import is_disposable_domain, is_free_mail_domain
from cascade.normalise.emails import normalise_email
from cascade.providers.base import (
    EmailCandidate,
    EmailVerifier,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    ProviderResult,
    RateLimit,
    VerificationResult,
)
from cascade.providers.candidates import address_flags

INFO = ProviderInfo(
    name="pattern",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL}),
    # Free of its own: each verification is billed to the verifier that made it.
    cost=ProviderCost(per_call=Decimal("0")),
    # No vendor budget of its own; the verifiers it calls enforce theirs.
    rate_limit=RateLimit(requests=1000, per_seconds=1.0),
    api_version="1",
    # No HTTP endpoint: the source runs in process and reaches the network only through its verifiers.
    default_base_url="",
)

# Local-part formats, most common first. The order is an estimate of how often each format occurs in
# B2B mail, ranked by hand from email-finder vendors' published pattern statistics; Cascade has not
# measured it. Reorder it once Cascade's own verified finds give counts.
# Placeholders: {first} and {last} are whole name parts, {f} and {l} their initials.
PATTERNS: tuple[str, ...] = (
    "{first}.{last}",
    "{f}{last}",
    "{first}",
    "{first}{last}",
    "{first}_{last}",
    "{f}.{last}",
    "{first}{l}",
    "{last}.{first}",
    "{last}{f}",
    "{last}",
)

VALID_CONFIDENCE = 0.85
# A catch-all domain accepts every address, so the guess is only as good as the pattern ranking.
CATCH_ALL_CONFIDENCE = 0.3

_FIRST_NAME_FIELDS = frozenset({"first", "f"})
_LAST_NAME_FIELDS = frozenset({"last", "l"})
_RETRYABLE = frozenset({AttemptOutcome.THROTTLED, AttemptOutcome.TRANSIENT_ERROR, AttemptOutcome.TIMEOUT})
_NOT_IN_LOCAL_PART = re.compile(r"[^a-z0-9]+")
_PROBE_BYTES = 8


@dataclass(frozen=True, slots=True)
class _Candidates:
    addresses: tuple[str, ...]
    # Reasons that patterns were skipped, such as "first name missing", never containing the name itself.
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Answer:
    verifier: str
    result: VerificationResult


class PatternFinder:
    """Finds a work address by verifying name patterns on the person's company domain."""

    info = INFO

    def __init__(self, verifiers: Sequence[EmailVerifier], *, max_candidates: int = 6) -> None:
        """Use ``verifiers`` in order of preference and verify at most ``max_candidates`` patterns per person."""
        if max_candidates < 1:
            raise ValueError(f"max_candidates is {max_candidates}; send 1 or more")
        self._verifiers = tuple(verifiers)
        self._max_candidates = max_candidates

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        """Return the first candidate a verifier proves valid, the top candidate on a catch-all domain, or why not.

        Each address goes to the first verifier that returns a verdict. A verifier that fails (throttled,
        timed out, unauthorised, out of credits or any other failure) is not asked again during
        this call. When every verifier fails, the result carries one of the failures, preferring one worth
        retrying (throttled, transient, timeout) over a permanent one.
        """
        if RequestedField.EMAIL not in fields:
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="pattern finds email addresses only")
        domain = (person.company_domain or "").strip().lower()
        if not domain:
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="no company_domain to build addresses on")
        if is_free_mail_domain(domain):
            return ProviderResult(
                AttemptOutcome.NOT_FOUND,
                detail="company_domain is a free-mail provider, where a name pattern does not identify one person",
            )
        if is_disposable_domain(domain):
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="company_domain is a disposable mail service")

        candidates = _build_candidates(person, domain, self._max_candidates)
        if not candidates.addresses:
            return ProviderResult(
                AttemptOutcome.NOT_FOUND, detail=_join("no name parts to build addresses from", *candidates.notes)
            )
        if not self._verifiers:
            return ProviderResult(AttemptOutcome.SKIPPED_NO_CREDENTIALS, detail="no email verifier is configured")
        return _Search(self._verifiers, candidates).run(domain)


class _Search:
    """One find call: the verifiers still usable, the failures seen and the time spent."""

    def __init__(self, verifiers: Sequence[EmailVerifier], candidates: _Candidates) -> None:
        self._usable = list(verifiers)
        self._candidates = candidates
        self._failures: list[_Answer] = []
        self._latency_ms = 0

    def run(self, domain: str) -> ProviderResult:
        probe = self._verify(f"{secrets.token_hex(_PROBE_BYTES)}@{domain}")
        if probe is None:
            return self._no_answer()
        if probe.result.verdict in (EmailVerdict.VALID, EmailVerdict.CATCH_ALL):
            return self._catch_all(probe, "a random address was accepted")
        if probe.result.verdict is EmailVerdict.DISPOSABLE:
            return self._result(AttemptOutcome.NOT_FOUND, f"{probe.verifier} reports a disposable mail domain")

        invalid = 0
        unknown = 0
        for address in self._candidates.addresses:
            answer = self._verify(address)
            if answer is None:
                return self._no_answer()
            verdict = answer.result.verdict
            if verdict is EmailVerdict.VALID:
                return self._found(address, answer)
            if verdict is EmailVerdict.CATCH_ALL:
                return self._catch_all(answer, "a candidate was reported catch_all")
            if verdict is EmailVerdict.UNKNOWN:
                unknown += 1
            else:
                invalid += 1

        if unknown:
            detail = f"no candidate verified: {unknown} unknown, {invalid} invalid"
        else:
            detail = f"all {invalid} candidates are invalid"
        return self._result(AttemptOutcome.NOT_FOUND, detail)

    def _verify(self, address: str) -> _Answer | None:
        """Send ``address`` to the usable verifiers in order; return the first verdict, or ``None`` if all fail."""
        for verifier in list(self._usable):
            result = verifier.verify(address)
            self._latency_ms += result.latency_ms
            answer = _Answer(verifier.info.name, result)
            if result.outcome is AttemptOutcome.FOUND:
                return answer
            self._failures.append(answer)
            self._usable.remove(verifier)
        return None

    def _found(self, address: str, answer: _Answer) -> ProviderResult:
        candidate = EmailCandidate(
            address=address,
            verdict=EmailVerdict.VALID,
            vendor_status=answer.result.vendor_status,
            confidence=VALID_CONFIDENCE,
            flags=answer.result.flags,
        )
        return self._result(AttemptOutcome.FOUND, f"verified by {answer.verifier}", candidate)

    def _catch_all(self, answer: _Answer, reason: str) -> ProviderResult:
        top = self._candidates.addresses[0]
        candidate = EmailCandidate(
            address=top,
            verdict=EmailVerdict.CATCH_ALL,
            vendor_status=answer.result.vendor_status,
            confidence=CATCH_ALL_CONFIDENCE,
            flags=address_flags(normalise_email(top)),
        )
        detail = f"catch-all domain ({reason} by {answer.verifier}); returned the most common pattern unproven"
        return self._result(AttemptOutcome.FOUND, detail, candidate)

    def _no_answer(self) -> ProviderResult:
        chosen = next((item for item in self._failures if item.result.outcome in _RETRYABLE), None)
        if chosen is None:
            chosen = self._failures[0]
        names = ", ".join(f"{item.verifier} {item.result.outcome.value}" for item in self._failures)
        return ProviderResult(
            outcome=chosen.result.outcome,
            retry_after_seconds=chosen.result.retry_after_seconds,
            http_status=chosen.result.http_status,
            detail=_join(f"no verifier answered ({names})", *self._candidates.notes),
            latency_ms=self._latency_ms,
        )

    def _result(self, outcome: AttemptOutcome, detail: str, candidate: EmailCandidate | None = None) -> ProviderResult:
        return ProviderResult(
            outcome=outcome,
            emails=(candidate,) if candidate is not None else (),
            detail=_join(detail, *self._candidates.notes),
            latency_ms=self._latency_ms,
        )


def _build_candidates(person: NormalisedPerson, domain: str, max_candidates: int) -> _Candidates:
    """Fill each pattern from the ASCII name parts, skipping patterns whose name part is missing."""
    first = _local_part_token(person.ascii_first)
    last = _local_part_token(person.ascii_last)
    # Middle names are not used: none of the listed patterns contains one.
    values = {"first": first, "f": first[:1], "last": last, "l": last[:1]}
    notes: list[str] = []
    if not first:
        notes.append("first name missing")
    if not last:
        notes.append("last name missing")

    addresses: list[str] = []
    for pattern in PATTERNS:
        needed = _placeholders(pattern)
        if (needed & _FIRST_NAME_FIELDS and not first) or (needed & _LAST_NAME_FIELDS and not last):
            continue
        address = f"{pattern.format(**values)}@{domain}"
        if address in addresses or normalise_email(address).address is None:
            continue
        addresses.append(address)
        if len(addresses) == max_candidates:
            break
    return _Candidates(tuple(addresses), tuple(notes))


def _local_part_token(name_part: str) -> str:
    # The name normaliser already folds parts to [a-z0-9] ("O'Neil" -> "oneil", "Jean-Luc" -> "jeanluc");
    # this repeats the fold for a NormalisedPerson built by other code.
    return _NOT_IN_LOCAL_PART.sub("", name_part.lower())


def _placeholders(pattern: str) -> frozenset[str]:
    return frozenset(field for _, field, _, _ in string.Formatter().parse(pattern) if field)


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
