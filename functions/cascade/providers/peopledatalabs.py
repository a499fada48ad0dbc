"""People Data Labs Person Enrichment, API v5.

Written against https://docs.peopledatalabs.com/docs/reference-person-enrichment-api,
``/docs/input-parameters-person-enrichment-api``, ``/docs/output-response-person-enrichment-api``,
``/docs/errors`` and ``/docs/usage-limits``, and the official Python SDK
(github.com/peopledatalabs/peopledatalabs-python ``src/peopledatalabs/requests.py``).

Endpoint: ``POST /v5/person/enrich`` with a JSON body. PDL also serves GET with a query
string; POST keeps names and profile URLs out of request URLs, which proxies and access logs
record.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
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
from cascade.providers.http import HttpReply, ProviderHttp, parse_retry_after, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="peopledatalabs",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL, RequestedField.PHONE}),
    # Estimate: the Pro plan list price (USD 98 a month for 350 person enrichment credits). PDL bills
    # a match only, and the required filter below turns a match without the fields into a miss.
    cost=ProviderCost(per_call=Decimal("0"), per_success=Decimal("0.28")),
    # The default for paid keys, while free keys get 100 a minute. Each endpoint has its own window.
    rate_limit=RateLimit(requests=1000, per_seconds=60.0),
    api_version="v5",
    default_base_url="https://api.peopledatalabs.com",
    extra={"docs": "https://docs.peopledatalabs.com/docs/reference-person-enrichment-api"},
)

_PATH = "/v5/person/enrich"

# PDL returns 404 for a match below this likelihood, so a weak match is a free miss instead of
# a billed record that may belong to someone else. Our choice, not a PDL recommendation.
_MIN_LIKELIHOOD = 6
_MAX_LIKELIHOOD = 10

_EMAIL_FIELDS = ("work_email",)
_PHONE_FIELDS = ("mobile_phone", "phone_numbers")
# Only the contact fields are asked for: Cascade uses nothing else, and less personal data
# crosses the wire.
_DATA_INCLUDE = "work_email,emails,mobile_phone,phone_numbers"
# The one entry type of ``emails[]`` that is a current work address.
_CURRENT_WORK_EMAIL_TYPE = "current_professional"

# error.type values from PDL's error table.
_ERROR_OUTCOMES: dict[str, AttemptOutcome] = {
    "not_found": AttemptOutcome.NOT_FOUND,
    "payment_required": AttemptOutcome.QUOTA_EXHAUSTED,
    "rate_limit_error": AttemptOutcome.THROTTLED,
    "authentication_error": AttemptOutcome.AUTH_ERROR,
    "invalid_request_error": AttemptOutcome.BAD_RESPONSE,
    "api_error": AttemptOutcome.TRANSIENT_ERROR,
}

# PDL's documented sample prints the rate-limit objects with Python's repr (single quotes and
# None), so the minute count is also read with this pattern when the value is not JSON.
_MINUTE_ENTRY = re.compile(r"""["']?minute["']?\s*:\s*(\d+)""")
# Older replies sent x-ratelimit-reset as epoch seconds. A value above this is a timestamp, below it a delay.
_EPOCH_THRESHOLD = 1_000_000_000
_MAX_WAIT_SECONDS = 3600.0


def error_outcome(error_type: str | None) -> AttemptOutcome | None:
    """Map PDL's ``error.type`` to an outcome, or return ``None`` for a type not listed here."""
    return _ERROR_OUTCOMES.get((error_type or "").strip().lower())


def confidence_from_likelihood(likelihood: Any) -> float:
    """Scale PDL's 1-10 likelihood to [0, 1] by dividing by 10, and a missing likelihood to 0.

    PDL calls the scale logarithmic, so the result ranks matches but is not a probability.
    """
    if isinstance(likelihood, bool) or not isinstance(likelihood, int | float) or math.isnan(likelihood):
        return 0.0
    return min(max(float(likelihood) / _MAX_LIKELIHOOD, 0.0), 1.0)


def rate_limit_state(headers: httpx.Headers, *, now: datetime | None = None) -> RateLimitState | None:
    """Read the minute window from PDL's rate-limit headers, or return ``None`` when PDL sent none.

    PDL sends ``x-ratelimit-remaining`` and ``x-ratelimit-limit`` as objects with ``minute``,
    ``day`` and ``month`` entries, which the shared header parser cannot read, and
    ``x-ratelimit-reset`` as a UTC timestamp.
    """
    state = RateLimitState(
        remaining=_minute_count(headers.get("x-ratelimit-remaining")),
        limit=_minute_count(headers.get("x-ratelimit-limit")),
        reset_after_seconds=_seconds_until(headers.get("x-ratelimit-reset"), now=now),
    )
    if state.remaining is None and state.limit is None and state.reset_after_seconds is None:
        return None
    return state


class PeopleDataLabsFinder:
    """Find a work email and phone numbers with PDL's Person Enrichment API."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        self._http = http
        api_key = credentials.get("api_key")
        if not api_key:
            raise ValueError(
                'peopledatalabs credentials have no "api_key"; store the PDL API key as {"api_key": "..."}'
            )
        self._api_key = api_key

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        requested = fields & INFO.fields
        if not requested:
            return ProviderResult(AttemptOutcome.NOT_FOUND, detail="peopledatalabs finds emails and phones only")
        body = _request_body(person, requested)
        if body is None:
            return ProviderResult(
                AttemptOutcome.NOT_FOUND,
                detail="peopledatalabs needs a LinkedIn URL, or a name with a company domain or name",
            )
        reply = self._http.send("POST", _PATH, json_body=body, headers={"X-Api-Key": self._api_key})
        return _read_reply(reply, requested, person.country)


def _request_body(person: NormalisedPerson, requested: frozenset[RequestedField]) -> dict[str, Any] | None:
    body: dict[str, Any] = {}
    slug = parse_linkedin_url(person.linkedin_url).request_url() if person.linkedin_url else None
    if slug:
        # PDL's examples write profiles without scheme or www.
        body["profile"] = slug.removeprefix("https://www.")
    if person.first_name and person.last_name:
        body["first_name"] = person.first_name
        body["last_name"] = person.last_name
    elif person.full_name:
        body["name"] = person.full_name
    # PDL's company parameter takes a name, a website or a social URL, and the domain is the
    # least ambiguous of them.
    company = person.company_domain or person.company_name
    if company:
        body["company"] = company

    has_name = "first_name" in body or "name" in body
    if "profile" not in body and not (has_name and company):
        return None
    body["min_likelihood"] = _MIN_LIKELIHOOD
    body["required"] = _required_expression(requested)
    body["data_include"] = _DATA_INCLUDE
    return body


def _required_expression(requested: frozenset[RequestedField]) -> str:
    """Build the ``required`` filter: a match without any requested field comes back as a free 404.

    NOTE: the AND/OR syntax of ``required`` is inferred from PDL's examples; a single field name
    is the documented form.
    """
    names: list[str] = []
    if RequestedField.EMAIL in requested:
        names.extend(_EMAIL_FIELDS)
    if RequestedField.PHONE in requested:
        names.extend(_PHONE_FIELDS)
    return " OR ".join(names)


def _read_reply(reply: HttpReply, requested: frozenset[RequestedField], country: str | None) -> ProviderResult:
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response

    status = response.status_code
    body = reply.json_body()
    body_status = _body_status(body)
    error = body.get("error") if isinstance(body, dict) else None
    if not 200 <= status < 300:
        return _error_result(reply, status, error)
    # PDL repeats the HTTP status in the body. A 200 whose body carries an error status or an
    # error object is read by the body, so an error passed on by a proxy is not taken for a match.
    if body_status >= 400 or isinstance(error, dict):
        return _error_result(reply, body_status or status, error)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "peopledatalabs reply is not JSON with a data object")

    data: dict[str, Any] = body["data"]
    confidence = confidence_from_likelihood(body.get("likelihood"))
    emails = _email_candidates(data, confidence) if RequestedField.EMAIL in requested else ()
    phones = _phone_candidates(data, confidence, country) if RequestedField.PHONE in requested else ()
    if emails or phones:
        return _result(AttemptOutcome.FOUND, reply, None, emails=emails, phones=phones)
    if any(isinstance(data.get(name), bool) for name in (*_EMAIL_FIELDS, *_PHONE_FIELDS)):
        # Free plans return true or false in place of contact values.
        detail = "peopledatalabs returned presence flags instead of contact values (a free plan key)"
    else:
        detail = "peopledatalabs matched the person but returned none of the fields"
    return _result(AttemptOutcome.NOT_FOUND, reply, detail)


def _body_status(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    value = body.get("status")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _email_candidates(data: dict[str, Any], confidence: float) -> tuple[EmailCandidate, ...]:
    raw = data.get("work_email")
    if not isinstance(raw, str) or not raw:
        raw = _current_work_email(data.get("emails"))
    if raw is None:
        return ()
    # PDL stores addresses and does not verify mailboxes, so it has no status to map.
    candidate = email_candidate(raw, None, EmailVerdict.UNKNOWN, confidence)
    return () if candidate is None else (candidate,)


def _current_work_email(emails: Any) -> str | None:
    if not isinstance(emails, list):
        return None
    for entry in emails:
        if isinstance(entry, dict) and entry.get("type") == _CURRENT_WORK_EMAIL_TYPE:
            address = entry.get("address")
            if isinstance(address, str) and address:
                return address
    return None


def _phone_candidates(data: dict[str, Any], confidence: float, country: str | None) -> tuple[PhoneCandidate, ...]:
    """Return the mobile first, then the other numbers, each number once."""
    raw_numbers: list[tuple[str, str]] = []
    mobile = data.get("mobile_phone")
    if isinstance(mobile, str) and mobile:
        raw_numbers.append((mobile, "mobile_phone"))
    listed = data.get("phone_numbers")
    if isinstance(listed, list):
        raw_numbers.extend((number, "phone_numbers") for number in listed if isinstance(number, str) and number)

    candidates: list[PhoneCandidate] = []
    seen: set[str] = set()
    for raw, vendor_type in raw_numbers:
        evidence = LineType.MOBILE if vendor_type == "mobile_phone" else None
        candidate = phone_candidate(raw, vendor_type, evidence, country, confidence)
        if candidate.number in seen:
            continue
        seen.add(candidate.number)
        candidates.append(candidate)
    return tuple(candidates)


def _error_result(reply: HttpReply, status: int, error: Any) -> ProviderResult:
    raw_type = error.get("type") if isinstance(error, dict) else None
    error_type = raw_type if isinstance(raw_type, str) else None
    outcome = error_outcome(error_type) or status_outcome(status) or AttemptOutcome.BAD_RESPONSE
    # Types are snake_case identifiers, and anything else is left out of the detail.
    label = f" ({error_type})" if error_type and error_type.isidentifier() and len(error_type) <= 40 else ""
    http_status = reply.response.status_code if reply.response is not None else status
    where = f"HTTP {status}" if status == http_status else f"status {status} inside HTTP {http_status}"
    return _result(outcome, reply, f"peopledatalabs answered {where}{label}")


def _retry_after(headers: httpx.Headers) -> float | None:
    seconds = parse_retry_after(headers)
    if seconds is not None:
        return seconds
    return _seconds_until(headers.get("x-ratelimit-reset"))


def _minute_count(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        found = _MINUTE_ENTRY.search(raw)
        return int(found.group(1)) if found else None
    if isinstance(value, dict):
        value = value.get("minute")
    # A bare number is the format of older replies.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _seconds_until(raw: str | None, *, now: datetime | None = None) -> float | None:
    """Return the seconds until a reset timestamp (ISO 8601, or epoch seconds in older replies)."""
    if raw is None:
        return None
    text = raw.strip().strip('"')
    current = now or datetime.now(UTC)
    if text.isdigit():
        value = int(text)
        if value < _EPOCH_THRESHOLD:
            return min(float(value), _MAX_WAIT_SECONDS)
        when = datetime.fromtimestamp(value, UTC)
    else:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return min(max((when - current).total_seconds(), 0.0), _MAX_WAIT_SECONDS)


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
        read_rate_limit=rate_limit_state,
    )
