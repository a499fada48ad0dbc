"""Findymail contact finder (Findymail's unversioned ``/api`` endpoints).

Follows Findymail's API docs (https://app.findymail.com/docs), the official n8n node
(github.com/Findymail/n8n-nodes-findymail, ``nodes/FindyMail/FindyMail.node.ts``) and the tool-selection
rules of Findymail's Cursor plugin (github.com/Findymail/findymail-cursor-plugin,
``rules/findymail-tool-selection.mdc``).

Endpoints, each ``POST`` with a JSON body and ``Authorization: Bearer <key>``:

- ``/api/search/linkedin``: ``linkedin_url``, preferred for an email whenever the person has one,
  as Findymail's own tooling does;
- ``/api/search/name``: ``name`` (full name) and ``domain`` (a domain, or a company name);
- ``/api/search/phone``: ``linkedin_url`` only, because Findymail cannot find a phone from a name.

Each call sends one request, so when both fields are requested the email search runs. The caller asks
again with only the phone field to get the number.

Findymail documents no rate-limit headers. Results still read the common names, in case it sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.providers.base import ProviderCost, ProviderInfo, ProviderKind, ProviderResult, RateLimit
from cascade.providers.candidates import email_candidate, phone_candidate
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="findymail",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL, RequestedField.PHONE}),
    # An estimate of one finder credit on Findymail's plans, not a quote. An email costs one credit and
    # a phone ten (see `extra`); nothing is charged when nothing is found.
    cost=ProviderCost(per_success=Decimal("0.05")),
    # NOTE: Findymail documents a cap of 300 concurrent requests, not a rate. At about one second per
    # search that allows roughly 300 requests a second, which is the figure used here.
    rate_limit=RateLimit(requests=300, per_seconds=1.0),
    api_version="unversioned",
    default_base_url="https://app.findymail.com",
    extra={"credits_email": "1", "credits_phone": "10"},
)

SEARCH_NAME_PATH = "/api/search/name"
SEARCH_LINKEDIN_PATH = "/api/search/linkedin"
SEARCH_PHONE_PATH = "/api/search/phone"

# Findymail returns only verified emails, so a contact without a `verified` field counts as verified.
# A contact with `verified: false` is unverified, and any other value is unknown.
EMAIL_VERDICTS: Mapping[str, EmailVerdict] = {
    "verified": EmailVerdict.VALID,
    "unverified": EmailVerdict.UNKNOWN,
}
# Findymail sends no score, so confidence is Cascade's estimate per status.
_STATUS_CONFIDENCE: Mapping[str, float] = {"verified": 0.9, "unverified": 0.5}
_UNKNOWN_STATUS_CONFIDENCE = 0.4
_PHONE_CONFIDENCE = 0.6

# Errors that Findymail reports in an `error` field, keyed by the exact documented value, which acts
# as the error code. The docs show this one inside an HTTP 200. Any other value is a bad response.
ERROR_CODES: Mapping[str, AttemptOutcome] = {
    "Not enough credits": AttemptOutcome.QUOTA_EXHAUSTED,
}

_NOT_CALLED = (
    "findymail was not called: an email needs a LinkedIn URL or a name with a company, a phone needs a LinkedIn URL"
)


@dataclass(frozen=True, slots=True)
class _Lookup:
    """One planned request: the endpoint, its body and the field that the reply can hold."""

    path: str
    body: dict[str, str]
    field: RequestedField


class FindymailFinder:
    """Finds a verified work email or a phone number with one Findymail request per call."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        api_key = credentials.get("api_key", "").strip()
        if not api_key:
            raise ValueError('findymail credentials have no "api_key"; store the key as {"api_key": "..."}')
        self._http = http
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        """Look the person up with the one endpoint that fits the input and the requested fields.

        A person that no endpoint can be asked about gets NOT_FOUND without a request.
        """
        lookup = _plan_lookup(person, fields)
        if lookup is None:
            return ProviderResult(outcome=AttemptOutcome.NOT_FOUND, detail=_NOT_CALLED)
        reply = self._http.send("POST", lookup.path, json_body=lookup.body, headers=self._headers)
        return _read_reply(reply, lookup, person.country)


def error_outcome(error: str) -> AttemptOutcome:
    """Map the value of Findymail's `error` field to an outcome; an unlisted value is BAD_RESPONSE."""
    return ERROR_CODES.get(error, AttemptOutcome.BAD_RESPONSE)


def email_verdict(contact: Mapping[str, Any]) -> tuple[EmailVerdict, str]:
    """Return Cascade's verdict and the vendor status for a Findymail contact."""
    status = _vendor_status(contact)
    return EMAIL_VERDICTS.get(status, EmailVerdict.UNKNOWN), status


def _vendor_status(contact: Mapping[str, Any]) -> str:
    verified = contact.get("verified", True)
    if verified is True:
        return "verified"
    if verified is False:
        return "unverified"
    return "unknown"


def _plan_lookup(person: NormalisedPerson, fields: frozenset[RequestedField]) -> _Lookup | None:
    if RequestedField.EMAIL in fields:
        if person.linkedin_url:
            return _Lookup(SEARCH_LINKEDIN_PATH, {"linkedin_url": person.linkedin_url}, RequestedField.EMAIL)
        name = person.full_name or " ".join(part for part in (person.first_name, person.last_name) if part)
        # Findymail's `domain` also accepts a company name, but a domain matches better.
        company = person.company_domain or person.company_name
        if name and company:
            return _Lookup(SEARCH_NAME_PATH, {"name": name, "domain": company}, RequestedField.EMAIL)
    if RequestedField.PHONE in fields and person.linkedin_url:
        return _Lookup(SEARCH_PHONE_PATH, {"linkedin_url": person.linkedin_url}, RequestedField.PHONE)
    return None


def _read_reply(reply: HttpReply, lookup: _Lookup, country: str | None) -> ProviderResult:
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response
    status = response.status_code
    body = reply.json_body()
    error = body.get("error") if isinstance(body, dict) else None

    failure = status_outcome(status)
    if failure is not None:
        return _status_failure(status, failure, error, reply)
    if not isinstance(body, dict):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "findymail reply is not a JSON object")
    # The docs show errors such as the credit error inside an HTTP 200, so the body is checked first.
    if error is not None and error != "":
        outcome = error_outcome(error) if isinstance(error, str) else AttemptOutcome.BAD_RESPONSE
        return finder_result(outcome, reply, f"findymail returned an error inside HTTP 200{_known_error_suffix(error)}")
    if lookup.field is RequestedField.PHONE:
        return _phone_result(body, reply, country)
    return _email_result(body, reply)


def _status_failure(status: int, outcome: AttemptOutcome, error: Any, reply: HttpReply) -> ProviderResult:
    detail = f"findymail answered HTTP {status}{_known_error_suffix(error)}"
    if status == 404:
        # NOTE: Findymail's client code reads a 404 on the phone search as "no number". That the email
        # searches also return 404 for a miss is inferred.
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "findymail has no match for this person (HTTP 404)")
    if status == 422:
        # NOTE: a 422 with an `error` field for input that Findymail rejects is inferred.
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, f"{detail}: findymail rejected the request parameters")
    if outcome is AttemptOutcome.BAD_RESPONSE and isinstance(error, str) and error in ERROR_CODES:
        return finder_result(ERROR_CODES[error], reply, detail)
    return finder_result(outcome, reply, detail)


def _email_result(body: Mapping[str, Any], reply: HttpReply) -> ProviderResult:
    # NOTE: the `contact` object with `email` is inferred from the official n8n node, which passes the
    # body through, and from client code. A missing or empty contact is read as no match.
    contact = body.get("contact")
    if contact is None:
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "findymail has no email for this person")
    if not isinstance(contact, dict):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "findymail contact field is not an object")
    address = contact.get("email")
    if address is None or address == "":
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "findymail has no email for this person")
    if not isinstance(address, str):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "findymail email field is not a string")
    verdict, vendor_status = email_verdict(contact)
    confidence = _STATUS_CONFIDENCE.get(vendor_status, _UNKNOWN_STATUS_CONFIDENCE)
    candidate = email_candidate(address, vendor_status, verdict, confidence)
    if candidate is None:
        return finder_result(
            AttemptOutcome.BAD_RESPONSE, reply, "findymail returned an email that is not a valid address"
        )
    return finder_result(AttemptOutcome.FOUND, reply, None, emails=(candidate,))


def _phone_result(body: Mapping[str, Any], reply: HttpReply, country: str | None) -> ProviderResult:
    # NOTE: the `phone` field is inferred; it is read at the top level or inside `contact`.
    contact = body.get("contact")
    number = body.get("phone")
    if number is None and isinstance(contact, dict):
        number = contact.get("phone")
    if number is None or number == "":
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "findymail has no phone number for this person")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "findymail phone field is not a string")
    # Findymail names no line type, so the candidate keeps the numbering plan's type.
    candidate = phone_candidate(number, None, None, country, _PHONE_CONFIDENCE)
    return finder_result(AttemptOutcome.FOUND, reply, None, phones=(candidate,))


def _known_error_suffix(error: Any) -> str:
    """Name a listed error value; other messages may echo the input, so they stay out of details."""
    if isinstance(error, str) and error in ERROR_CODES:
        return f" ({error})"
    return ""
