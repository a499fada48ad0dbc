"""Lusha Person API v2 as the sandbox serves it: ``GET /v2/person``.

The key goes in an ``api_key`` header. Query parameters: ``linkedinUrl``, ``email``, or ``firstName`` and
``lastName`` with ``companyName`` or ``companyDomain``. A found contact comes back as
``{"contact": {"data": {..., "emailAddresses": [...], "phoneNumbers": [...]}, "error": null,
"isCreditCharged": true}}``. A contact Lusha cannot locate is an HTTP 200 whose ``contact.error`` is set.
Request errors use Lusha's ``{statusCode, message, errors}`` body. Every reply carries the minute, hourly
and daily budget headers (``x-rate-limit-minute``, ``x-minute-requests-left``, ``x-minute-usage`` and
their hourly and daily twins), counted per sandbox instance.

Phones: a ``mobile`` line is typed ``mobile``, a fixed line ``direct``, a toll-free or VoIP number
``work``, and a number whose plan leaves the type open is ``mobile`` or ``direct`` by a stable hash.
Some numbers are flagged ``doNotCall`` (see ``LushaSandbox.flags_do_not_call``).

NOTE: the contact-level field names and the shape of ``contact.error`` are inferred from client code.
Lusha documents only that a missing contact is an ``error`` object inside an HTTP 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import phonenumbers
from anyascii import anyascii
from phonenumbers import PhoneNumberFormat

from infra.sandbox.directory import Directory, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

# The Scale plan's budget on Lusha's rate-limit table.
_LIMITS: tuple[tuple[str, int, int], ...] = (("minute", 60, 300), ("hourly", 3_600, 5_000), ("daily", 86_400, 50_000))
_DO_NOT_CALL_BUCKETS = 7  # one number in seven is flagged
_PHONE_TYPES = {"mobile": "mobile", "fixed_line": "direct", "toll_free": "work", "voip": "work"}
_BAD_GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class LushaSandbox:
    """The Lusha Person API v2 single-contact lookup over the sandbox directory."""

    provider = "lusha"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]
        self._lock = threading.Lock()
        self._usage: dict[str, tuple[int, int]] = {}  # window name -> (window number, requests in it)

    def routes(self) -> list[Route]:
        return [Route("GET", r"/v2/person", self._person)]

    def authenticate(self, request: SandboxRequest) -> bool:
        return hmac.compare_digest(request.headers.get("api_key", "").encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        if kind is FaultKind.THROTTLED:
            headers = {**self._budget_headers(exhausted=True), "Retry-After": str(plan.retry_after_seconds)}
            return _error(429, "Minute API rate limit exceeded. Limit: 300 calls per minute.", headers)
        if kind is FaultKind.UNAUTHORIZED:
            return _error(401, "The API key is invalid")
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return _error(402, "Your account requires payment")
        if kind is FaultKind.ERROR_IN_200:
            failed = {"data": None, "error": {"code": "ENRICH_FAILED", "message": "Enrichment failed"}}
            return SandboxResponse.json(200, {"contact": {**failed, "isCreditCharged": False}}, self._budget_headers())
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"contact": {"data": {"fullName": "Someone", "phoneNumbers": []}, "error": None}})
            cut = whole[: len(whole) // 2].encode()
            return SandboxResponse(200, cut, {"Content-Type": "application/json", **self._budget_headers()})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(502, _BAD_GATEWAY_PAGE, {"Content-Type": "text/html"})
        if kind is FaultKind.UNAVAILABLE:
            return _error(503, "Service Unavailable", {"Retry-After": "30"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply. `request` names the path.
        return _error(500, f"Internal server error on {request.path}")

    def flags_do_not_call(self, person: SandboxPerson) -> bool:
        """Return whether the sandbox flags the person's number as do-not-call, so the adapter must skip it."""
        return person.phone_e164 is not None and _spread(f"dnc:{person.id}", _DO_NOT_CALL_BUCKETS) == 0

    # Routes --------------------------------------------------------------------------------------------

    def _person(self, request: SandboxRequest) -> SandboxResponse:
        query = {name: value.strip() for name, value in request.query.items()}
        linkedin_url, email = query.get("linkedinUrl", ""), query.get("email", "")
        first_name, last_name = query.get("firstName", ""), query.get("lastName", "")
        company_name, company_domain = query.get("companyName", ""), query.get("companyDomain", "")
        has_name = bool(first_name and last_name and (company_name or company_domain))
        if not (linkedin_url or email or has_name):
            return _error(
                400,
                "Send linkedinUrl, email, or firstName and lastName with companyName or companyDomain",
                errors=["missing identifier"],
            )

        person = None
        if linkedin_url:
            person = self._directory.match_linkedin(linkedin_url)
        if person is None and email:
            person = self._directory.match_email(email)
        if person is None and has_name:
            person = self._directory.match_name(
                first_name, last_name, domain=company_domain or None, company_name=company_name or None
            )
        if person is None:
            return self._not_found()

        previous_company_named = _names_previous_company(self._directory, person, company_domain, company_name)
        emails = self._emails(person, previous_company_named=previous_company_named)
        phones = [] if previous_company_named else self._phones(person)
        if not emails and not phones:
            return self._not_found()

        data = {
            "id": person.id,
            "firstName": person.first_name,
            "lastName": person.last_name,
            "fullName": person.full_name,
            "jobTitle": person.title,
            "company": {"name": person.company.name, "domain": person.company.domain},
            "socialLinks": {"linkedin": f"https://www.linkedin.com/in/{person.linkedin_slug}"},
            "emailAddresses": emails,
            "phoneNumbers": phones,
        }
        return SandboxResponse.json(
            200, {"contact": {"data": data, "error": None, "isCreditCharged": True}}, self._budget_headers(count=True)
        )

    # Helpers -------------------------------------------------------------------------------------------

    def _emails(self, person: SandboxPerson, *, previous_company_named: bool) -> list[dict[str, str]]:
        if self._directory.returns_stale(self.provider, person) and person.stale_email:
            return [{"email": person.stale_email, "emailType": "work", "emailConfidence": "A"}]
        if previous_company_named or not self._directory.knows(self.provider, person, "email"):
            return []
        if person.company.catch_all:
            grade = "B"
        elif person.email_status == "invalid":
            grade = "C"
        else:
            grade = "A+" if _spread(person.email, 2) == 0 else "A"
        return [{"email": person.email, "emailType": "work", "emailConfidence": grade}]

    def _phones(self, person: SandboxPerson) -> list[dict[str, Any]]:
        if person.phone_e164 is None or not self._directory.knows(self.provider, person, "phone"):
            return []
        phone_type = _PHONE_TYPES.get(person.phone_line_type)
        if phone_type is None:
            phone_type = "mobile" if _spread(person.phone_e164, 2) == 0 else "direct"
        number = phonenumbers.parse(person.phone_e164, None)
        return [
            {
                "number": phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
                "phoneType": phone_type,
                "doNotCall": self.flags_do_not_call(person),
                "countryCode": person.country,
            }
        ]

    def _not_found(self) -> SandboxResponse:
        missing = {"code": "NOT_FOUND", "message": "Could not find requested data"}
        contact = {"data": None, "error": missing, "isCreditCharged": False}
        return SandboxResponse.json(200, {"contact": contact}, self._budget_headers(count=True))

    def _budget_headers(self, *, count: bool = False, exhausted: bool = False) -> dict[str, str]:
        """Count one request when ``count`` is set and return the budget headers for every window."""
        now = time.monotonic()
        headers: dict[str, str] = {}
        with self._lock:
            for name, seconds, limit in _LIMITS:
                window = int(now // seconds)
                current, used = self._usage.get(name, (window, 0))
                if current != window:
                    used = 0
                if count:
                    used += 1
                self._usage[name] = (window, used)
                left = 0 if exhausted and name == "minute" else max(0, limit - used)
                headers[f"x-rate-limit-{name}"] = str(limit)
                headers[f"x-{name}-requests-left"] = str(left)
                headers[f"x-{name}-usage"] = str(limit - left)
        return headers


def _error(
    status: int, message: str, headers: dict[str, str] | None = None, *, errors: list[str] | None = None
) -> SandboxResponse:
    return SandboxResponse.json(status, {"statusCode": status, "message": message, "errors": errors or []}, headers)


def _names_previous_company(directory: Directory, person: SandboxPerson, domain: str, company_name: str) -> bool:
    """Return whether the request named the company the person left rather than their current one."""
    previous = person.previous_company
    if previous is None:
        return False
    if domain:
        company = directory.company_by_domain(domain)
        return company is not None and company.id == previous.id
    if company_name:
        company_key = _fold(company_name)
        current = {_fold(person.company.name), _fold(person.company.legal_name)}
        return company_key not in current and company_key in {_fold(previous.name), _fold(previous.legal_name)}
    return False


def _fold(text: str) -> str:
    return "".join(character for character in anyascii(text).lower() if character.isalnum())


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.lower().encode()).digest()
    return int.from_bytes(digest[:4], "big") % buckets
