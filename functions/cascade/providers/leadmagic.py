"""LeadMagic contact finder, API v1 (the ``/v1/people/...`` path set).

Follows LeadMagic's API reference (https://leadmagic.io/docs/reference/email-finder,
https://leadmagic.io/docs/v1/reference/profile-to-email, https://leadmagic.io/docs/making-api-calls)
and its OpenAPI repository (github.com/LeadMagic/leadmagic-openapi, ``leadmagic-openapi-3.1.yaml``,
``llms-full.txt``). The OpenAPI snapshot (v1.5.0) still models the legacy unversioned paths
(``/email-finder``, ``/mobile-finder``); this module calls only the ``/v1`` paths of the current docs.

Endpoints, each ``POST`` with a JSON body and the ``X-API-Key`` header:

- ``/v1/people/email-finder``: ``first_name``, ``last_name``, and ``domain`` or ``company_name``;
- ``/v1/people/b2b-profile-email``: ``profile_url``, when the person has no name and company;
- ``/v1/people/mobile-finder``: ``profile_url``.

Each call sends one request, so when both fields are requested the email endpoint is called. The
caller asks again with only the phone field to get the mobile number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson, RequestedField
from cascade.normalise.phones import LineType
from cascade.providers.base import ProviderCost, ProviderInfo, ProviderKind, ProviderResult, RateLimit
from cascade.providers.candidates import email_candidate, phone_candidate
from cascade.providers.credentials import Credentials
from cascade.providers.http import HttpReply, ProviderHttp, status_outcome
from cascade.providers.replies import finder_result, response_or_failure

INFO = ProviderInfo(
    name="leadmagic",
    kind=ProviderKind.CONTACT_FINDER,
    fields=frozenset({RequestedField.EMAIL, RequestedField.PHONE}),
    # An estimate of one credit on LeadMagic's credit plans, not a quote. The email finder charges one
    # credit per email found; the LinkedIn email and mobile lookups charge five (see `extra`). Misses are free.
    cost=ProviderCost(per_success=Decimal("0.025")),
    # The email and mobile finders allow 3,000 requests a minute and the profile endpoints 300. A provider
    # has one shared limiter, so it takes the lower figure.
    rate_limit=RateLimit(requests=300, per_seconds=60.0),
    api_version="v1",
    default_base_url="https://api.leadmagic.io",
    extra={"path_set": "/v1", "credits_email_finder": "1", "credits_profile_email": "5", "credits_mobile": "5"},
)

EMAIL_FINDER_PATH = "/v1/people/email-finder"
PROFILE_EMAIL_PATH = "/v1/people/b2b-profile-email"
MOBILE_FINDER_PATH = "/v1/people/mobile-finder"

# LeadMagic's email finder statuses. `not_found` never reaches this table because it ends the call
# as NOT_FOUND. `invalid` and `unknown` come from LeadMagic's validation vocabulary, which the finder
# may reuse.
EMAIL_VERDICTS: Mapping[str, EmailVerdict] = {
    "valid": EmailVerdict.VALID,
    "valid_catch_all": EmailVerdict.CATCH_ALL,
    "catch_all": EmailVerdict.CATCH_ALL,
    "invalid": EmailVerdict.INVALID,
    "unknown": EmailVerdict.UNKNOWN,
}

# LeadMagic sends no score, so confidence is Cascade's estimate per status: `valid` is confirmed by the
# mail server, `valid_catch_all` is a catch-all domain with engagement evidence, and `catch_all` has none.
_STATUS_CONFIDENCE: Mapping[str, float] = {
    "valid": 0.95,
    "valid_catch_all": 0.8,
    "catch_all": 0.5,
    "invalid": 0.1,
}
_UNKNOWN_STATUS_CONFIDENCE = 0.4
# The LinkedIn email endpoint sends no status at all.
_PROFILE_EMAIL_CONFIDENCE = 0.6
_MOBILE_CONFIDENCE = 0.7

# Vendor tokens short and plain enough to put into a detail string.
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True)
class _Lookup:
    """One planned request: the endpoint, its body and the field that the reply can hold."""

    path: str
    body: dict[str, str]
    field: RequestedField


class LeadMagicFinder:
    """Finds a work email or a mobile number with one LeadMagic request per call."""

    info = INFO

    def __init__(self, http: ProviderHttp, credentials: Credentials) -> None:
        api_key = credentials.get("api_key", "").strip()
        if not api_key:
            raise ValueError('leadmagic credentials have no "api_key"; store the key as {"api_key": "..."}')
        self._http = http
        self._headers = {"X-API-Key": api_key}

    def find(self, person: NormalisedPerson, fields: frozenset[RequestedField]) -> ProviderResult:
        """Look the person up with the one endpoint that fits the input and the requested fields.

        A person that no endpoint can be asked about gets NOT_FOUND without a request.
        """
        lookup = _plan_lookup(person, fields)
        if lookup is None:
            return ProviderResult(
                outcome=AttemptOutcome.NOT_FOUND,
                detail="leadmagic was not called: an email needs a name with a company or a LinkedIn URL, "
                "a phone needs a LinkedIn URL",
            )
        reply = self._http.send("POST", lookup.path, json_body=lookup.body, headers=self._headers)
        return _read_reply(reply, lookup, person.country)


def _plan_lookup(person: NormalisedPerson, fields: frozenset[RequestedField]) -> _Lookup | None:
    """Choose the endpoint and body for the person, or ``None`` when the input fits no endpoint.

    An email is looked up by name and company when both are known, because that costs one credit
    against five for the LinkedIn lookup.
    """
    if RequestedField.EMAIL in fields:
        company = _company_fields(person)
        if person.first_name and person.last_name and company:
            body = {"first_name": person.first_name, "last_name": person.last_name, **company}
            return _Lookup(EMAIL_FINDER_PATH, body, RequestedField.EMAIL)
        if person.linkedin_url:
            return _Lookup(PROFILE_EMAIL_PATH, {"profile_url": person.linkedin_url}, RequestedField.EMAIL)
    if RequestedField.PHONE in fields and person.linkedin_url:
        return _Lookup(MOBILE_FINDER_PATH, {"profile_url": person.linkedin_url}, RequestedField.PHONE)
    return None


def email_verdict(status: str | None) -> EmailVerdict:
    """Map a LeadMagic email status to Cascade's verdict; a missing or new status is UNKNOWN."""
    if status is None:
        return EmailVerdict.UNKNOWN
    return EMAIL_VERDICTS.get(status.strip().lower(), EmailVerdict.UNKNOWN)


def _company_fields(person: NormalisedPerson) -> dict[str, str]:
    if person.company_domain:
        return {"domain": person.company_domain}
    if person.company_name:
        return {"company_name": person.company_name}
    return {}


def _read_reply(reply: HttpReply, lookup: _Lookup, country: str | None) -> ProviderResult:
    response = response_or_failure(reply, INFO.name, ProviderResult)
    if isinstance(response, ProviderResult):
        return response
    status = response.status_code
    body = reply.json_body()

    failure = _status_failure(status, body, reply)
    if failure is not None:
        return failure
    if not isinstance(body, dict):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "leadmagic reply is not a JSON object")
    # NOTE: no error inside an HTTP 200 is documented. An error envelope (`success: false`) in a 200 is
    # read defensively by the status its first error carries.
    if body.get("success") is False:
        return _error_envelope_result(body, reply)
    if lookup.field is RequestedField.PHONE:
        return _phone_result(body, reply, country)
    return _email_result(body, reply, lookup)


def _status_failure(status: int, body: Any, reply: HttpReply) -> ProviderResult | None:
    outcome = status_outcome(status)
    if outcome is None:
        return None
    detail = f"leadmagic answered HTTP {status}{_error_code_suffix(body)}"
    if status == 404:
        # A miss is a 200 with `email: null`, so a 404 means the path is gone (LeadMagic has moved its
        # paths before), which must not pass for a person not found.
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, f"{detail}: the endpoint was not found")
    return finder_result(outcome, reply, detail)


def _error_envelope_result(body: Mapping[str, Any], reply: HttpReply) -> ProviderResult:
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    embedded = first.get("status")
    outcome = status_outcome(embedded) if isinstance(embedded, int) else None
    if outcome is None or outcome is AttemptOutcome.NOT_FOUND:
        outcome = AttemptOutcome.BAD_RESPONSE
    detail = f"leadmagic returned an error inside HTTP 200 (status {embedded}){_error_code_suffix(body)}"
    return finder_result(outcome, reply, detail)


def _email_result(body: Mapping[str, Any], reply: HttpReply, lookup: _Lookup) -> ProviderResult:
    if "email" not in body:
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "leadmagic reply has no email field")
    address = body.get("email")
    raw_status = body.get("status")
    vendor_status = raw_status.strip().lower() if isinstance(raw_status, str) else None
    if address is None or address == "" or vendor_status == "not_found":
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "leadmagic has no email for this person")
    if not isinstance(address, str):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "leadmagic email field is not a string")

    if lookup.path == PROFILE_EMAIL_PATH and vendor_status is None:
        confidence = _PROFILE_EMAIL_CONFIDENCE
    else:
        confidence = _STATUS_CONFIDENCE.get(vendor_status or "", _UNKNOWN_STATUS_CONFIDENCE)
    candidate = email_candidate(address, vendor_status, email_verdict(vendor_status), confidence)
    if candidate is None:
        return finder_result(
            AttemptOutcome.BAD_RESPONSE, reply, "leadmagic returned an email that is not a valid address"
        )
    return finder_result(AttemptOutcome.FOUND, reply, None, emails=(candidate,))


def _phone_result(body: Mapping[str, Any], reply: HttpReply, country: str | None) -> ProviderResult:
    if "mobile_number" not in body:
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "leadmagic reply has no mobile_number field")
    number = body.get("mobile_number")
    if number is None or number == "":
        return finder_result(AttemptOutcome.NOT_FOUND, reply, "leadmagic has no mobile number for this person")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str):
        return finder_result(AttemptOutcome.BAD_RESPONSE, reply, "leadmagic mobile_number field is not a string")
    # The mobile finder returns mobile numbers only, which is evidence for the line type.
    candidate = phone_candidate(number, "mobile", LineType.MOBILE, country, _MOBILE_CONFIDENCE)
    return finder_result(AttemptOutcome.FOUND, reply, None, phones=(candidate,))


def _error_code_suffix(body: Any) -> str:
    """Name the vendor's error code, never its message, which may echo the input."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        if isinstance(code, str) and _TOKEN.fullmatch(code):
            return f" ({code})"
    return ""
