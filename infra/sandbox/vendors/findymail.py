"""Findymail as the sandbox serves it: the name, LinkedIn and phone searches.

Routes (``POST``, JSON body, ``Authorization: Bearer <key>``): ``/api/search/name`` (``name``,
``domain``), ``/api/search/linkedin`` (``linkedin_url``) and ``/api/search/phone`` (``linkedin_url``).
A found email comes back as ``{"contact": {"name", "domain", "email"}}`` and a phone as
``{"phone": ...}``. A miss is a 404 with an ``error`` field. Errors carry an ``error`` field, and the
credit error ``{"error": "Not enough credits"}`` is sent both as a 402 and inside an HTTP 200, as
Findymail's docs show it.

NOTE: the reply shapes, the 404 for a miss and the 422 for bad input are inferred from Findymail's
n8n node and client code, not read on a Findymail page.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from anyascii import anyascii

from infra.sandbox.directory import Directory, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

CREDIT_ERROR = "Not enough credits"
_BAD_GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class FindymailSandbox:
    """The Findymail search endpoints over the sandbox directory."""

    provider = "findymail"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/api/search/name", self._search_name),
            Route("POST", r"/api/search/linkedin", self._search_linkedin),
            Route("POST", r"/api/search/phone", self._search_phone),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        if kind is FaultKind.THROTTLED:
            # Findymail documents no rate-limit headers, only the 429 itself.
            return SandboxResponse.json(
                429, {"error": "Too Many Attempts."}, {"Retry-After": str(plan.retry_after_seconds)}
            )
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.json(401, {"message": "Unauthenticated."})
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(402, {"error": CREDIT_ERROR})
        if kind is FaultKind.ERROR_IN_200:
            return SandboxResponse.json(200, {"error": CREDIT_ERROR})
        if kind is FaultKind.MALFORMED:
            if request.path == "/api/search/phone":
                payload: dict[str, Any] = {"phone": "+12015550123"}
            else:
                payload = {"contact": {"name": "Someone", "domain": "example.com", "email": "someone@example.com"}}
            whole = json.dumps(payload)
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(
                502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}
            )
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse.json(503, {"message": "Service Unavailable"}, {"Retry-After": "30"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply.
        return SandboxResponse.json(500, {"message": "Server Error"})

    # Routes --------------------------------------------------------------------------------------------

    def _search_name(self, request: SandboxRequest) -> SandboxResponse:
        body = _json_object(request)
        if body is None:
            return _unprocessable("The request body must be a JSON object.")
        name, domain = _text(body, "name"), _text(body, "domain")
        if not name or not domain:
            return _unprocessable("The name and domain fields are required.")
        # Findymail's `domain` also takes a company name, so only a value with a dot and no space is a domain.
        if "." in domain and " " not in domain:
            person = self._directory.match_full_name(name, domain=domain)
        else:
            person = self._directory.match_full_name(name, company_name=domain)
        address = self._email_for(person, domain) if person is not None else None
        if person is None or address is None:
            return _not_found("No email found for this contact.")
        return SandboxResponse.json(200, _contact(person, address))

    def _search_linkedin(self, request: SandboxRequest) -> SandboxResponse:
        linkedin_url = self._linkedin_url(request)
        if linkedin_url is None:
            return _unprocessable("The linkedin_url field is required.")
        person = self._directory.match_linkedin(linkedin_url)
        address = self._email_for(person, None) if person is not None else None
        if person is None or address is None:
            return _not_found("No email found for this profile.")
        return SandboxResponse.json(200, _contact(person, address))

    def _search_phone(self, request: SandboxRequest) -> SandboxResponse:
        linkedin_url = self._linkedin_url(request)
        if linkedin_url is None:
            return _unprocessable("The linkedin_url field is required.")
        person = self._directory.match_linkedin(linkedin_url)
        if person is None or person.phone_e164 is None or not self._directory.knows(self.provider, person, "phone"):
            return _not_found("No phone found for this profile.")
        return SandboxResponse.json(200, {"phone": person.phone_e164})

    # Helpers -------------------------------------------------------------------------------------------

    def _linkedin_url(self, request: SandboxRequest) -> str | None:
        body = _json_object(request)
        linkedin_url = _text(body, "linkedin_url") if body is not None else ""
        return linkedin_url or None

    def _email_for(self, person: SandboxPerson, domain: str | None) -> str | None:
        """Return Findymail's address for the person, or None."""
        if self._directory.returns_stale(self.provider, person) and person.stale_email:
            return person.stale_email
        if domain and _names_previous_company(self._directory, person, domain):
            # Findymail's record is current, so it has no address at the company the person left.
            return None
        return person.email if self._directory.knows(self.provider, person, "email") else None


def _contact(person: SandboxPerson, address: str) -> dict[str, Any]:
    return {"contact": {"name": person.full_name, "domain": address.rpartition("@")[2], "email": address}}


def _names_previous_company(directory: Directory, person: SandboxPerson, domain_or_name: str) -> bool:
    """Return whether the request named the company the person left rather than their current one."""
    previous = person.previous_company
    if previous is None:
        return False
    company = directory.company_by_domain(domain_or_name)
    if company is not None:
        return company.id == previous.id
    company_key = _fold(domain_or_name)
    current = {_fold(person.company.name), _fold(person.company.legal_name)}
    return company_key not in current and company_key in {_fold(previous.name), _fold(previous.legal_name)}


def _unprocessable(message: str) -> SandboxResponse:
    return SandboxResponse.json(422, {"error": message})


def _not_found(message: str) -> SandboxResponse:
    return SandboxResponse.json(404, {"error": message})


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
