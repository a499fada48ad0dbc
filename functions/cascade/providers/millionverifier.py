"""MillionVerifier real-time email verification, API v3 (docs version 3.1.0).

Follows MillionVerifier's developer documentation (https://developer.millionverifier.com/) and the
vendor's sample repository github.com/tamas-hamszabo/millionverifier-real-time-api-v3 (README:
parameters, result codes, test keys).

Endpoint: ``GET /api/v3/?api=&email=[&timeout=]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
from cascade.providers.http import HttpReply, ProviderHttp
from cascade.providers.replies import response_or_failure
from cascade.providers.verifier_replies import error_or_status_failure, failure, syntax_rejection

INFO = ProviderInfo(
    name="millionverifier",
    kind=ProviderKind.EMAIL_VERIFIER,
    fields=frozenset({RequestedField.EMAIL}),
    # An estimate from MillionVerifier's list price for its smallest credit packs, not a quote.
    cost=ProviderCost(per_call=Decimal("0.0037")),
    # NOTE: MillionVerifier documents no rate limit; 10 requests per second is a conservative estimate.
    rate_limit=RateLimit(requests=10, per_seconds=1.0),
    api_version="v3",
    default_base_url="https://api.millionverifier.com",
)

_PATH = "/api/v3/"

_RESULT_VERDICTS: Mapping[str, EmailVerdict] = {
    "ok": EmailVerdict.VALID,
    "catch_all": EmailVerdict.CATCH_ALL,
    "unknown": EmailVerdict.UNKNOWN,
    # `error` means the check itself failed, so nothing is known about the mailbox.
    "error": EmailVerdict.UNKNOWN,
    "disposable": EmailVerdict.DISPOSABLE,
    "invalid": EmailVerdict.INVALID,
}
_RESULT_CODES: Mapping[int, str] = {1: "ok", 2: "catch_all", 3: "unknown", 4: "error", 5: "disposable", 6: "invalid"}

# NOTE: MillionVerifier reports account errors as a message in `error` inside an HTTP 200 (the status
# is inferred) and publishes no codes, so the messages below (lower-cased, punctuation removed) act as
# the codes. "Apikey not found" was seen in a live reply for an unknown key; the other messages are
# inferred from the names of the vendor's demo keys. Any other message is a bad response.
_ERROR_OUTCOMES: Mapping[str, AttemptOutcome] = {
    "apikey not found": AttemptOutcome.AUTH_ERROR,
    "invalid api key": AttemptOutcome.AUTH_ERROR,
    "invalid apikey": AttemptOutcome.AUTH_ERROR,
    "insufficient credits": AttemptOutcome.QUOTA_EXHAUSTED,
    "ip address blocked": AttemptOutcome.AUTH_ERROR,
    "internal error": AttemptOutcome.TRANSIENT_ERROR,
}

# MillionVerifier accepts a `timeout` of 2-60 s and defaults to 20 s.
_MIN_VENDOR_TIMEOUT_SECONDS = 2
_MAX_VENDOR_TIMEOUT_SECONDS = 60


class MillionVerifierVerifier:
    """Checks one address with MillionVerifier's v3 real-time endpoint."""

    info = INFO

    def __init__(
        self, http: ProviderHttp, credentials: Credentials, *, vendor_timeout_seconds: int | None = None
    ) -> None:
        """Keep the client and key; ``vendor_timeout_seconds`` (2-60) caps MillionVerifier's wait for slow servers."""
        api_key = credentials.get("api_key", "").strip()
        if not api_key:
            raise ValueError('millionverifier credentials have no "api_key"; store the key as {"api_key": "..."}')
        self._http = http
        self._api_key = api_key
        self._vendor_timeout_seconds = vendor_timeout_seconds

    def verify(self, address: str) -> VerificationResult:
        """Verify ``address`` with one request and map MillionVerifier's result to Cascade's verdict.

        An address that is not valid syntax gets an invalid verdict without a request.
        """
        email = normalise_email(address)
        if email.address is None:
            return syntax_rejection(INFO.name)
        params: dict[str, str | int | float | bool] = {
            "api": self._api_key,
            "email": email.ascii_address or email.address,
        }
        if self._vendor_timeout_seconds is not None:
            params["timeout"] = min(
                max(self._vendor_timeout_seconds, _MIN_VENDOR_TIMEOUT_SECONDS), _MAX_VENDOR_TIMEOUT_SECONDS
            )
        reply = self._http.send("GET", _PATH, params=params)
        return _read_reply(reply, address_flags(email))


def _read_reply(reply: HttpReply, flags_from_address: frozenset[EmailFlag]) -> VerificationResult:
    response = response_or_failure(reply, INFO.name, VerificationResult)
    if isinstance(response, VerificationResult):
        return response
    status = response.status_code
    body = reply.json_body()
    failed = error_or_status_failure(response, body, INFO.name, _ERROR_OUTCOMES, reply.latency_ms)
    if failed is not None:
        return failed
    if not isinstance(body, dict):
        return failure(
            AttemptOutcome.BAD_RESPONSE, status, "millionverifier reply is not a JSON object", reply.latency_ms
        )
    return _verdict_result(body, status, flags_from_address, reply.latency_ms)


def _verdict_result(
    body: Mapping[str, Any], http_status: int, flags_from_address: frozenset[EmailFlag], latency_ms: int
) -> VerificationResult:
    result_name = _result_name(body.get("result"), body.get("resultcode"))
    if result_name is None:
        detail = "millionverifier reply has neither result nor resultcode"
        return failure(AttemptOutcome.BAD_RESPONSE, http_status, detail, latency_ms)
    flags = set(flags_from_address)
    if _is_true(body.get("role")):
        flags.add(EmailFlag.ROLE)
    if _is_true(body.get("free")):
        flags.add(EmailFlag.FREE_MAIL)
    sub_result = body.get("subresult")
    return VerificationResult(
        outcome=AttemptOutcome.FOUND,
        verdict=_RESULT_VERDICTS.get(result_name, EmailVerdict.UNKNOWN),
        flags=frozenset(flags),
        vendor_status=result_name,
        # The subresult vocabulary is not documented in what was read, so it is kept as sent.
        vendor_sub_status=(sub_result.strip() or None) if isinstance(sub_result, str) else None,
        http_status=http_status,
        latency_ms=latency_ms,
    )


def _result_name(result: object, result_code: object) -> str | None:
    """Return the result name, preferring `result` and falling back to `resultcode` when it is unknown."""
    name = result.strip().lower() if isinstance(result, str) and result.strip() else None
    if name in _RESULT_VERDICTS:
        return name
    code = _as_int(result_code)
    if code is not None:
        return _RESULT_CODES.get(code, name or str(code))
    return name


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _is_true(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1")
