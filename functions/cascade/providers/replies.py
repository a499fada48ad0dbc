"""The steps of reading a vendor's HTTP reply that are the same for every adapter.

Each vendor module keeps what is its own: how it maps statuses and error bodies to outcomes, and
which headers carry its wait and its request budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx

from cascade.domain.models import AttemptOutcome
from cascade.providers.base import (
    EmailCandidate,
    PhoneCandidate,
    PhoneLookupResult,
    ProviderResult,
    RateLimitState,
    VerificationResult,
)
from cascade.providers.http import HttpReply, parse_rate_limit_headers, parse_retry_after, transport_error_outcome

ResultT = TypeVar("ResultT", ProviderResult, VerificationResult, PhoneLookupResult)


def response_or_failure(reply: HttpReply, provider: str, result_type: type[ResultT]) -> httpx.Response | ResultT:
    """Return the reply's response, or a ``result_type`` failure when the request got no response.

    A transport error maps to TIMEOUT or TRANSIENT_ERROR, and the detail names its exception class.
    A reply with neither a response nor an error is BAD_RESPONSE, although ``ProviderHttp.send``
    always sets one of the two.
    """
    if reply.error is not None:
        return result_type(
            outcome=transport_error_outcome(reply.error),
            detail=f"{provider} request failed: {type(reply.error).__name__}",
            latency_ms=reply.latency_ms,
        )
    if reply.response is None:
        return result_type(
            outcome=AttemptOutcome.BAD_RESPONSE, detail=f"{provider} sent no response", latency_ms=reply.latency_ms
        )
    return reply.response


def finder_result(
    outcome: AttemptOutcome,
    reply: HttpReply,
    detail: str | None,
    *,
    emails: tuple[EmailCandidate, ...] = (),
    phones: tuple[PhoneCandidate, ...] = (),
    read_retry_after: Callable[[httpx.Headers], float | None] = parse_retry_after,
    read_rate_limit: Callable[[httpx.Headers], RateLimitState | None] = parse_rate_limit_headers,
) -> ProviderResult:
    """Build a contact finder's result from the reply, with the HTTP status, latency and budget it carries.

    ``read_retry_after`` runs only for a THROTTLED outcome. ``read_rate_limit`` runs for every reply
    with a response. Both default to the common header names, which a vendor module replaces with
    its own readers.
    """
    response = reply.response
    if response is None:
        return ProviderResult(outcome=outcome, emails=emails, phones=phones, detail=detail, latency_ms=reply.latency_ms)
    return ProviderResult(
        outcome=outcome,
        emails=emails,
        phones=phones,
        retry_after_seconds=read_retry_after(response.headers) if outcome is AttemptOutcome.THROTTLED else None,
        rate_limit=read_rate_limit(response.headers),
        http_status=response.status_code,
        detail=detail,
        latency_ms=reply.latency_ms,
    )
