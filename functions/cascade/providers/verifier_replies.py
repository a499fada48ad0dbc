"""The steps of reading a hosted email verifier's reply that are the same for every verifier.

Each vendor module keeps what is its own: its error vocabulary, the order in which it reads the
body and the status, and its verdict tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from cascade.domain.models import AttemptOutcome, EmailVerdict
from cascade.providers.base import VerificationResult
from cascade.providers.http import parse_retry_after, status_outcome

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def syntax_rejection(provider: str) -> VerificationResult:
    """Return the INVALID verdict for an address that is not valid syntax and so is not sent to ``provider``."""
    return VerificationResult(
        outcome=AttemptOutcome.FOUND,
        verdict=EmailVerdict.INVALID,
        detail=f"the address is not valid syntax, so it was not sent to {provider}",
    )


def status_failure(response: httpx.Response, provider: str, latency_ms: int) -> VerificationResult | None:
    """Return the failure for a non-2xx HTTP status, or ``None`` for a 2xx status.

    A 404 from a verifier means a wrong path, not an unknown person, so it is BAD_RESPONSE. A
    THROTTLED failure carries the wait from Retry-After when the vendor sends one.
    """
    status = response.status_code
    outcome = status_outcome(status)
    if outcome is None:
        return None
    if outcome is AttemptOutcome.NOT_FOUND:
        outcome = AttemptOutcome.BAD_RESPONSE
    retry_after = parse_retry_after(response.headers) if outcome is AttemptOutcome.THROTTLED else None
    return failure(outcome, status, f"{provider} answered HTTP {status}", latency_ms, retry_after=retry_after)


def failure(
    outcome: AttemptOutcome, http_status: int, detail: str, latency_ms: int, *, retry_after: float | None = None
) -> VerificationResult:
    """Build a result without a verdict, for a reply that the adapter could not read as one."""
    return VerificationResult(
        outcome=outcome, retry_after_seconds=retry_after, http_status=http_status, detail=detail, latency_ms=latency_ms
    )


def error_or_status_failure(
    response: httpx.Response, body: Any, provider: str, error_outcomes: Mapping[str, AttemptOutcome], latency_ms: int
) -> VerificationResult | None:
    """Return the failure that an ``error`` message or the HTTP status reports, or ``None`` when neither does.

    This is for vendors that publish no error codes and send account errors as a message in the
    body's ``error`` field. ``error_outcomes`` is keyed by the message lower-cased with punctuation
    removed. A listed message wins over the HTTP status. A message that is not listed is
    BAD_RESPONSE, unless the status already reports a failure.
    """
    status = response.status_code
    message = _error_message(body)
    known = error_outcomes.get(_error_key(message)) if message is not None else None
    if known is not None:
        return failure(known, status, f"{provider} returned an account error ({known.value})", latency_ms)
    failed = status_failure(response, provider, latency_ms)
    if failed is not None or message is None:
        return failed
    detail = f"{provider} returned an error message that Cascade does not recognise"
    return failure(AttemptOutcome.BAD_RESPONSE, status, detail, latency_ms)


def _error_message(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) and error.strip() else None


def _error_key(message: str) -> str:
    return " ".join(_NOT_ALPHANUMERIC.sub(" ", message.lower()).split())
