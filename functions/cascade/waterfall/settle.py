"""Settlement: decide the enrichment's status, charge each verified field once, and shape the result.

Each verified field that a provider found in this run is charged as one ledger line whose id
is the match id of (key, request, field). The ledger writes a line at most once, so running
settlement again, or many times at once, charges nothing more and returns the same billing.
A line that already exists is reported as billed, with the amounts stored in the ledger.
Values taken from the freshness store are returned unbilled, and so is a catch-all email when
neither the request nor the key's plan accepts catch-all emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cascade.domain.billing import LedgerLine, LineKind, match_id
from cascade.domain.models import (
    AttemptOutcome,
    Billing,
    BillingLine,
    EmailResult,
    EnrichmentResult,
    EnrichmentStatus,
    PhoneResult,
    RequestedField,
)
from cascade.domain.money import ZERO, from_micros, to_micros
from cascade.observability import get_logger
from cascade.storage.freshness import contact_identity
from cascade.storage.ledger import ChargeOutcome
from cascade.storage.suppressions import suppression_identities
from cascade.waterfall.companies import stale_reason
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.state import FoundEmail, FoundPhone, SettleOutput, ValueSource, WaterfallState, fresh_value

# Outcomes of a provider call that returned a match or a miss.
_ANSWERED = frozenset({AttemptOutcome.FOUND, AttemptOutcome.NOT_FOUND})


@dataclass(frozen=True, slots=True)
class _Settled:
    """One requested field as settlement leaves it: the value to return and the line that billed it."""

    field: RequestedField
    value: FoundEmail | FoundPhone
    verified: bool
    line: LedgerLine | None


def settle(state: WaterfallState, dependencies: WaterfallDependencies) -> SettleOutput:
    """Charge the verified fields, store them for later requests, and return the execution output.

    Raises the ledger's and the freshness store's storage errors. Running settlement again after
    one is safe, because a charge that was written is found again instead of repeated.
    """
    context = state.context
    logger = get_logger()
    if state.suppressed or _email_suppressed(state, dependencies):
        logger.info("enrichment suppressed", enrichment_id=context.enrichment_id, key_id=context.key_id)
        return SettleOutput(result=_result(state, EnrichmentStatus.SUPPRESSED, []), providers_unavailable=False)

    settled = _charge_fields(state, dependencies)
    _store_fresh_values(state, settled, dependencies)
    verified = [item for item in settled if item.verified]
    if len(verified) == len(state.request.fields):
        status = EnrichmentStatus.MATCHED
    elif verified:
        status = EnrichmentStatus.PARTIAL
    else:
        status = EnrichmentStatus.NOT_FOUND
    result = _result(state, status, settled)
    unavailable = providers_unavailable(state)
    logger.info(
        "waterfall settled",
        status=status.value,
        billed_lines=len(result.billing.lines),
        billed_amount=str(result.billing.amount),
        providers_unavailable=unavailable,
        enrichment_id=context.enrichment_id,
        key_id=context.key_id,
    )
    return SettleOutput(result=result, providers_unavailable=unavailable)


def providers_unavailable(state: WaterfallState) -> bool:
    """Return whether every provider call failed, so the API replies 503 instead of ``not_found``.

    True when nothing was found and at least one provider was tried, but none returned a match or a
    miss. Every attempt failed (throttled, transient error, timeout, auth or quota error, bad
    response) or was skipped for lack of credentials or time. A budget skip is the customer's own limit, so
    a run whose attempts include one is not unavailable.
    """
    if state.suppressed or not state.found.is_empty() or not state.attempts:
        return False
    return all(
        attempt.outcome not in _ANSWERED and attempt.outcome is not AttemptOutcome.SKIPPED_BUDGET
        for attempt in state.attempts
    )


def _email_suppressed(state: WaterfallState, dependencies: WaterfallDependencies) -> bool:
    # The plan checked the person. Only now is there an address to check against the list.
    email = state.found.email
    if email is None:
        return False
    identities = suppression_identities(state.person, email=email.address)
    return dependencies.suppressions.is_suppressed(state.context.account_id, identities)


def _charge_fields(state: WaterfallState, dependencies: WaterfallDependencies) -> list[_Settled]:
    settled: list[_Settled] = []
    max_amount = state.request.waterfall.max_amount
    spent = ZERO
    for field in state.request.fields:
        value = state.found.email if field is RequestedField.EMAIL else state.found.phone
        if value is None:
            continue
        verified = state.is_verified(field)
        if not verified or value.source is ValueSource.FRESHNESS:
            settled.append(_Settled(field, value, verified, None))
            continue
        price = state.context.plan.price(field)
        if max_amount is not None and spent + price > max_amount:
            # The plan leaves out fields the budget cannot pay for, so this happens only if the two
            # disagree. A verified value that cannot be billed is not returned.
            get_logger().warning(
                "verified field over budget",
                enrichment_id=state.context.enrichment_id,
                key_id=state.context.key_id,
                field=field.value,
            )
            continue
        line = _charge(state, field, value, price, dependencies)
        spent += from_micros(line.amount_micros)
        settled.append(_Settled(field, value, verified, line))
    return settled


def _charge(
    state: WaterfallState,
    field: RequestedField,
    value: FoundEmail | FoundPhone,
    price: Decimal,
    dependencies: WaterfallDependencies,
) -> LedgerLine:
    """Write the field's charge line, or find the one an earlier settlement wrote, and return it."""
    context = state.context
    line_id = match_id(context.key_id, context.reference, field)
    line = LedgerLine(
        line_id=line_id,
        kind=LineKind.CHARGE,
        match_id=line_id,
        key_id=context.key_id,
        account_id=context.account_id,
        field=field,
        amount_micros=to_micros(price),
        provider=value.provider,
        verdict=value.verdict.value,
        charged_at=dependencies.clock(),
        enrichment_id=context.enrichment_id,
        request_id=context.request_id,
        job_id=context.job_id,
        row=context.row,
    )
    outcome = dependencies.ledger.charge_with_retry(line)
    if outcome is ChargeOutcome.CHARGED:
        return line
    # Ledger lines are never deleted, so a duplicate's line is there to read. Its stored amount,
    # provider and verdict are what was billed.
    return dependencies.ledger.get(line_id) or line


def _store_fresh_values(state: WaterfallState, settled: list[_Settled], dependencies: WaterfallDependencies) -> None:
    identity = contact_identity(state.person)
    if identity is None:
        return
    now = dependencies.clock()
    for item in settled:
        if item.line is None:
            continue
        stored = fresh_value(item.value, match_id=item.line.match_id)
        dependencies.freshness.put(state.context.key_id, identity, stored, now=now)


def _result(state: WaterfallState, status: EnrichmentStatus, settled: list[_Settled]) -> EnrichmentResult:
    email: EmailResult | None = None
    phone: PhoneResult | None = None
    lines: list[BillingLine] = []
    for item in settled:
        value = item.value
        if isinstance(value, FoundEmail):
            email = EmailResult(
                address=value.address,
                verdict=value.verdict,
                flags=value.flags,
                verified_at=value.verified_at,
                provider=value.provider,
                confidence=value.confidence,
            )
        else:
            phone = PhoneResult(
                e164=value.e164,
                extension=value.extension,
                line_type=value.line_type,
                verdict=value.verdict,
                verified_at=value.verified_at,
                provider=value.provider,
                confidence=value.confidence,
            )
        if item.line is not None:
            lines.append(
                BillingLine(
                    match_id=item.line.match_id,
                    field=item.field,
                    amount=from_micros(item.line.amount_micros),
                    provider=item.line.provider,
                    verdict=item.line.verdict,
                )
            )
    amount = sum((line.amount for line in lines), ZERO)
    reason = stale_reason(state.company)
    return EnrichmentResult(
        id=state.context.enrichment_id,
        status=status,
        person=state.person,
        email=email,
        phone=phone,
        company=state.company,
        attempts=state.attempts,
        billing=Billing(billed=bool(lines), amount=amount, lines=lines),
        stale=reason is not None,
        stale_reason=reason,
        created_at=state.context.received_at,
    )
