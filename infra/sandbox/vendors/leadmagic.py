"""LeadMagic v1 as the sandbox serves it: the email finder, the LinkedIn email lookup and the mobile finder.

Routes (``POST``, JSON body, ``X-API-Key`` header), with LeadMagic's ``/v1/people/...`` paths:
``/v1/people/email-finder``, ``/v1/people/b2b-profile-email`` and ``/v1/people/mobile-finder``.
A miss is an HTTP 200 with ``email`` (or ``mobile_number``) null and no credits consumed, as LeadMagic
documents. Errors use LeadMagic's RFC 9457-style envelope
``{success: false, errors: [{type, title, status, code, docs}], meta: {request_id, timestamp}}``.
Every reply carries ``X-Credits-Remaining``, counted down by the credits each reply consumes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from datetime import UTC, datetime
from typing import Any

from anyascii import anyascii

from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

_STARTING_CREDITS = 100_000
_EMAIL_FINDER_CREDITS = 1
_PROFILE_EMAIL_CREDITS = 5
_MOBILE_CREDITS = 5
_DOCS_URL = "https://leadmagic.io/docs/making-api-calls"

_FAULT_STATUS: dict[FaultKind, tuple[int, str, str]] = {
    FaultKind.THROTTLED: (429, "rate_limited", "Too many requests; retry after the Retry-After delay."),
    FaultKind.UNAUTHORIZED: (401, "unauthorized", "The API key is missing or invalid."),
    FaultKind.QUOTA_EXHAUSTED: (402, "insufficient_credits", "The account has no credits left."),
    FaultKind.SERVER_ERROR: (500, "internal_error", "An unexpected error occurred."),
    FaultKind.UNAVAILABLE: (503, "service_unavailable", "The service is temporarily unavailable."),
    FaultKind.TIMEOUT: (504, "gateway_timeout", "The request took too long."),
}


class LeadMagicSandbox:
    """The LeadMagic v1 people endpoints over the sandbox directory."""

    provider = "leadmagic"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]
        self._credits = _STARTING_CREDITS
        self._lock = threading.Lock()
        self._request_ids = itertools.count(1)

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/v1/people/email-finder", self._email_finder),
            Route("POST", r"/v1/people/b2b-profile-email", self._profile_email),
            Route("POST", r"/v1/people/mobile-finder", self._mobile_finder),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        return hmac.compare_digest(request.headers.get("x-api-key", "").encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        if kind is FaultKind.MALFORMED:
            if request.path.endswith("/mobile-finder"):
                payload: dict[str, Any] = {"mobile_number": "+12015550123", "credits_consumed": _MOBILE_CREDITS}
            else:
                payload = {"email": "someone@example.com", "status": "valid", "credits_consumed": 1}
            whole = json.dumps(payload)
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(
                502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}
            )
        if kind is FaultKind.ERROR_IN_200:
            # NOTE: LeadMagic documents no error inside an HTTP 200. The sandbox sends its error envelope
            # with status 200, as a proxy or a partial outage might, carrying an internal error.
            return SandboxResponse.json(200, self._problem(500, "internal_error", "An unexpected error occurred."))
        status, code, title = _FAULT_STATUS[kind]
        headers = {"X-Credits-Remaining": str(self._credits_left())}
        if kind is FaultKind.THROTTLED:
            headers["Retry-After"] = str(plan.retry_after_seconds)
        return SandboxResponse.json(status, self._problem(status, code, title), headers)

    # Routes --------------------------------------------------------------------------------------------

    def _email_finder(self, request: SandboxRequest) -> SandboxResponse:
        body = _json_object(request)
        if body is None:
            return self._bad_request("invalid_json", "The request body must be a JSON object.")
        first_name, last_name = _text(body, "first_name"), _text(body, "last_name")
        domain, company_name = _text(body, "domain"), _text(body, "company_name")
        if not first_name or not last_name or not (domain or company_name):
            return self._bad_request(
                "missing_parameter", "Send first_name, last_name, and a domain (preferred) or a company_name."
            )

        if domain:
            person = self._directory.match_name(first_name, last_name, domain=domain)
        else:
            person = self._directory.match_name(first_name, last_name, company_name=company_name)
        found = self._email_for(person, domain, company_name) if person is not None else None
        reply: dict[str, Any] = {"first_name": first_name, "last_name": last_name, "domain": domain or None}
        if person is None or found is None:
            reply.update(email=None, status="not_found", credits_consumed=0, message="No email found")
            return self._answer(reply, credits=0)

        address, company = found
        mx_hosts = company.mx_hosts
        reply.update(
            email=address,
            status=_finder_status(address, company),
            credits_consumed=_EMAIL_FINDER_CREDITS,
            message="Email found",
            domain=company.domain,
            has_mx=bool(mx_hosts),
            mx_record=mx_hosts[0] if mx_hosts else None,
            mx_records_full=[{"exchange": host, "priority": 10 * (rank + 1)} for rank, host in enumerate(mx_hosts)],
            mx_provider=_mx_provider(mx_hosts),
            mx_security_gateway=False,
            employment_verified=company.id == person.company.id,
            company_name=company.name,
            company_industry=company.industry,
            company_size=company.size_band,
        )
        return self._answer(reply, credits=_EMAIL_FINDER_CREDITS)

    def _profile_email(self, request: SandboxRequest) -> SandboxResponse:
        body = _json_object(request)
        if body is None:
            return self._bad_request("invalid_json", "The request body must be a JSON object.")
        profile_url = _text(body, "profile_url")
        if not profile_url:
            return self._bad_request("missing_parameter", "Send profile_url, a LinkedIn profile URL or slug.")
        person = self._directory.match_linkedin(profile_url)
        found = self._email_for(person, None, None) if person is not None else None
        if found is None:
            reply = {
                "email": None,
                "profile_url": profile_url,
                "credits_consumed": 0,
                "message": "No email found for this profile.",
            }
            return self._answer(reply, credits=0)
        reply = {
            "email": found[0],
            "profile_url": profile_url,
            "credits_consumed": _PROFILE_EMAIL_CREDITS,
            "message": "Email found.",
        }
        return self._answer(reply, credits=_PROFILE_EMAIL_CREDITS)

    def _mobile_finder(self, request: SandboxRequest) -> SandboxResponse:
        body = _json_object(request)
        if body is None:
            return self._bad_request("invalid_json", "The request body must be a JSON object.")
        profile_url = _text(body, "profile_url")
        work_email, personal_email = _text(body, "work_email"), _text(body, "personal_email")
        if not (profile_url or work_email or personal_email):
            return self._bad_request(
                "missing_parameter", "Send at least one of profile_url, work_email, personal_email."
            )
        person = None
        if profile_url:
            person = self._directory.match_linkedin(profile_url)
        if person is None and work_email:
            person = self._directory.match_email(work_email)
        if person is None or person.phone_e164 is None or not self._directory.knows(self.provider, person, "phone"):
            return self._answer(
                {"mobile_number": None, "credits_consumed": 0, "message": "mobile not found"}, credits=0
            )
        reply = {"mobile_number": person.phone_e164, "credits_consumed": _MOBILE_CREDITS, "message": "Mobile found"}
        return self._answer(reply, credits=_MOBILE_CREDITS)

    # Helpers -------------------------------------------------------------------------------------------

    def _email_for(
        self, person: SandboxPerson, domain: str | None, company_name: str | None
    ) -> tuple[str, SandboxCompany] | None:
        """Return LeadMagic's address for the person, with its company, or None."""
        if self._directory.returns_stale(self.provider, person) and person.stale_email and person.previous_company:
            return person.stale_email, person.previous_company
        if _names_previous_company(self._directory, person, domain, company_name):
            # LeadMagic's record is current, so it has no address at the company the person left.
            return None
        if self._directory.knows(self.provider, person, "email"):
            return person.email, person.company
        return None

    def _answer(self, payload: dict[str, Any], *, credits: int) -> SandboxResponse:
        with self._lock:
            self._credits = max(0, self._credits - credits)
            left = self._credits
        return SandboxResponse.json(200, payload, {"X-Credits-Remaining": str(left)})

    def _credits_left(self) -> int:
        with self._lock:
            return self._credits

    def _bad_request(self, code: str, title: str) -> SandboxResponse:
        return SandboxResponse.json(400, self._problem(400, code, title))

    def _problem(self, status: int, code: str, title: str) -> dict[str, Any]:
        return {
            "success": False,
            "errors": [
                {
                    "type": f"https://leadmagic.io/docs/errors/{code}",
                    "title": title,
                    "status": status,
                    "code": code,
                    "docs": _DOCS_URL,
                }
            ],
            "meta": {
                "request_id": f"req_{next(self._request_ids):08d}",
                "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            },
        }


def _finder_status(address: str, company: SandboxCompany) -> str:
    """Return LeadMagic's status: `valid` on ordinary domains, and on catch-all domains `valid_catch_all` for
    one address in three (engagement evidence) and `catch_all` for the rest.
    """
    if not company.catch_all:
        return "valid"
    return "valid_catch_all" if _spread(address, 3) == 0 else "catch_all"


def _names_previous_company(
    directory: Directory, person: SandboxPerson, domain: str | None, company_name: str | None
) -> bool:
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


def _mx_provider(mx_hosts: tuple[str, ...]) -> str | None:
    if not mx_hosts:
        return None
    host = mx_hosts[0]
    if host.endswith("google.com"):
        return "google"
    if host.endswith("outlook.com"):
        return "microsoft"
    return "other"


def _json_object(request: SandboxRequest) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


def _fold(text: str) -> str:
    return "".join(character for character in anyascii(text).lower() if character.isalnum())


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.lower().encode()).digest()
    return int.from_bytes(digest[:4], "big") % buckets
