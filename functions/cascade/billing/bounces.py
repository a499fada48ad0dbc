"""Bounce reports: re-verify a billed email and refund its charge once if the address is now invalid.

A customer reports a hard bounce by match id. The charge must be an email charge of the calling
key, else the report gets the same not-found error as an unknown id. The stored result supplies
the address, which the configured verifiers check again, as the waterfall does. Only an
``invalid`` verdict refunds. A ``valid`` address may have bounced for a passing reason (a full
mailbox, greylisting), and a ``catch_all`` or ``unknown`` verdict proves nothing.

A refund is the ledger's refund line ``refund-<match id>``, written at most once, so repeated and
concurrent reports refund once. After a refund the address is marked bounced in the freshness
store, so it is not served again, and the bounce is counted against the provider that found it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from cascade.billing.errors import MatchNotFoundError
from cascade.billing.exports import line_amount
from cascade.domain.billing import LedgerLine, LineKind, refund_line_id
from cascade.domain.models import (
    EmailVerdict,
    EnrichmentResult,
    NormalisedPerson,
    PersonEnrichmentRequest,
    RequestedField,
)
from cascade.domain.money import ZERO, Money
from cascade.normalise.person import normalise_person_request
from cascade.observability import get_logger
from cascade.storage.dynamo import RetryableStorageError
from cascade.storage.freshness import contact_identity
from cascade.storage.ledger import ChargeOutcome
from cascade.verification.email import EmailVerification

_MATCH_ID = re.compile(r"mat_[0-9a-f]{32}")
_REFUND_ATTEMPTS = 3
REFUND_REASON = "hard bounce reported by the customer; the address re-verified as invalid"


class BounceDecision(StrEnum):
    """The outcome of a bounce report for the charge."""

    REFUNDED = "refunded"
    ALREADY_REFUNDED = "already_refunded"
    NOT_REFUNDED = "not_refunded"


class BounceReply(BaseModel):
    """The outcome of a bounce report: the decision, the re-verification verdict and the reason."""

    match_id: str = Field(examples=["mat_0123456789abcdef0123456789abcdef"])
    decision: BounceDecision
    verdict: EmailVerdict | None = Field(
        default=None, description="The verdict of the re-verification; null when no re-verification ran."
    )
    reason: str
    refunded_amount: Money = Field(default=ZERO, description="The amount that this report refunded.")
    refund_line_id: str | None = Field(default=None, description="The ledger's refund line, once refunded.")


class BounceLedger(Protocol):
    """The part of ``LedgerRepository`` that bounce reports use."""

    def get(self, line_id: str) -> LedgerLine | None: ...

    def refund(self, match_id: str, *, refunded_at: datetime, reason: str) -> ChargeOutcome: ...


class StoredResults(Protocol):
    """The part of ``EnrichmentRepository`` that bounce reports use."""

    def get(self, enrichment_id: str, key_id: str) -> EnrichmentResult | None: ...


class BouncedValues(Protocol):
    """The part of ``FreshnessStore`` that bounce reports use."""

    def mark_bounced(self, key_id: str, identity: str, field: RequestedField, value: str) -> bool: ...


class BounceCounters(Protocol):
    """The part of ``BillingItems`` that bounce reports use."""

    def record_bounce(self, provider: str, month: str) -> None: ...


@dataclass(frozen=True, slots=True)
class BounceReports:
    """Handles bounce reports. ``verify`` re-verifies one address with the configured verifiers."""

    ledger: BounceLedger
    results: StoredResults
    freshness: BouncedValues
    counters: BounceCounters
    verify: Callable[[str], EmailVerification]
    clock: Callable[[], datetime]

    def report(self, key_id: str, match_id: str) -> BounceReply:
        """Re-verify the email of ``match_id`` and refund its charge if the address is now invalid.

        Raises ``MatchNotFoundError`` unless ``match_id`` is an email charge of ``key_id``, and the
        storage errors of the ledger. A storage error after the refund leaves the refund written, and
        a repeated report then returns ``already_refunded``.
        """
        charge = self._charge(key_id, match_id)
        logger = get_logger()
        result = self.results.get(charge.enrichment_id, key_id)
        address = result.email.address if result is not None and result.email is not None else None
        refund = self.ledger.get(refund_line_id(match_id))
        if refund is not None:
            # Marking again is harmless, and it completes a report that stopped right after its refund.
            if result is not None and address is not None:
                self._hide_value(key_id, result, address)
            return _already_refunded(charge, refund)

        if result is None or address is None:
            logger.info("bounce not refunded", match_id=match_id, reason="result_missing")
            return BounceReply(
                match_id=match_id,
                decision=BounceDecision.NOT_REFUNDED,
                reason="the matched address is no longer stored (the result expired or was erased), so it cannot "
                "be re-verified; the charge stands",
            )

        checked = self.verify(address)
        if checked.verdict is not EmailVerdict.INVALID:
            logger.info(
                "bounce not refunded", match_id=match_id, verdict=checked.verdict.value, verifier=checked.verifier
            )
            return BounceReply(
                match_id=match_id,
                decision=BounceDecision.NOT_REFUNDED,
                verdict=checked.verdict,
                reason=_kept_reason(checked),
            )

        outcome = self._refund(match_id)
        if outcome is ChargeOutcome.DUPLICATE:
            # A concurrent report wrote the refund first and does the follow-up work itself.
            written = self.ledger.get(refund_line_id(match_id))
            if written is None:
                raise RuntimeError(f"the ledger reported refund {refund_line_id(match_id)} as written but has no line")
            return _already_refunded(charge, written)

        # NOTE: the bounce count is not written in the refund's transaction. A crash between the two
        # loses this count, and a repeated report does not add it because it finds the refund.
        self.counters.record_bounce(charge.provider, self.clock().strftime("%Y-%m"))
        hidden = self._hide_value(key_id, result, address)
        logger.info(
            "bounce refunded",
            match_id=match_id,
            provider=charge.provider,
            verifier=checked.verifier,
            freshness_marked=hidden,
        )
        return BounceReply(
            match_id=match_id,
            decision=BounceDecision.REFUNDED,
            verdict=checked.verdict,
            reason=f"the address re-verified as invalid ({checked.detail or 'no detail'}); the charge is refunded",
            refunded_amount=line_amount(charge.amount_micros),
            refund_line_id=refund_line_id(match_id),
        )

    def _refund(self, match_id: str) -> ChargeOutcome:
        # Concurrent reports of one match conflict in DynamoDB's transaction, and a retry then meets the refund.
        for _ in range(_REFUND_ATTEMPTS - 1):
            try:
                return self.ledger.refund(match_id, refunded_at=self.clock(), reason=REFUND_REASON)
            except RetryableStorageError as error:
                get_logger().warning("refund retry", match_id=match_id, code=error.code)
        return self.ledger.refund(match_id, refunded_at=self.clock(), reason=REFUND_REASON)

    def _charge(self, key_id: str, match_id: str) -> LedgerLine:
        if not _MATCH_ID.fullmatch(match_id):
            raise MatchNotFoundError(match_id)
        charge = self.ledger.get(match_id)
        if (
            charge is None
            or charge.kind is not LineKind.CHARGE
            or charge.key_id != key_id
            or charge.field is not RequestedField.EMAIL
        ):
            raise MatchNotFoundError(match_id)
        return charge

    def _hide_value(self, key_id: str, result: EnrichmentResult, address: str) -> bool:
        """Mark the refunded address bounced in the freshness store; return whether a stored value was marked."""
        identity = contact_identity(_renormalised(result))
        if identity is None:
            return False
        return self.freshness.mark_bounced(key_id, identity, RequestedField.EMAIL, address)


def _renormalised(result: EnrichmentResult) -> NormalisedPerson:
    # A stored result leaves out the ASCII-folded name parts, which the contact identity hashes, so the
    # person is normalised again from its canonical fields.
    person = result.person
    request = PersonEnrichmentRequest(
        first_name=person.first_name,
        last_name=person.last_name,
        full_name=None if person.first_name and person.last_name else person.full_name,
        company_name=person.company_name,
        company_domain=person.company_domain,
        linkedin_url=person.linkedin_url,
    )
    return normalise_person_request(request).person


def _already_refunded(charge: LedgerLine, refund: LedgerLine) -> BounceReply:
    refunded_at = refund.charged_at.isoformat()
    return BounceReply(
        match_id=charge.match_id,
        decision=BounceDecision.ALREADY_REFUNDED,
        reason=f"the charge was already refunded at {refunded_at}; nothing more is refunded",
        refunded_amount=Decimal("0.00"),
        refund_line_id=refund.line_id,
    )


def _kept_reason(checked: EmailVerification) -> str:
    if checked.verdict is EmailVerdict.VALID:
        return (
            f"the address still verifies as valid ({checked.verifier or 'local checks'}); a bounce can be temporary, "
            "such as a full mailbox or greylisting, so the charge stands"
        )
    if checked.verdict is EmailVerdict.CATCH_ALL:
        return "the domain accepts every address, so a verifier cannot prove the mailbox missing; the charge stands"
    detail = checked.detail or "no detail"
    return f"the re-verification returned {checked.verdict.value} ({detail}); the charge stands, so report it later"
