"""ZeroBounce email validation, API v2.

Follows ZeroBounce's "v2 validate emails" page
(https://www.zerobounce.net/docs/email-validation-api-quickstart/v2-validate-emails), its API
rate-limit and error-code pages, and the status and sub-status enums of the official Python SDK
(github.com/zerobounce/zero-bounce-python-sdk-setup, ``zb_validate_status.py`` and
``zb_validate_sub_status.py``).

Endpoint: ``GET /v2/validate?api_key=&email=&ip_address=[&timeout=]``.
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
    name="zerobounce",
    kind=ProviderKind.EMAIL_VERIFIER,
    fields=frozenset({RequestedField.EMAIL}),
    # An estimate from ZeroBounce's small pay-as-you-go credit packs, not a quote. ZeroBounce never
    # charges for an `unknown` result, so the real cost per call is somewhat lower.
    cost=ProviderCost(per_call=Decimal("0.008")),
    # 80,000 validations per 10 s, then a 1-minute block (ZeroBounce API rate-limit page).
    rate_limit=RateLimit(requests=80_000, per_seconds=10.0),
    api_version="v2",
    default_base_url="https://api.zerobounce.net",
)

_PATH = "/v2/validate"

_STATUS_VERDICTS: Mapping[str, EmailVerdict] = {
    "valid": EmailVerdict.VALID,
    "invalid": EmailVerdict.INVALID,
    "catch-all": EmailVerdict.CATCH_ALL,
    "unknown": EmailVerdict.UNKNOWN,
    # ZeroBounce advises never to send to these three, so Cascade treats them as invalid.
    "spamtrap": EmailVerdict.INVALID,
    "abuse": EmailVerdict.INVALID,
    "do_not_mail": EmailVerdict.INVALID,
}
# ZeroBounce reports a throwaway mailbox as status do_not_mail with this sub-status.
_DISPOSABLE_SUB_STATUSES = frozenset({"disposable"})
# NOTE: the pages read do not say whether these sub-statuses can come with status `valid`. If they
# do, the domain accepts every address, so the mailbox is unproven and the verdict becomes catch_all.
_ACCEPT_ALL_SUB_STATUSES = frozenset({"accept_all", "role_based_accept_all"})
_ROLE_SUB_STATUSES = frozenset({"role_based", "role_based_catch_all", "role_based_accept_all"})

# NOTE: ZeroBounce reports account errors as a message in an `error` key and publishes no codes,
# so the exact messages below (lower-cased, punctuation removed) act as the codes. Which messages
# it sends is inferred; a message not listed here is a bad response. The combined message names
# two causes and maps to AUTH_ERROR, because a wrong key is the cause an operator checks first.
_ERROR_OUTCOMES: Mapping[str, AttemptOutcome] = {
    "invalid api key": AttemptOutcome.AUTH_ERROR,
    "invalid api key or your account ran out of credits": AttemptOutcome.AUTH_ERROR,
    "insufficient credits": AttemptOutcome.QUOTA_EXHAUSTED,
    "your account ran out of credits": AttemptOutcome.QUOTA_EXHAUSTED,
}

# NOTE: ZeroBounce documents 10-120 s for the batch `timeout`, and the range for a single call is
# inferred. A requested value is therefore clamped to 10-60 s, which every reading allows.
_MIN_VENDOR_TIMEOUT_SECONDS = 10
_MAX_VENDOR_TIMEOUT_SECONDS = 60


class ZeroBounceVerifier:
    """Checks one address with ZeroBounce's v2 validate endpoint."""

    info = INFO

    def __init__(
        self, http: ProviderHttp, credentials: Credentials, *, vendor_timeout_seconds: int | None = None
    ) -> None:
        """Keep the client and key; ``vendor_timeout_seconds`` limits ZeroBounce's time before it returns `unknown`."""
        api_key = credentials.get("api_key", "").strip()
        if not api_key:
            raise ValueError('zerobounce credentials have no "api_key"; store the key as {"api_key": "..."}')
        self._http = http
        self._api_key = api_key
        self._vendor_timeout_seconds = vendor_timeout_seconds

    def verify(self, address: str) -> VerificationResult:
        """Validate ``address`` with one request and map ZeroBounce's status to Cascade's verdict.

        An address that is not valid syntax gets an invalid verdict without a request, because
        ZeroBounce blocks an account for an hour after 100 bad requests in a minute.
        """
        email = normalise_email(address)
        if email.address is None:
            return syntax_rejection(INFO.name)
        params: dict[str, str | int | float | bool] = {
            "api_key": self._api_key,
            "email": email.ascii_address or email.address,
            # ZeroBounce expects the parameter even when there is no sign-up IP to send.
            "ip_address": "",
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
    # The SDK checks `error` before anything else, whatever the HTTP status.
    failed = error_or_status_failure(response, body, INFO.name, _ERROR_OUTCOMES, reply.latency_ms)
    if failed is not None:
        return failed
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return failure(
            AttemptOutcome.BAD_RESPONSE, status, "zerobounce reply is not JSON or has no status", reply.latency_ms
        )
    return _verdict_result(body, status, flags_from_address, reply.latency_ms)


def _verdict_result(
    body: Mapping[str, Any], http_status: int, flags_from_address: frozenset[EmailFlag], latency_ms: int
) -> VerificationResult:
    vendor_status = str(body["status"]).strip().lower()
    raw_sub_status = body.get("sub_status")
    sub_status = raw_sub_status.strip().lower() if isinstance(raw_sub_status, str) else ""

    verdict = _STATUS_VERDICTS.get(vendor_status, EmailVerdict.UNKNOWN)
    if sub_status in _DISPOSABLE_SUB_STATUSES:
        verdict = EmailVerdict.DISPOSABLE
    elif verdict is EmailVerdict.VALID and sub_status in _ACCEPT_ALL_SUB_STATUSES:
        verdict = EmailVerdict.CATCH_ALL

    flags = set(flags_from_address)
    if sub_status in _ROLE_SUB_STATUSES:
        flags.add(EmailFlag.ROLE)
    if _is_true(body.get("free_email")):
        flags.add(EmailFlag.FREE_MAIL)

    return VerificationResult(
        outcome=AttemptOutcome.FOUND,
        verdict=verdict,
        flags=frozenset(flags),
        vendor_status=vendor_status,
        vendor_sub_status=sub_status or None,
        http_status=http_status,
        latency_ms=latency_ms,
    )


def _is_true(value: object) -> bool:
    # free_email is a JSON boolean in ZeroBounce's examples but mx_found is a "true" string, so both forms count.
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"
