"""The provider step and the failure step: call one provider, judge what it returned, and move the plan on.

A provider step calls its finder once for the fields still missing. Emails that the vendor
reports as ``valid`` on the company's domain are taken as they are. ``catch_all`` and ``unknown``
emails, and ``valid`` ones on another domain, go to the configured verifiers, whose verdict
replaces the vendor's except that it never turns a catch-all into ``valid``. Phones go through
the numbering plan and the phone validator. A value that is not verified under the request's
rules is kept as the best so far while later providers look for a verified one.

Failures worth retrying are raised so that the state machine's ``Retry`` applies. After its
retries, a ``Catch`` hands the state to ``record_failure``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cascade.domain.models import AttemptOutcome, EmailVerdict, PhoneVerdict, ProviderAttempt, RequestedField
from cascade.normalise.emails import normalise_email
from cascade.observability import get_logger
from cascade.providers.base import EmailCandidate, PhoneCandidate, ProviderResult
from cascade.providers.registry import PATTERN
from cascade.verification.email import verify_email
from cascade.verification.phone import verify_phone
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.errors import ProviderThrottledError, ProviderTransientError
from cascade.waterfall.state import FoundEmail, FoundPhone, WaterfallState

# How often one enrichment waits out a vendor's Retry-After for the same provider.
MAX_WAITS_PER_PROVIDER = 2

_ADVANCE_OUTCOMES = frozenset(
    {
        AttemptOutcome.NOT_FOUND,
        AttemptOutcome.AUTH_ERROR,
        AttemptOutcome.QUOTA_EXHAUSTED,
        AttemptOutcome.BAD_RESPONSE,
        AttemptOutcome.SKIPPED_NO_CREDENTIALS,
        AttemptOutcome.SKIPPED_DEADLINE,
        AttemptOutcome.SKIPPED_BUDGET,
    }
)
_EMAIL_RANK = {EmailVerdict.VALID: 0, EmailVerdict.CATCH_ALL: 1, EmailVerdict.UNKNOWN: 2}
_PHONE_RANK = {PhoneVerdict.VALID: 0, PhoneVerdict.UNKNOWN: 1}
_DISCARDED_EMAIL = frozenset({EmailVerdict.INVALID, EmailVerdict.DISPOSABLE})
# The error names that a Catch reports, each mapped to the attempt outcome it represents.
_FAILURE_OUTCOMES = {
    "States.Timeout": AttemptOutcome.TIMEOUT,
    "ProviderThrottledError": AttemptOutcome.THROTTLED,
}


def run_step(provider: str, state: WaterfallState, dependencies: WaterfallDependencies) -> WaterfallState:
    """Call ``provider`` once for the missing fields and return the updated state.

    Raises ``ProviderThrottledError`` for a throttled call that the step does not wait out
    itself, ``ProviderTransientError`` for a timeout or transient error, and ``ValueError``
    when ``provider`` is not the plan's next provider.
    """
    state = state.model_copy(deep=True)
    state.wait_seconds = 0
    if state.done or state.plan.next != provider:
        raise ValueError(
            f"step called for provider {provider!r} but the plan's next provider is {state.plan.next!r}; "
            "dispatch on $.plan.next"
        )
    settings = dependencies.settings
    read_timeout_ms = int(settings.provider_read_timeout_seconds * 1000)
    if dependencies.now_ms() + read_timeout_ms > state.plan.deadline_ms:
        _skip_rest_for_deadline(state)
        return state

    finder = dependencies.registry.finder(provider)
    if finder is None:
        _record(state, provider, AttemptOutcome.SKIPPED_NO_CREDENTIALS, 0, "no credentials configured")
        advance(state, dependencies)
        return state
    fields = [field for field in state.missing_fields() if field in finder.info.fields]
    if not fields:
        advance(state, dependencies)
        return state

    started = dependencies.monotonic()
    result = finder.find(state.person, frozenset(fields))
    latency_ms = max(0, round((dependencies.monotonic() - started) * 1000))
    _log_call(state, provider, result, latency_ms)

    outcome = result.outcome
    if outcome is AttemptOutcome.THROTTLED:
        _wait_or_raise(state, provider, result, latency_ms, dependencies)
        return state
    if outcome in (AttemptOutcome.TRANSIENT_ERROR, AttemptOutcome.TIMEOUT):
        raise ProviderTransientError(f"provider {provider} returned {outcome.value}: {result.detail or 'no detail'}")
    if outcome is AttemptOutcome.FOUND:
        any_usable = _take_candidates(state, provider, result, fields, dependencies)
        if any_usable:
            _record(state, provider, AttemptOutcome.FOUND, latency_ms, result.detail)
        else:
            detail = "every candidate returned was invalid, disposable or failed verification"
            _record(state, provider, AttemptOutcome.NOT_FOUND, latency_ms, detail)
    elif outcome in _ADVANCE_OUTCOMES:
        _record(state, provider, outcome, latency_ms, result.detail)
    else:
        raise ValueError(f"provider {provider} returned outcome {outcome.value}, which a finder must not return")
    advance(state, dependencies)
    return state


def record_failure(state: WaterfallState, dependencies: WaterfallDependencies) -> WaterfallState:
    """Record the failed call of ``plan.next`` from the ``error`` a Catch wrote, drop the error and move on.

    ``States.Timeout`` becomes ``timeout``, ``ProviderThrottledError`` becomes ``throttled`` and
    every other error ``transient_error``. Raises ``ValueError`` when the state carries no error.
    """
    error = state.error
    if error is None:
        raise ValueError("the state has no error to record; RecordFailure runs only after a Catch on $.error")
    state = state.model_copy(update={"error": None, "wait_seconds": 0}, deep=True)
    outcome = _FAILURE_OUTCOMES.get(error.error, AttemptOutcome.TRANSIENT_ERROR)
    provider = state.plan.next
    get_logger().warning(
        "provider step failed",
        enrichment_id=state.context.enrichment_id,
        key_id=state.context.key_id,
        provider=provider,
        error=error.error,
        outcome=outcome.value,
    )
    if provider is None:
        _finish(state)
        return state
    _record(state, provider, outcome, 0, f"the step failed with {error.error} after its retries")
    advance(state, dependencies)
    return state


def advance(state: WaterfallState, dependencies: WaterfallDependencies) -> None:
    """Move past the current provider to the next one that can return a field still missing, or finish.

    The run finishes when every field it looks for is verified or no useful provider remains.
    """
    remaining = state.plan.remaining
    if remaining and remaining[0] == state.plan.next:
        remaining = remaining[1:]
    missing = set(state.missing_fields())
    remaining = [name for name in remaining if dependencies.registry.info(name).fields & missing]
    if not missing or not remaining:
        _finish(state)
        return
    state.plan.remaining = remaining
    state.plan.next = remaining[0]
    state.done = False


def _finish(state: WaterfallState) -> None:
    state.plan.remaining = []
    state.plan.next = None
    state.done = True


def _skip_rest_for_deadline(state: WaterfallState) -> None:
    detail = "the deadline leaves less time than the provider's read timeout"
    for name in state.plan.remaining:
        _record(state, name, AttemptOutcome.SKIPPED_DEADLINE, 0, detail)
    get_logger().info(
        "providers skipped for deadline",
        enrichment_id=state.context.enrichment_id,
        key_id=state.context.key_id,
        providers=len(state.plan.remaining),
    )
    _finish(state)


def _wait_or_raise(
    state: WaterfallState, provider: str, result: ProviderResult, latency_ms: int, dependencies: WaterfallDependencies
) -> None:
    """Wait out the vendor's delay through the state machine's Wait state when it fits, else raise."""
    waits = state.plan.waits.get(provider, 0)
    retry_after = result.retry_after_seconds
    if retry_after is not None and waits < MAX_WAITS_PER_PROVIDER:
        wait_seconds = max(1, math.ceil(retry_after))
        read_timeout_ms = int(dependencies.settings.provider_read_timeout_seconds * 1000)
        if dependencies.now_ms() + wait_seconds * 1000 + read_timeout_ms <= state.plan.deadline_ms:
            state.wait_seconds = wait_seconds
            state.plan.waits[provider] = waits + 1
            _record(
                state, provider, AttemptOutcome.THROTTLED, latency_ms, f"waiting {wait_seconds} s as the vendor asked"
            )
            return
    if retry_after is None:
        reason = "the vendor named no delay"
    elif waits >= MAX_WAITS_PER_PROVIDER:
        reason = f"the step already waited {waits} times"
    else:
        reason = f"its delay of {retry_after:g} s does not fit before the deadline"
    raise ProviderThrottledError(f"provider {provider} is throttled and {reason}")


def _take_candidates(
    state: WaterfallState,
    provider: str,
    result: ProviderResult,
    fields: Sequence[RequestedField],
    dependencies: WaterfallDependencies,
) -> bool:
    """Judge the candidates for each sought field, keep the better ones, and return whether any was usable."""
    usable = False
    if RequestedField.EMAIL in fields and result.emails:
        email = _best_email(state, provider, result.emails, dependencies)
        if email is not None:
            usable = True
            if _email_better(email, state.found.email, accept_catch_all=state.accepts_catch_all):
                state.found.email = email
    if RequestedField.PHONE in fields and result.phones:
        phone = _best_phone(state, provider, result.phones, dependencies)
        if phone is not None:
            usable = True
            if _phone_better(phone, state.found.phone):
                state.found.phone = phone
    return usable


def _best_email(
    state: WaterfallState, provider: str, candidates: Sequence[EmailCandidate], dependencies: WaterfallDependencies
) -> FoundEmail | None:
    """Return the first candidate that counts as verified, or else the best one that survived verification."""
    best: FoundEmail | None = None
    ordered = sorted(candidates, key=lambda item: (_EMAIL_RANK.get(item.verdict, 3), -item.confidence))
    for candidate in ordered:
        found = _judge_email(candidate, provider, state.person.company_domain, dependencies)
        if found is None:
            continue
        if _email_counts(found.verdict, accept_catch_all=state.accepts_catch_all):
            return found
        if _email_better(found, best, accept_catch_all=state.accepts_catch_all):
            best = found
    return best


def _judge_email(
    candidate: EmailCandidate, provider: str, company_domain: str | None, dependencies: WaterfallDependencies
) -> FoundEmail | None:
    if candidate.verdict in _DISCARDED_EMAIL:
        return None
    address, verdict, flags = candidate.address, candidate.verdict, set(candidate.flags)
    if _needs_verification(candidate, provider, company_domain):
        checked = verify_email(
            address, mx_resolver=dependencies.mx_resolver, verifiers=dependencies.registry.verifiers()
        )
        if checked.verdict in _DISCARDED_EMAIL:
            return None
        address = checked.address
        flags |= checked.flags
        if checked.verifier is not None:
            # A catch-all domain accepts every address, so a verifier's "valid" there proves nothing.
            downgraded = checked.verdict is EmailVerdict.VALID and verdict is EmailVerdict.CATCH_ALL
            verdict = EmailVerdict.CATCH_ALL if downgraded else checked.verdict
    return FoundEmail(
        address=address,
        verdict=verdict,
        flags=sorted(flags),
        provider=provider,
        confidence=_clamp(candidate.confidence),
        verified_at=dependencies.clock(),
    )


def _needs_verification(candidate: EmailCandidate, provider: str, company_domain: str | None) -> bool:
    """Return whether the vendor's verdict needs a verifier's confirmation before it is used.

    The pattern source's verdicts already come from the configured verifiers. A vendor's ``valid``
    is used as it is, except for an address outside the requested company's domain. Vendors keep
    addresses at a person's previous employer, and those bounce once the person has left.
    """
    if provider == PATTERN.name:
        return False
    if candidate.verdict is not EmailVerdict.VALID:
        return True
    if not company_domain:
        return False
    domain = (normalise_email(candidate.address).ascii_domain or "").lower()
    company = company_domain.lower()
    return domain != company and not domain.endswith("." + company)


def _best_phone(
    state: WaterfallState, provider: str, candidates: Sequence[PhoneCandidate], dependencies: WaterfallDependencies
) -> FoundPhone | None:
    best: FoundPhone | None = None
    validator = dependencies.registry.phone_validator()
    ordered = sorted(candidates, key=lambda item: (_PHONE_RANK.get(item.verdict, 2), -item.confidence))
    for candidate in ordered:
        if candidate.verdict is PhoneVerdict.INVALID:
            continue
        checked = verify_phone(
            candidate.number,
            country=state.person.country,
            default_region=dependencies.settings.default_region,
            validator=validator,
        )
        if checked.e164 is None or checked.verdict is PhoneVerdict.INVALID:
            continue
        found = FoundPhone(
            e164=checked.e164,
            extension=checked.extension,
            line_type=checked.line_type,
            verdict=checked.verdict,
            provider=provider,
            confidence=_clamp(candidate.confidence),
            verified_at=dependencies.clock(),
        )
        if found.verdict is PhoneVerdict.VALID:
            return found
        if _phone_better(found, best):
            best = found
    return best


def _email_counts(verdict: EmailVerdict, *, accept_catch_all: bool) -> bool:
    return verdict is EmailVerdict.VALID or (verdict is EmailVerdict.CATCH_ALL and accept_catch_all)


def _email_better(new: FoundEmail, old: FoundEmail | None, *, accept_catch_all: bool) -> bool:
    if old is None:
        return True
    new_key = (_email_counts(new.verdict, accept_catch_all=accept_catch_all), -_EMAIL_RANK.get(new.verdict, 3))
    old_key = (_email_counts(old.verdict, accept_catch_all=accept_catch_all), -_EMAIL_RANK.get(old.verdict, 3))
    return (new_key, new.confidence) > (old_key, old.confidence)


def _phone_better(new: FoundPhone, old: FoundPhone | None) -> bool:
    if old is None:
        return True
    new_key = (-_PHONE_RANK.get(new.verdict, 2), new.confidence)
    old_key = (-_PHONE_RANK.get(old.verdict, 2), old.confidence)
    return new_key > old_key


def _clamp(confidence: float) -> float:
    return min(1.0, max(0.0, confidence))


def _record(state: WaterfallState, provider: str, outcome: AttemptOutcome, latency_ms: int, detail: str | None) -> None:
    state.attempts.append(ProviderAttempt(provider=provider, outcome=outcome, latency_ms=latency_ms, detail=detail))


def _log_call(state: WaterfallState, provider: str, result: ProviderResult, latency_ms: int) -> None:
    get_logger().info(
        "provider called",
        enrichment_id=state.context.enrichment_id,
        key_id=state.context.key_id,
        provider=provider,
        outcome=result.outcome.value,
        latency_ms=latency_ms,
        http_status=result.http_status,
    )
