"""Twilio Lookup v2 phone validator with Line Type Intelligence.

Follows Twilio's Lookup v2 pages (https://www.twilio.com/docs/lookup/v2-api/line-type-intelligence,
https://www.twilio.com/docs/lookup/v2-api/formatting-validation, https://www.twilio.com/docs/lookup/quickstart),
the error page for 20429 (https://www.twilio.com/docs/api/errors/20429) and the Lookup v2 OpenAPI spec
(github.com/twilio/twilio-oai, ``spec/yaml/twilio_lookups_v2.yaml``).

Endpoint: ``GET /v2/PhoneNumbers/{PhoneNumber}?Fields=line_type_intelligence`` with HTTP Basic
authentication, account SID as the user name and auth token as the password. Line Type Intelligence
is billed per request; the basic validation in the same reply is free.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from cascade.domain.models import AttemptOutcome, PhoneVerdict, RequestedField
from cascade.normalise.phones import LineType
from cascade.providers.base import (
    PhoneLookupResult,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    RateLimit,
)
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, parse_retry_after, status_outcome
from cascade.providers.replies import response_or_failure

INFO = ProviderInfo(
    name="twilio",
    kind=ProviderKind.PHONE_VALIDATOR,
    fields=frozenset({RequestedField.PHONE}),
    # An estimate of the Line Type Intelligence list price per request, not a quote; Twilio bills
    # the package on every request, found or not.
    cost=ProviderCost(per_call=Decimal("0.008")),
    # NOTE: Twilio limits concurrent requests per account (error 20429), not requests per second, and
    # publishes no figure for Lookup. 100 a second is an estimate to tune against the
    # Twilio-Concurrent-Requests header.
    rate_limit=RateLimit(requests=100, per_seconds=1.0),
    api_version="v2",
    default_base_url="https://lookups.twilio.com",
)

PHONE_NUMBERS_PATH = "/v2/PhoneNumbers/"

# Twilio's line_type_intelligence.type values, as documented; a value Twilio adds later is UNKNOWN.
LINE_TYPES: Mapping[str, LineType] = {
    "landline": LineType.FIXED_LINE,
    "mobile": LineType.MOBILE,
    "fixedVoip": LineType.VOIP,
    "nonFixedVoip": LineType.VOIP,
    "personal": LineType.PERSONAL_NUMBER,
    "tollFree": LineType.TOLL_FREE,
    "premium": LineType.PREMIUM_RATE,
    "sharedCost": LineType.SHARED_COST,
    "uan": LineType.UAN,
    "voicemail": LineType.VOICEMAIL,
    "pager": LineType.PAGER,
    "unknown": LineType.UNKNOWN,
}

# Twilio error codes (the `code` of its error body) whose meaning is more precise than the HTTP status.
# NOTE: the error body shape {code, message, more_info, status} is Twilio's standard one and is
# inferred for Lookup. Twilio documents no out-of-credit error for Lookup; 20005 "account not active"
# is what a suspended account, for example one with an unpaid balance, is read to get.
ERROR_CODES: Mapping[int, AttemptOutcome] = {
    20003: AttemptOutcome.AUTH_ERROR,
    20005: AttemptOutcome.QUOTA_EXHAUSTED,
    20404: AttemptOutcome.NOT_FOUND,
    20429: AttemptOutcome.THROTTLED,
}

# Validation error names are a closed upper-case vocabulary, safe to put into a detail string.
_VALIDATION_ERROR = re.compile(r"[A-Z_]{1,40}")


class TwilioLookup:
    """Checks one number's validity and line type with one Twilio Lookup v2 request per call."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        account_sid = credentials.get("account_sid", "").strip()
        auth_token = credentials.get("auth_token", "").strip()
        if not account_sid or not auth_token:
            raise ValueError(
                'twilio credentials need "account_sid" and "auth_token"; store them as '
                '{"account_sid": "AC...", "auth_token": "..."}'
            )
        self._http = http
        self._auth = (account_sid, auth_token)

    def lookup(self, e164: str) -> PhoneLookupResult:
        """Look ``e164`` up once and return Twilio's validity verdict and line type.

        A number Twilio reads as invalid is a FOUND result with verdict INVALID; a number Twilio
        cannot parse at all (HTTP 404) is NOT_FOUND with verdict INVALID.
        """
        # The leading + must reach Twilio as %2B: a literal + in a URL can be read as a space.
        path = PHONE_NUMBERS_PATH + quote(e164.strip(), safe="")
        reply = self._http.send("GET", path, params={"Fields": "line_type_intelligence"}, auth=self._auth)
        return _read_reply(reply)


def line_type(twilio_type: str | None) -> LineType:
    """Map Twilio's line type to Cascade's; a missing or new type is UNKNOWN."""
    if twilio_type is None:
        return LineType.UNKNOWN
    return LINE_TYPES.get(twilio_type.strip(), LineType.UNKNOWN)


def _read_reply(reply: HttpReply) -> PhoneLookupResult:
    response = response_or_failure(reply, INFO.name, PhoneLookupResult)
    if isinstance(response, PhoneLookupResult):
        return response
    status = response.status_code
    body = reply.json_body()
    error_code = _error_code(body)

    if status_outcome(status) is not None or (isinstance(body, dict) and "valid" not in body and error_code):
        return _error_result(status, body, response.headers, reply.latency_ms)
    if not isinstance(body, dict):
        return _failure(AttemptOutcome.BAD_RESPONSE, status, "twilio reply is not a JSON object", reply.latency_ms)
    valid = body.get("valid")
    if not isinstance(valid, bool):
        return _failure(AttemptOutcome.BAD_RESPONSE, status, "twilio reply has no valid field", reply.latency_ms)
    phone_number = body.get("phone_number")
    e164 = phone_number if isinstance(phone_number, str) and phone_number else None
    if not valid:
        return PhoneLookupResult(
            outcome=AttemptOutcome.FOUND,
            e164=e164,
            verdict=PhoneVerdict.INVALID,
            http_status=status,
            detail=f"twilio reports the number invalid{_validation_errors_suffix(body)}",
            latency_ms=reply.latency_ms,
        )
    return _valid_result(body, e164, status, reply.latency_ms)


def _valid_result(body: Mapping[str, Any], e164: str | None, status: int, latency_ms: int) -> PhoneLookupResult:
    intelligence = body.get("line_type_intelligence")
    if not isinstance(intelligence, dict):
        return PhoneLookupResult(
            outcome=AttemptOutcome.FOUND,
            e164=e164,
            verdict=PhoneVerdict.VALID,
            http_status=status,
            detail="twilio sent no line_type_intelligence, so the line type is unknown",
            latency_ms=latency_ms,
        )
    raw_type = intelligence.get("type")
    vendor_type = raw_type if isinstance(raw_type, str) and raw_type else None
    carrier = intelligence.get("carrier_name")
    # Line Type Intelligence reports its own failures, such as 60600 (no coverage) or 60601 (Canadian
    # number without NPAC approval), in `error_code` inside the HTTP 200; the validation still holds.
    lti_error = intelligence.get("error_code")
    detail = None
    if isinstance(lti_error, int) and not isinstance(lti_error, bool):
        detail = f"twilio line type intelligence error {lti_error}"
    return PhoneLookupResult(
        outcome=AttemptOutcome.FOUND,
        e164=e164,
        verdict=PhoneVerdict.VALID,
        line_type=line_type(vendor_type),
        carrier=carrier if isinstance(carrier, str) and carrier else None,
        vendor_type=vendor_type,
        http_status=status,
        detail=detail,
        latency_ms=latency_ms,
    )


def _error_result(status: int, body: Any, headers: Mapping[str, str], latency_ms: int) -> PhoneLookupResult:
    error_code = _error_code(body)
    by_code = ERROR_CODES.get(error_code) if error_code is not None else None
    # An error body inside an HTTP 200 carries the status that Twilio meant in its own `status` field.
    embedded = body.get("status") if isinstance(body, dict) else None
    by_embedded = status_outcome(embedded) if isinstance(embedded, int) and not isinstance(embedded, bool) else None
    outcome = by_code or status_outcome(status) or by_embedded or AttemptOutcome.BAD_RESPONSE
    code_text = f" (error {error_code})" if error_code is not None else ""
    detail = f"twilio answered HTTP {status}{code_text}"
    verdict = PhoneVerdict.UNKNOWN
    if outcome is AttemptOutcome.NOT_FOUND:
        if error_code is None:
            # Without Twilio's error body, a 404 comes from a wrong path or base URL, not from the number.
            outcome = AttemptOutcome.BAD_RESPONSE
            detail += ": the endpoint was not found"
        else:
            verdict = PhoneVerdict.INVALID
            detail += ": twilio could not parse the number"
    retry_after = parse_retry_after(headers) if outcome is AttemptOutcome.THROTTLED else None
    return PhoneLookupResult(
        outcome=outcome,
        verdict=verdict,
        retry_after_seconds=retry_after,
        http_status=status,
        detail=detail,
        latency_ms=latency_ms,
    )


def _error_code(body: Any) -> int | None:
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    return None


def _validation_errors_suffix(body: Mapping[str, Any]) -> str:
    errors = body.get("validation_errors")
    if not isinstance(errors, list):
        return ""
    names = [error for error in errors if isinstance(error, str) and _VALIDATION_ERROR.fullmatch(error)]
    return f" ({', '.join(names)})" if names else ""


def _failure(outcome: AttemptOutcome, status: int, detail: str, latency_ms: int) -> PhoneLookupResult:
    return PhoneLookupResult(outcome=outcome, http_status=status, detail=detail, latency_ms=latency_ms)
