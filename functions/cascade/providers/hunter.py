"""Hunter.io Email Finder, API v2.

Written against https://hunter.io/api-documentation/v2 (authentication and the status code
table), Hunter's help article on how requests are counted, and Hunter's own clients
(github.com/hunter-io/chatgpt-mcp ``src/helpers.ts``, github.com/hunter-io/claude-plugin
``skills/email-finder/SKILL.md``). The LinkedIn parameter and the full response field list come
from a third-party OpenAPI description (github.com/api-evangelist/hunter-io).

Endpoint: ``GET /v2/email-finder``. Hunter documents no rate-limit headers. Results still read the
common names, in case it adds them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.linkedin import parse_linkedin_url
from cascade.providers.base import ProviderCost, ProviderInfo, ProviderKind, ProviderResult, RateLimit
from cascade.providers.candidates import email_candidate
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, parse_retry_after, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="hunter",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL}),
    # Estimate: Hunter's Starter list price (USD 49 a month for 2,000 credits) per email found.
    # Hunter charges nothing when it finds no email.
    cost=ProviderCost(per_call=Decimal("0"), per_success=Decimal("0.0245")),
    # NOTE: inferred from a third-party limits profile, not a Hunter page: 15 requests a second
    # and 500 a minute per key. The minute budget is the one that binds for sustained traffic.
    rate_limit=RateLimit(requests=500, per_seconds=60.0),
    api_version="v2",
    default_base_url="https://api.hunter.io",
    extra={"docs": "https://hunter.io/api-documentation/v2#email-finder"},
)

_PATH = "/v2/email-finder"

# Hunter's verification.status values. ``webmail`` marks a free-mail provider whose mailboxes
# Hunter does not verify, so that status gives no evidence of deliverability.
_VERDICTS: dict[str, EmailVerdict] = {
    "valid": EmailVerdict.VALID,
    "invalid": EmailVerdict.INVALID,
    "accept_all": EmailVerdict.CATCH_ALL,
    "webmail": EmailVerdict.UNKNOWN,
    "disposable": EmailVerdict.DISPOSABLE,
    "unknown": EmailVerdict.UNKNOWN,
}

# Hunter documents 202 (verification still running) and 222 (unexpected SMTP reply) for its
# verifier. The finder may run the same check, and both codes mean "ask again later".
_RETRY_LATER_STATUSES = frozenset({202, 222})

_MAX_SCORE = 100


def email_verdict(vendor_status: str | None, *, accept_all: bool = False) -> EmailVerdict:
    """Map Hunter's ``verification.status`` and ``accept_all`` flag to Cascade's verdict.

    Unknown or missing statuses map to ``UNKNOWN``. When Hunter reports the domain as
    accept-all, a ``valid`` or unknown status becomes ``CATCH_ALL``: a server that accepts every
    recipient cannot prove that one mailbox exists, and Cascade bills catch-all addresses
    only when the caller accepts them.
    """
    verdict = _VERDICTS.get((vendor_status or "").strip().lower(), EmailVerdict.UNKNOWN)
    if accept_all and verdict in (EmailVerdict.VALID, EmailVerdict.UNKNOWN):
        return EmailVerdict.CATCH_ALL
    return verdict


class HunterFinder:
    """Find a work email with Hunter's Email Finder, one request per call."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        self._http = http
        api_key = credentials.get("api_key")
        if not api_key:
            raise ValueError('hunter credentials have no "api_key"; store the Hunter API key as {"api_key": "..."}')
        self._api_key = api_key

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        if RequestedField.EMAIL not in fields:
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="hunter finds email addresses only")
        params = _search_params(person)
        if params is None:
            return ProviderResult(
                AttemptOutcome.NOT_FOUND,
                detail="hunter needs a name with a company domain or name, or a LinkedIn URL",
            )
        # The key goes in a header rather than the api_key query parameter, so it stays out of URLs
        # that proxies and access logs record.
        reply = self._http.send("GET", _PATH, params=params, headers={"X-API-KEY": self._api_key})
        return _read_reply(reply)


def _search_params(person: NormalisedPerson) -> dict[str, str] | None:
    """Build the Email Finder query from the person's inputs, or return ``None`` when they are too few.

    A name with a company is Hunter's documented search. The LinkedIn handle is used only when
    no name-and-company pair is available.
    """
    params: dict[str, str] = {}
    if person.company_domain:
        params["domain"] = person.company_domain
    elif person.company_name:
        params["company"] = person.company_name

    has_company = bool(params)
    if has_company and person.first_name and person.last_name:
        params["first_name"] = person.first_name
        params["last_name"] = person.last_name
        return params
    if has_company and person.full_name:
        params["full_name"] = person.full_name
        return params

    handle = _linkedin_handle(person)
    if handle is None:
        return None
    # NOTE: linkedin_handle (the slug after /in/) is inferred from a third-party OpenAPI and
    # client code, not from Hunter's page. Any company known is sent along with it.
    params["linkedin_handle"] = handle
    return params


def _linkedin_handle(person: NormalisedPerson) -> str | None:
    if not person.linkedin_url:
        return None
    return parse_linkedin_url(person.linkedin_url).slug


def _read_reply(reply: HttpReply) -> ProviderResult:
    """Map one Email Finder exchange to a result."""
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response

    status = response.status_code
    body = reply.json_body()
    error_id, error_code = _first_error(body)
    if 200 <= status < 300 and error_code is not None:
        # Hunter documents no errors inside a 200. A 2xx body that still carries Hunter's error
        # envelope is read by the code inside it.
        return _error_result(reply, response.headers, error_code, error_id, inside_200=True)
    if status in _RETRY_LATER_STATUSES:
        return finder_result(
            AttemptOutcome.TRANSIENT_ERROR, reply, f"hunter has not finished the search (HTTP {status})"
        )
    if 200 <= status < 300:
        return _found_result(reply, body)
    return _error_result(reply, response.headers, status, error_id, inside_200=False)


def _found_result(reply: HttpReply, body: Any) -> ProviderResult:
    if not isinstance(body, dict) or "data" not in body:
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "hunter reply is not JSON with a data object")
    data = body["data"]
    if data is None:
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "hunter found no email")
    if not isinstance(data, dict):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "hunter reply has a data field that is not an object")

    # Hunter's not-found shape: a 200 whose data has no email. It charges nothing for it.
    raw_email = data.get("email")
    if raw_email is None or raw_email == "":
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "hunter found no email")
    if not isinstance(raw_email, str):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "hunter reply has an email field that is not a string")
    vendor_status = _verification_status(data.get("verification"))
    candidate = email_candidate(
        raw_email,
        vendor_status,
        email_verdict(vendor_status, accept_all=data.get("accept_all") is True),
        _confidence(data.get("score")),
        vendor_free_mail=vendor_status == "webmail" or data.get("webmail") is True,
    )
    if candidate is None:
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "hunter returned an email that is not a valid address")
    return finder_result(AttemptOutcome.FOUND, reply, None, emails=(candidate,))


def _verification_status(verification: Any) -> str | None:
    if not isinstance(verification, dict):
        return None
    status = verification.get("status")
    return status if isinstance(status, str) and status else None


def _confidence(score: Any) -> float:
    """Scale Hunter's 0-100 score to [0, 1], and a missing score to 0."""
    if isinstance(score, bool) or not isinstance(score, int | float):
        return 0.0
    return min(max(float(score) / _MAX_SCORE, 0.0), 1.0)


def _error_result(
    reply: HttpReply, headers: httpx.Headers, status: int, error_id: str | None, *, inside_200: bool
) -> ProviderResult:
    where = f"error code {status} inside HTTP 200" if inside_200 else f"HTTP {status}"
    suffix = f" ({error_id})" if error_id else ""

    if status == 403:
        # Hunter's status table uses 403 for "rate limit reached", not for a bad key.
        return finder_result(AttemptOutcome.THROTTLED, reply, f"hunter rate limit reached, {where}")
    if status == 429:
        # NOTE: inferred split. Hunter's table calls 429 "usage limit reached" (the monthly quota),
        # while its own client reads Retry-After on 429 as a short throttle.
        if parse_retry_after(headers) is not None:
            return finder_result(AttemptOutcome.THROTTLED, reply, f"hunter throttled the request, {where}")
        return finder_result(AttemptOutcome.QUOTA_EXHAUSTED, reply, f"hunter usage limit reached, {where}{suffix}")
    if status == 402:
        return finder_result(AttemptOutcome.QUOTA_EXHAUSTED, reply, f"hunter monthly quota exhausted, {where}")
    if status == 404:
        return finder_result(AttemptOutcome.NOT_FOUND, reply, f"hunter found no email, {where}")
    if status == 451:
        return finder_result(AttemptOutcome.NOT_FOUND, reply, f"hunter withholds this person's data, {where}")
    outcome = status_outcome(status) or AttemptOutcome.BAD_RESPONSE
    return finder_result(outcome, reply, f"hunter answered {where}{suffix}")


def _first_error(body: Any) -> tuple[str | None, int | None]:
    """Return the id and numeric code of the first entry of Hunter's ``errors`` envelope."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, None
    first = errors[0]
    raw_id = first.get("id")
    # Only a short code-like id goes into the detail string, never free text that could echo input.
    error_id = raw_id if isinstance(raw_id, str) and raw_id.isidentifier() and len(raw_id) <= 40 else None
    code = first.get("code")
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        # An envelope without a usable code is still an error, read as Hunter's 400 for bad input.
        code = 400
    return error_id, code
