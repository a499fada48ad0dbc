"""NeverBounce single email verification, API v4.

Follows NeverBounce's "single check" and "error handling" reference pages
(https://developers.neverbounce.com/reference/single-check,
https://developers.neverbounce.com/reference/error-handling), the v3 single reference for the
integer result codes, and the official Python SDK (github.com/NeverBounce/NeverBounceApi-Python).

Endpoint: ``POST /v4/single/check`` with a JSON body ``{"key", "email", "address_info",
"credits_info"[, "timeout"]}``. The key goes in the body rather than the query string, so that it
does not appear in access logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict, RequestedField
from cascade.normalise.emails import normalise_email
from cascade.providers.base import (
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    RateLimit,
    VerificationResult,
)
from cascade.providers.candidates import address_flags
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, parse_retry_after
from cascade.providers.replies import response_or_failure
from cascade.providers.verifier_replies import failure, status_failure, syntax_rejection

INFO = ProviderInfo(
    name="neverbounce",
    kind=ProviderKind.EMAIL_VERIFIER,
    fields=frozenset({RequestedField.EMAIL}),
    # An estimate from NeverBounce's pay-as-you-go list price for small volumes, not a quote.
    cost=ProviderCost(per_call=Decimal("0.008")),
    # NOTE: NeverBounce sets the limit per app in its dashboard and documents no default or headers;
    # 10 requests per second is a conservative estimate until the app's own setting is configured.
    rate_limit=RateLimit(requests=10, per_seconds=1.0),
    api_version="v4",
    default_base_url="https://api.neverbounce.com",
)

_PATH = "/v4/single/check"

_RESULT_VERDICTS: Mapping[str, EmailVerdict] = {
    "valid": EmailVerdict.VALID,
    "invalid": EmailVerdict.INVALID,
    "disposable": EmailVerdict.DISPOSABLE,
    "catchall": EmailVerdict.CATCH_ALL,
    "unknown": EmailVerdict.UNKNOWN,
}
# API v3 sent the same results as integers 0-4, in the order above.
_V3_RESULT_CODES: Mapping[int, str] = {0: "valid", 1: "invalid", 2: "disposable", 3: "catchall", 4: "unknown"}

_FLAG_MAP: Mapping[str, EmailFlag] = {
    "role_account": EmailFlag.ROLE,
    "free_email_host": EmailFlag.FREE_MAIL,
}

# NeverBounce reports API errors inside HTTP 200 with one of these `status` values.
_ERROR_STATUSES: Mapping[str, AttemptOutcome] = {
    "general_failure": AttemptOutcome.TRANSIENT_ERROR,
    "auth_failure": AttemptOutcome.AUTH_ERROR,
    "temp_unavail": AttemptOutcome.TRANSIENT_ERROR,
    "throttle_triggered": AttemptOutcome.THROTTLED,
    "bad_referrer": AttemptOutcome.AUTH_ERROR,
}


class NeverBounceVerifier:
    """Checks one address with NeverBounce's v4 single check endpoint."""

    info = INFO

    def __init__(
        self, http: ProviderHttp, credentials: Credentials, *, vendor_timeout_seconds: int | None = None
    ) -> None:
        """Keep the client and key; ``vendor_timeout_seconds`` limits NeverBounce's time before it returns `unknown`."""
        api_key = credentials.get("api_key", "").strip()
        if not api_key:
            raise ValueError('neverbounce credentials have no "api_key"; store the v4 key as {"api_key": "..."}')
        self._http = http
        self._api_key = api_key
        self._vendor_timeout_seconds = vendor_timeout_seconds

    def verify(self, address: str) -> VerificationResult:
        """Check ``address`` with one request and map NeverBounce's result to Cascade's verdict.

        An address that is not valid syntax gets an invalid verdict without a request.
        """
        email = normalise_email(address)
        if email.address is None:
            return syntax_rejection(INFO.name)
        payload: dict[str, str | int] = {
            "key": self._api_key,
            "email": email.ascii_address or email.address,
            "address_info": 0,
            "credits_info": 0,
        }
        if self._vendor_timeout_seconds is not None:
            payload["timeout"] = max(1, self._vendor_timeout_seconds)
        reply = self._http.send("POST", _PATH, json_body=payload)
        return _read_reply(reply, address_flags(email))


def _read_reply(reply: HttpReply, flags_from_address: frozenset[EmailFlag]) -> VerificationResult:
    response = response_or_failure(reply, INFO.name, VerificationResult)
    if isinstance(response, VerificationResult):
        return response
    status = response.status_code
    failed = status_failure(response, INFO.name, reply.latency_ms)
    if failed is not None:
        return failed

    body = reply.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return failure(
            AttemptOutcome.BAD_RESPONSE, status, "neverbounce reply is not JSON or has no status", reply.latency_ms
        )
    api_status = body["status"].strip().lower()
    if api_status != "success":
        return _error_result(api_status, response, reply.latency_ms)
    return _verdict_result(body, status, flags_from_address, reply.latency_ms)


def _error_result(api_status: str, response: httpx.Response, latency_ms: int) -> VerificationResult:
    outcome = _ERROR_STATUSES.get(api_status)
    if outcome is None:
        detail = f"neverbounce returned status {api_status[:40]!r}, which Cascade does not recognise"
        return failure(AttemptOutcome.BAD_RESPONSE, response.status_code, detail, latency_ms)
    retry_after = None
    if outcome is AttemptOutcome.THROTTLED:
        # NeverBounce documents no Retry-After for throttle_triggered, only "retry shortly"; read one if sent.
        retry_after = parse_retry_after(response.headers)
    detail = f"neverbounce returned status {api_status}"
    return failure(outcome, response.status_code, detail, latency_ms, retry_after=retry_after)


def _verdict_result(
    body: Mapping[str, Any], http_status: int, flags_from_address: frozenset[EmailFlag], latency_ms: int
) -> VerificationResult:
    result_name = _result_name(body.get("result"))
    if result_name is None:
        return failure(
            AttemptOutcome.BAD_RESPONSE, http_status, "neverbounce reply has status success but no result", latency_ms
        )
    flags = set(flags_from_address)
    vendor_flags = body.get("flags")
    if isinstance(vendor_flags, list):
        flags.update(_FLAG_MAP[name] for name in vendor_flags if isinstance(name, str) and name in _FLAG_MAP)
    return VerificationResult(
        outcome=AttemptOutcome.FOUND,
        verdict=_RESULT_VERDICTS.get(result_name, EmailVerdict.UNKNOWN),
        flags=frozenset(flags),
        vendor_status=result_name,
        http_status=http_status,
        latency_ms=latency_ms,
    )


def _result_name(raw: object) -> str | None:
    """Return the v4 result name for a v4 string or a v3 integer; ``None`` when the result is missing."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return _V3_RESULT_CODES.get(raw, str(raw))
    if isinstance(raw, str) and raw.strip():
        text = raw.strip().lower()
        if text.isdigit():
            return _V3_RESULT_CODES.get(int(text), text)
        return text
    return None
