"""Lusha contact finder, Person API v2 (``GET /v2/person``).

Follows Lusha's v2 reference (https://docs.lusha.com/apis/openapi/enrichment/searchsinglecontact.md,
https://docs.lusha.com/apis/openapi/person-enrichment), its error-code pages
(https://docs.lusha.com/apis/v2/openapi/section/error-codes,
https://info.lusha.com/en/articles/634233-lusha-api-error-codes-reference) and its guides
(https://docs.lusha.com/guides). Lusha's v3 search-then-enrich endpoints are not used.

Endpoint: ``GET /v2/person`` with the key in an ``api_key`` header, and the query parameters
``linkedinUrl``, ``firstName``, ``lastName``, ``companyName`` and ``companyDomain`` for whatever the
person has. Lusha needs a LinkedIn URL or a first and last name with a company. ``revealEmails`` and
``revealPhones`` are never sent, because Lusha rejects them with 403 outside the Unified Credits plan, and without
them Lusha returns both emails and phones.

One reply contains both fields, and Lusha's strength is direct dials, so phones are read first: mobiles,
then direct lines, then company lines. A number flagged ``doNotCall`` is never returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
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
from cascade.providers.http import HttpReply, ProviderHttp, parse_rate_limit_headers, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="lusha",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.PHONE, RequestedField.EMAIL}),
    # An estimate of one Lusha credit, not a quote. Person API v2 charges one credit per matched
    # contact (`contact.isCreditCharged`), whatever fields it returns.
    cost=ProviderCost(per_success=Decimal("0.10")),
    # 25 requests a second per endpoint, from Lusha's current reference. Plans also cap requests per
    # minute, hour and day, which the x-*-requests-left headers report.
    rate_limit=RateLimit(requests=25, per_seconds=1.0),
    api_version="v2",
    default_base_url="https://api.lusha.com",
)

PERSON_PATH = "/v2/person"

# NOTE: the emailConfidence grades ("A+", "A", "B", "C") come from client code, not from Lusha's pages.
# Lusha does not verify mailboxes, so only its top two grades count as valid; the rest stay unknown.
EMAIL_VERDICTS: Mapping[str, EmailVerdict] = {
    "A+": EmailVerdict.VALID,
    "A": EmailVerdict.VALID,
    "B": EmailVerdict.UNKNOWN,
    "C": EmailVerdict.UNKNOWN,
    "D": EmailVerdict.UNKNOWN,
}
# Cascade's own scaling of the grades to [0, 1]. An email without a grade gets the middle value.
_GRADE_CONFIDENCE: Mapping[str, float] = {"A+": 0.95, "A": 0.85, "B": 0.65, "C": 0.45, "D": 0.25}
_UNGRADED_CONFIDENCE = 0.5
# Business addresses first; any type Lusha adds later comes after these.
_EMAIL_TYPE_ORDER: Mapping[str, int] = {"work": 0, "business": 0}


@dataclass(frozen=True, slots=True)
class _PhoneType:
    """The meaning of a Lusha phoneType for Cascade: line-type evidence, a confidence and a rank."""

    evidence: LineType | None
    confidence: float
    rank: int


# Only `mobile` is evidence of a line type. A `direct` line can be a landline or a mobile, and `work`
# is a company line, so those keep the numbering plan's type. Confidences are Cascade's estimates
# that the number reaches the person: a company switchboard rarely does.
PHONE_TYPES: Mapping[str, _PhoneType] = {
    "mobile": _PhoneType(LineType.MOBILE, 0.8, 0),
    "direct": _PhoneType(None, 0.7, 1),
    "work": _PhoneType(None, 0.4, 2),
}
_UNKNOWN_PHONE_TYPE = _PhoneType(None, 0.5, 3)

# Budget headers per window; the window with the least budget left is reported.
_RATE_WINDOWS: tuple[tuple[str, str], ...] = (
    ("x-minute-requests-left", "x-rate-limit-minute"),
    ("x-hourly-requests-left", "x-rate-limit-hourly"),
    ("x-daily-requests-left", "x-rate-limit-daily"),
)

# Vendor tokens short and plain enough to put into a detail string.
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class LushaFinder:
    """Finds direct-dial phones and work emails with one Lusha Person API v2 request per call."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        api_key = credentials.get("api_key", "").strip()
        if not api_key:
            raise ValueError('lusha credentials have no "api_key"; store the key as {"api_key": "..."}')
        self._http = http
        self._headers = {"api_key": api_key}

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        """Look the person up once and return the requested fields from Lusha's record.

        A person with neither a LinkedIn URL nor a first and last name with a company gets NOT_FOUND
        without a request, because Lusha would reject the call.
        """
        params = _query(person)
        if params is None:
            return ProviderResult(
                outcome=AttemptOutcome.NOT_FOUND,
                detail="lusha was not called: it needs a LinkedIn URL, or a first and last name with a company",
            )
        reply = self._http.send("GET", PERSON_PATH, params=params, headers=self._headers)
        return _read_reply(reply, fields, person.country)


def email_verdict(grade: str | None) -> EmailVerdict:
    """Map Lusha's emailConfidence grade to Cascade's verdict; a missing or new grade is UNKNOWN."""
    if grade is None:
        return EmailVerdict.UNKNOWN
    return EMAIL_VERDICTS.get(grade.strip().upper(), EmailVerdict.UNKNOWN)


def _query(person: NormalisedPerson) -> dict[str, str | int | float | bool] | None:
    has_name = bool(person.first_name and person.last_name)
    has_company = bool(person.company_name or person.company_domain)
    if not person.linkedin_url and not (has_name and has_company):
        return None
    candidates = {
        "linkedinUrl": person.linkedin_url,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "companyName": person.company_name,
        "companyDomain": person.company_domain,
    }
    return {name: value for name, value in candidates.items() if value}


def _read_reply(reply: HttpReply, fields: frozenset[RequestedField], country: str | None) -> ProviderResult:
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response
    status = response.status_code
    failure = _status_failure(status, reply)
    if failure is not None:
        return failure

    body = reply.json_body()
    contact = body.get("contact") if isinstance(body, dict) else None
    if not isinstance(contact, dict):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "lusha reply has no contact object")
    # Lusha reports a contact it cannot locate as an `error` object inside the contact, in an HTTP 200.
    contact_error = contact.get("error")
    if contact_error:
        detail = f"lusha reported a contact-level error{_contact_error_suffix(contact_error)}"
        return _result(AttemptOutcome.NOT_FOUND, reply, detail)
    data = contact.get("data")
    if data is None:
        return _result(AttemptOutcome.NOT_FOUND, reply, "lusha has no data for this person")
    if not isinstance(data, dict):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "lusha contact data is not an object")
    return _contact_result(data, fields, country, reply)


def _status_failure(status: int, reply: HttpReply) -> ProviderResult | None:
    outcome = status_outcome(status)
    if outcome is None:
        return None
    detail = f"lusha answered HTTP {status}"
    if status == 404:
        # Lusha documents 404 as "the requested endpoint was not found"; a person not found is a 200.
        return _result(AttemptOutcome.BAD_RESPONSE, reply, f"{detail}: the endpoint was not found")
    if status == 451:
        return _result(AttemptOutcome.NOT_FOUND, reply, f"{detail}: Lusha withholds this contact under the GDPR")
    if status == 499:
        return _result(AttemptOutcome.TIMEOUT, reply, f"{detail}: the request timed out at Lusha")
    # NOTE: Lusha also returns 429 when a trial or daily quota is used up, which only the message text
    # distinguishes from a rate limit, so every 429 is THROTTLED.
    return _result(outcome, reply, detail)


def _contact_result(
    data: Mapping[str, Any], fields: frozenset[RequestedField], country: str | None, reply: HttpReply
) -> ProviderResult:
    # NOTE: the field names under contact.data (emailAddresses with email, emailType, emailConfidence;
    # phoneNumbers with number, phoneType, doNotCall) are inferred from client code.
    phone_entries = data.get("phoneNumbers") or []
    email_entries = data.get("emailAddresses") or []
    if not isinstance(phone_entries, list) or not isinstance(email_entries, list):
        return _result(AttemptOutcome.BAD_RESPONSE, reply, "lusha phoneNumbers or emailAddresses is not a list")

    phones: tuple[PhoneCandidate, ...] = ()
    skipped_do_not_call = 0
    if RequestedField.PHONE in fields:
        phones, skipped_do_not_call = _phones(phone_entries, country)
    emails: tuple[EmailCandidate, ...] = ()
    if RequestedField.EMAIL in fields:
        emails = _emails(email_entries)

    skipped = f"skipped {skipped_do_not_call} number(s) flagged do-not-call" if skipped_do_not_call else None
    if not phones and not emails:
        missing = "lusha has none of the requested fields for this person"
        return _result(AttemptOutcome.NOT_FOUND, reply, f"{missing}; {skipped}" if skipped else missing)
    return _result(AttemptOutcome.FOUND, reply, skipped, emails=emails, phones=phones)


def _phones(entries: list[Any], country: str | None) -> tuple[tuple[PhoneCandidate, ...], int]:
    ranked: list[tuple[int, int, PhoneCandidate]] = []
    skipped_do_not_call = 0
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        number = entry.get("number")
        if not isinstance(number, str) or not number.strip():
            continue
        if entry.get("doNotCall") is True:
            skipped_do_not_call += 1
            continue
        raw_type = entry.get("phoneType")
        vendor_type = raw_type.strip().lower() if isinstance(raw_type, str) else None
        phone_type = PHONE_TYPES.get(vendor_type or "", _UNKNOWN_PHONE_TYPE)
        candidate = phone_candidate(number, vendor_type, phone_type.evidence, country, phone_type.confidence)
        ranked.append((phone_type.rank, position, candidate))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return tuple(candidate for _, _, candidate in ranked), skipped_do_not_call


def _emails(entries: list[Any]) -> tuple[EmailCandidate, ...]:
    ranked: list[tuple[int, float, int, EmailCandidate]] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        address = entry.get("email")
        if not isinstance(address, str) or not address.strip():
            continue
        raw_grade = entry.get("emailConfidence")
        grade = raw_grade.strip().upper() if isinstance(raw_grade, str) else None
        confidence = _GRADE_CONFIDENCE.get(grade or "", _UNGRADED_CONFIDENCE)
        candidate = email_candidate(address, grade, email_verdict(grade), confidence)
        if candidate is None:
            continue
        raw_type = entry.get("emailType")
        email_type = raw_type.strip().lower() if isinstance(raw_type, str) else ""
        ranked.append((_EMAIL_TYPE_ORDER.get(email_type, 1), -confidence, position, candidate))
    ranked.sort(key=lambda item: (item[0], item[1], item[2]))
    return tuple(candidate for *_, candidate in ranked)


def _contact_error_suffix(error: Any) -> str:
    """Name the error's code or name when it is a plain token; its message may echo the input."""
    if not isinstance(error, dict):
        return ""
    for key in ("code", "name"):
        value = error.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return f" ({value})"
        if isinstance(value, str) and _TOKEN.fullmatch(value):
            return f" ({value})"
    return ""


def _rate_limit(headers: Mapping[str, str]) -> RateLimitState | None:
    states = [
        state
        for remaining, limit in _RATE_WINDOWS
        if (state := parse_rate_limit_headers(headers, remaining=(remaining,), limit=(limit,), reset=())) is not None
    ]
    if not states:
        return None
    known = [state for state in states if state.remaining is not None]
    return min(known, key=lambda state: state.remaining or 0) if known else states[0]


def _result(
    outcome: AttemptOutcome,
    reply: HttpReply,
    detail: str | None,
    *,
    emails: tuple[EmailCandidate, ...] = (),
    phones: tuple[PhoneCandidate, ...] = (),
) -> ProviderResult:
    # NOTE: Lusha's 429 text names a reset time, but no reset header format is documented, so only
    # Retry-After is read.
    return finder_result(outcome, reply, detail, emails=emails, phones=phones, read_rate_limit=_rate_limit)
