"""Apollo.io People Enrichment, API v1.

Written against https://docs.apollo.io/reference/people-enrichment,
https://docs.apollo.io/reference/authentication, https://docs.apollo.io/reference/rate-limits and
Apollo's email status article
(https://knowledge.apollo.io/hc/en-us/articles/4423314404621-Email-Status-Overview).

Endpoint: ``POST /api/v1/people/match``.

NOTE: this adapter finds email addresses only. Apollo returns phone numbers only with
``reveal_phone_number``, which requires a ``webhook_url`` and delivers the numbers later to that
webhook, while an adapter here makes one synchronous request per call.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.linkedin import parse_linkedin_url
from cascade.providers.base import (
    EmailCandidate,
    ProviderCost,
    ProviderInfo,
    ProviderKind,
    ProviderResult,
    RateLimit,
    RateLimitState,
)
from cascade.providers.candidates import email_candidate
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, parse_rate_limit_headers, parse_retry_after, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="apollo",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL}),
    # Estimate: Apollo's price for additional credits (about USD 0.20 each). A match with an
    # email costs 1 credit, a miss nothing.
    cost=ProviderCost(per_call=Decimal("0"), per_success=Decimal("0.20")),
    # NOTE: an estimate for paid plans. Apollo's limits differ by plan and are also enforced per
    # hour and per day. The x-rate-limit-minute header reports the account's real value.
    rate_limit=RateLimit(requests=200, per_seconds=60.0),
    api_version="v1",
    default_base_url="https://api.apollo.io",
    extra={"docs": "https://docs.apollo.io/reference/people-enrichment"},
)

_PATH = "/api/v1/people/match"

# email_status values, compared after lower-casing and turning spaces and hyphens into
# underscores. The knowledge base lists only display names: Verified, Likely to engage,
# Unverified, Update required and Unavailable, and the older Guessed, Pending Manual Verification,
# Bounced and No Email. The exact API strings are not documented.
_VERDICTS: dict[str, EmailVerdict] = {
    "verified": EmailVerdict.VALID,
    # Engagement data suggests the address works, but no mailbox check proved it.
    "likely_to_engage": EmailVerdict.UNKNOWN,
    "unverified": EmailVerdict.UNKNOWN,
    "guessed": EmailVerdict.UNKNOWN,
    "extrapolated": EmailVerdict.UNKNOWN,
    "pending_manual_verification": EmailVerdict.UNKNOWN,
    # Apollo flags the address as possibly outdated.
    "update_required": EmailVerdict.UNKNOWN,
    "bounced": EmailVerdict.INVALID,
}
# Statuses that mean Apollo has no address for the person.
_NO_EMAIL_STATUSES = frozenset({"unavailable", "no_email"})

# Apollo gives no score, so confidence follows its status: our estimate, not a vendor number.
_CONFIDENCE: dict[str, float] = {
    "verified": 0.9,
    "likely_to_engage": 0.7,
    "unverified": 0.5,
    "pending_manual_verification": 0.5,
    "update_required": 0.3,
    "guessed": 0.3,
    "extrapolated": 0.3,
    "bounced": 0.05,
}
_DEFAULT_CONFIDENCE = 0.3

# NOTE: inferred. Apollo's error bodies carry {"error": ..., "error_code": ...}. API_INACCESSIBLE
# is the code seen for a key without access to the endpoint, and the other codes are guesses
# at the names of the credit and rate-limit errors. Unlisted codes fall back to the HTTP status.
_ERROR_OUTCOMES: dict[str, AttemptOutcome] = {
    "api_inaccessible": AttemptOutcome.AUTH_ERROR,
    "invalid_api_key": AttemptOutcome.AUTH_ERROR,
    "insufficient_credits": AttemptOutcome.QUOTA_EXHAUSTED,
    "rate_limited": AttemptOutcome.THROTTLED,
    "rate_limit_exceeded": AttemptOutcome.THROTTLED,
}

# The placeholder Apollo puts in ``email`` when the address is locked for the account.
_LOCKED_EMAIL_LOCAL_PART = "email_not_unlocked"

# Windows in the order they are checked when Apollo throttles without a Retry-After header. The
# window is fixed and Apollo sends no reset time, so the whole window length is the safe wait.
# Some accounts get the 24-hour names instead of the daily ones.
_WINDOWS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("x-daily-requests-left", "x-24-hour-requests-left"), 86400.0),
    (("x-hourly-requests-left",), 3600.0),
    (("x-minute-requests-left",), 60.0),
)


def _status_key(vendor_status: str | None) -> str:
    return "_".join((vendor_status or "").strip().lower().replace("-", " ").split())


def email_verdict(vendor_status: str | None) -> EmailVerdict:
    """Map Apollo's ``email_status`` to Cascade's verdict, ignoring case and spacing.

    Unknown values map to ``UNKNOWN``. ``Unavailable`` means there is no address at all, which
    the adapter reports as not found without calling this function.
    """
    return _VERDICTS.get(_status_key(vendor_status), EmailVerdict.UNKNOWN)


def has_no_email(vendor_status: str | None) -> bool:
    """Return whether ``email_status`` means Apollo has no address for the person (``Unavailable``)."""
    return _status_key(vendor_status) in _NO_EMAIL_STATUSES


class ApolloFinder:
    """Find a work email with Apollo's People Enrichment (``people/match``)."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        self._http = http
        api_key = credentials.get("api_key")
        if not api_key:
            raise ValueError('apollo credentials have no "api_key"; store the Apollo API key as {"api_key": "..."}')
        self._api_key = api_key

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        if RequestedField.EMAIL not in fields:
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="apollo is used for email addresses only")
        body = _request_body(person)
        if body is None:
            return ProviderResult(
                AttemptOutcome.NOT_FOUND,
                detail="apollo needs a LinkedIn URL, or a name with a company domain or name",
            )
        reply = self._http.send("POST", _PATH, json_body=body, headers={"x-api-key": self._api_key})
        return _read_reply(reply)


def _request_body(person: NormalisedPerson) -> dict[str, Any] | None:
    """Build the match request from every identifying input, or return ``None`` when they are too few.

    NOTE: Apollo documents these as query parameters. They are sent as a JSON body, which Apollo
    accepts in practice (inferred), so that names stay out of request URLs and access logs.
    """
    body: dict[str, Any] = {}
    if person.first_name and person.last_name:
        body["first_name"] = person.first_name
        body["last_name"] = person.last_name
    elif person.full_name:
        body["name"] = person.full_name
    if person.company_domain:
        body["domain"] = person.company_domain
    if person.company_name:
        body["organization_name"] = person.company_name
    linkedin_url = parse_linkedin_url(person.linkedin_url).request_url() if person.linkedin_url else None
    if linkedin_url:
        body["linkedin_url"] = linkedin_url

    has_name = "first_name" in body or "name" in body
    has_company = "domain" in body or "organization_name" in body
    # Apollo may return an empty match for a name without a company, which still uses a request.
    if "linkedin_url" not in body and not (has_name and has_company):
        return None
    # Personal addresses are not work contacts, and Apollo withholds them in GDPR regions anyway.
    body["reveal_personal_emails"] = False
    return body


def _read_reply(reply: HttpReply) -> ProviderResult:
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response

    status = response.status_code
    # The 401 body is plain text ("Invalid access credentials."), so json_body() may be None.
    body = reply.json_body()
    error_code = _error_code(body)
    if error_code is not None:
        return _error_result(reply, status, error_code)
    if not 200 <= status < 300:
        return _error_result(reply, status, None)
    if not isinstance(body, dict) or "person" not in body:
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "apollo reply is not JSON with a person field")

    person = body["person"]
    # Apollo's not-found shape: HTTP 200 with "person": null.
    if person is None:
        return _result(AttemptOutcome.NOT_FOUND, reply, "apollo matched no person")
    if not isinstance(person, dict):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "apollo reply has a person field that is not an object")
    return _email_result(reply, person)


def _email_result(reply: HttpReply, person: dict[str, Any]) -> ProviderResult:
    raw_status = person.get("email_status")
    vendor_status = raw_status if isinstance(raw_status, str) and raw_status else None
    raw_email = person.get("email")
    if has_no_email(vendor_status) or raw_email is None or raw_email == "":
        return _result(AttemptOutcome.NOT_FOUND, reply, "apollo matched the person but has no email")
    if not isinstance(raw_email, str):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "apollo reply has an email field that is not a string")
    confidence = _CONFIDENCE.get(_status_key(vendor_status), _DEFAULT_CONFIDENCE)
    candidate = email_candidate(raw_email, vendor_status, email_verdict(vendor_status), confidence)
    if candidate is None:
        return _result(AttemptOutcome.NOT_FOUND, reply, "apollo returned an email that is not a valid address")
    local_part = candidate.address.rpartition("@")[0]
    if local_part.lower() == _LOCKED_EMAIL_LOCAL_PART:
        # NOTE: inferred from client code, because Apollo's pages do not document the placeholder.
        return _result(AttemptOutcome.NOT_FOUND, reply, "apollo withheld the email as locked for this account")
    return _result(AttemptOutcome.FOUND, reply, None, emails=(candidate,))


def _error_code(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    code = body.get("error_code")
    return code if isinstance(code, str) and code else None


def _error_result(reply: HttpReply, status: int, error_code: str | None) -> ProviderResult:
    outcome = _ERROR_OUTCOMES.get(error_code.strip().lower()) if error_code else None
    if outcome is None:
        # 403 means the key lacks this endpoint or master scope, an auth problem as for 401.
        outcome = status_outcome(status) or AttemptOutcome.BAD_RESPONSE
    shown = ""
    if error_code and error_code.replace("_", "").isalnum() and len(error_code) <= 40:
        # Codes are identifiers. Apollo's free-text "error" message is never copied, as it can echo input.
        shown = f" ({error_code})"
    return _result(outcome, reply, f"apollo answered HTTP {status}{shown}")


def _retry_after(headers: httpx.Headers) -> float | None:
    seconds = parse_retry_after(headers)
    if seconds is not None:
        return seconds
    for names, window_seconds in _WINDOWS:
        state = parse_rate_limit_headers(headers, remaining=names, limit=(), reset=())
        if state is not None and state.remaining == 0:
            return window_seconds
    return None


def _minute_budget(headers: httpx.Headers) -> RateLimitState | None:
    return parse_rate_limit_headers(
        headers, remaining=("x-minute-requests-left",), limit=("x-rate-limit-minute",), reset=()
    )


def _result(
    outcome: AttemptOutcome, reply: HttpReply, detail: str | None, *, emails: tuple[EmailCandidate, ...] = ()
) -> ProviderResult:
    return finder_result(
        outcome, reply, detail, emails=emails, read_retry_after=_retry_after, read_rate_limit=_minute_budget
    )
