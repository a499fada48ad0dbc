"""Prospeo Enrich Person (the current API that replaced the legacy ``/email-finder`` endpoints).

Written against https://prospeo.io/api-docs/enrich-person, ``/api-docs/authentication`` and
``/api-docs/person-object`` (as mirrored on prospeostaging.net), https://prospeo.io/mcp-docs/errors,
https://help.prospeo.io/en/article/api-rate-limits-19vqf50, and Prospeo's own MCP server
(github.com/prospeo-v2/prospeo-mcp-server ``src/types.ts`` and ``src/utils/errors.ts``).

Endpoint: ``POST /enrich-person``. Prospeo puts no version in its paths.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.linkedin import parse_linkedin_url
from cascade.normalise.phones import LineType
from cascade.providers.base import (
    EmailCandidate,
    PhoneCandidate,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    ProviderResult,
    RateLimit,
    RateLimitState,
)
from cascade.providers.candidates import email_candidate, phone_candidate
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, parse_rate_limit_headers, parse_retry_after, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="prospeo",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL, RequestedField.PHONE}),
    # Estimate: Prospeo's Starter list price (USD 39 a month for 1,000 credits). A match costs
    # 1 credit, a match with a mobile 10 credits (the extra entry), a miss nothing.
    cost=ProviderCost(per_call=Decimal("0"), per_success=Decimal("0.039")),
    # Starter and Growth plans: 5 a second, 300 a minute, 2,000 or 5,000 a day.
    rate_limit=RateLimit(requests=300, per_seconds=60.0),
    api_version="enrich-person",
    default_base_url="https://api.prospeo.io",
    extra={"docs": "https://prospeo.io/api-docs/enrich-person", "per_success_with_mobile_usd": "0.39"},
)

_PATH = "/enrich-person"

_VERDICTS: dict[str, EmailVerdict] = {
    "VERIFIED": EmailVerdict.VALID,
    # Prospeo could not verify the mailbox, most often because the domain accepts all mail.
    "UNVERIFIED": EmailVerdict.UNKNOWN,
    # The legacy endpoints' vocabulary, in case a reply still carries it.
    "VALID": EmailVerdict.VALID,
    "CATCH_ALL": EmailVerdict.CATCH_ALL,
    "INVALID": EmailVerdict.INVALID,
}

# Prospeo gives no score, so confidence follows its status: our estimate, not a vendor number.
_EMAIL_CONFIDENCE: dict[EmailVerdict, float] = {
    EmailVerdict.VALID: 0.9,
    EmailVerdict.CATCH_ALL: 0.5,
    EmailVerdict.UNKNOWN: 0.5,
    EmailVerdict.INVALID: 0.05,
    EmailVerdict.DISPOSABLE: 0.05,
}
_VERIFIED_MOBILE_CONFIDENCE = 0.9
_UNVERIFIED_MOBILE_CONFIDENCE = 0.6

# error_code values. RATE_LIMIT_EXCEEDED is the older name that Prospeo's MCP code still uses.
_ERROR_OUTCOMES: dict[str, AttemptOutcome] = {
    "NO_MATCH": AttemptOutcome.NOT_FOUND,
    "INSUFFICIENT_CREDITS": AttemptOutcome.QUOTA_EXHAUSTED,
    "INVALID_API_KEY": AttemptOutcome.AUTH_ERROR,
    # A restricted account cannot be used until Prospeo support lifts the restriction.
    "ACCOUNT_RESTRICTED": AttemptOutcome.AUTH_ERROR,
    "RATE_LIMITED": AttemptOutcome.THROTTLED,
    "RATE_LIMIT_EXCEEDED": AttemptOutcome.THROTTLED,
    "INVALID_DATAPOINTS": AttemptOutcome.BAD_RESPONSE,
    "INVALID_REQUEST": AttemptOutcome.BAD_RESPONSE,
    # Sent with HTTP 400, but it is Prospeo's own failure and worth another try later.
    "INTERNAL_ERROR": AttemptOutcome.TRANSIENT_ERROR,
}

# NOTE: these header names are inferred from a third-party summary of Prospeo's limits.
_MINUTE_LEFT = "x-minute-request-left"
_MINUTE_RESET = "x-minute-reset-seconds"
_DAILY_LEFT = "x-daily-request-left"
_DAILY_RESET = "x-daily-reset-seconds"


def email_verdict(vendor_status: str | None) -> EmailVerdict:
    """Map Prospeo's ``person.email.status`` to Cascade's verdict, and unknown values to ``UNKNOWN``."""
    return _VERDICTS.get((vendor_status or "").strip().upper(), EmailVerdict.UNKNOWN)


def error_outcome(error_code: str | None) -> AttemptOutcome | None:
    """Map Prospeo's ``error_code`` to an outcome, or return ``None`` for a code not listed here."""
    return _ERROR_OUTCOMES.get((error_code or "").strip().upper())


class ProspeoFinder:
    """Find a work email and, on request, a mobile number with Prospeo's Enrich Person."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        self._http = http
        api_key = credentials.get("api_key")
        if not api_key:
            raise ValueError('prospeo credentials have no "api_key"; store the Prospeo API key as {"api_key": "..."}')
        self._api_key = api_key

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        requested = fields & INFO.fields
        if not requested:
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="prospeo finds email addresses and mobiles only")
        datapoints = _datapoints(person)
        if datapoints is None:
            return ProviderResult(
                AttemptOutcome.NOT_FOUND,
                detail="prospeo needs a LinkedIn URL, or a name with a company domain or name",
            )
        body = {
            "only_verified_email": False,
            # A mobile costs 10 credits instead of 1, so it is asked for only when requested.
            "enrich_mobile": RequestedField.PHONE in requested,
            "only_verified_mobile": False,
            "data": datapoints,
        }
        reply = self._http.send("POST", _PATH, json_body=body, headers={"X-KEY": self._api_key})
        return _read_reply(reply, requested, person.country)


def _datapoints(person: NormalisedPerson) -> dict[str, str] | None:
    """Build the ``data`` object from every identifying input, or return ``None`` when they are too few.

    Prospeo matches better with more datapoints, so the LinkedIn URL, the name and the company
    are all sent when present.
    """
    data: dict[str, str] = {}
    if person.first_name and person.last_name:
        data["first_name"] = person.first_name
        data["last_name"] = person.last_name
    elif person.full_name:
        data["full_name"] = person.full_name
    if person.company_domain:
        data["company_website"] = person.company_domain
    if person.company_name:
        data["company_name"] = person.company_name
    linkedin_url = parse_linkedin_url(person.linkedin_url).request_url() if person.linkedin_url else None
    if linkedin_url:
        data["linkedin_url"] = linkedin_url

    has_name = "first_name" in data or "full_name" in data
    has_company = "company_website" in data or "company_name" in data
    if "linkedin_url" not in data and not (has_name and has_company):
        return None
    return data


def _read_reply(reply: HttpReply, requested: frozenset[RequestedField], country: str | None) -> ProviderResult:
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response

    status = response.status_code
    body = reply.json_body()
    # Every Prospeo body carries the error flag, whatever the HTTP status, so it is read first.
    if isinstance(body, dict) and body.get("error") is True:
        return _error_result(reply, status, body.get("error_code"))
    if not 200 <= status < 300:
        outcome = status_outcome(status) or AttemptOutcome.BAD_RESPONSE
        return _result(outcome, reply, f"prospeo answered HTTP {status}")
    if not isinstance(body, dict) or body.get("error") is not False:
        return _result(AttemptOutcome.BAD_RESPONSE, reply, 'prospeo reply is not JSON with "error": false')

    person = body.get("person")
    if person is None:
        return _result(AttemptOutcome.NOT_FOUND, reply, "prospeo matched no person")
    if not isinstance(person, dict):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "prospeo reply has a person field that is not an object")

    emails = _email_candidates(person.get("email")) if RequestedField.EMAIL in requested else ()
    phones = _phone_candidates(person.get("mobile"), country) if RequestedField.PHONE in requested else ()
    if not emails and not phones:
        return _result(AttemptOutcome.NOT_FOUND, reply, "prospeo matched the person but returned none of the fields")
    return _result(AttemptOutcome.FOUND, reply, None, emails=emails, phones=phones)


def _email_candidates(email: Any) -> tuple[EmailCandidate, ...]:
    if not isinstance(email, dict) or email.get("revealed") is False:
        return ()
    raw = email.get("email")
    if not isinstance(raw, str) or not raw:
        return ()
    raw_status = email.get("status")
    vendor_status = raw_status if isinstance(raw_status, str) and raw_status else None
    verdict = email_verdict(vendor_status)
    candidate = email_candidate(raw, vendor_status, verdict, _EMAIL_CONFIDENCE[verdict])
    if candidate is None:
        return ()
    # A disposable domain turns the verdict into DISPOSABLE, and the confidence follows the final verdict.
    return (replace(candidate, confidence=_EMAIL_CONFIDENCE[candidate.verdict]),)


def _phone_candidates(mobile: Any, country: str | None) -> tuple[PhoneCandidate, ...]:
    if not isinstance(mobile, dict) or mobile.get("revealed") is False:
        return ()
    raw = mobile.get("mobile") or mobile.get("mobile_international")
    if not isinstance(raw, str):
        return ()
    region = mobile.get("mobile_country_code")
    hint = region if isinstance(region, str) and len(region) == 2 and region.isalpha() else country
    verified = mobile.get("status") == "VERIFIED"
    confidence = _VERIFIED_MOBILE_CONFIDENCE if verified else _UNVERIFIED_MOBILE_CONFIDENCE
    # Prospeo returns mobiles only, which is evidence for the line type where the numbering plan leaves it open.
    candidate = phone_candidate(raw, "mobile", LineType.MOBILE, hint, confidence)
    return (candidate,)


def _error_result(reply: HttpReply, status: int, raw_code: Any) -> ProviderResult:
    code = raw_code if isinstance(raw_code, str) else None
    outcome = error_outcome(code)
    if outcome is None:
        # An unlisted code: fall back to what the HTTP status means, and to a bad response on a 200.
        outcome = status_outcome(status) or AttemptOutcome.BAD_RESPONSE
    # Codes are upper-case identifiers, and anything else is left out of the detail.
    label = code if code is not None and code.replace("_", "").isalnum() and len(code) <= 40 else "unreadable code"
    return _result(outcome, reply, f"prospeo error {label} (HTTP {status})")


def _retry_after(headers: httpx.Headers) -> float | None:
    """Read the wait from Retry-After, else from the reset header of the exhausted window."""
    seconds = parse_retry_after(headers)
    if seconds is not None:
        return seconds
    for left, reset in ((_DAILY_LEFT, _DAILY_RESET), (_MINUTE_LEFT, _MINUTE_RESET)):
        state = parse_rate_limit_headers(headers, remaining=(left,), limit=(), reset=(reset,))
        if state is not None and state.remaining == 0 and state.reset_after_seconds is not None:
            return float(state.reset_after_seconds)
    state = parse_rate_limit_headers(headers, remaining=(), limit=(), reset=(_MINUTE_RESET,))
    return None if state is None or state.reset_after_seconds is None else float(state.reset_after_seconds)


def _minute_budget(headers: httpx.Headers) -> RateLimitState | None:
    return parse_rate_limit_headers(headers, remaining=(_MINUTE_LEFT,), limit=(), reset=(_MINUTE_RESET,))


def _result(
    outcome: AttemptOutcome,
    reply: HttpReply,
    detail: str | None,
    *,
    emails: tuple[EmailCandidate, ...] = (),
    phones: tuple[PhoneCandidate, ...] = (),
) -> ProviderResult:
    return finder_result(
        outcome,
        reply,
        detail,
        emails=emails,
        phones=phones,
        read_retry_after=_retry_after,
        read_rate_limit=_minute_budget,
    )
