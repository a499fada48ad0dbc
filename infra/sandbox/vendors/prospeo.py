"""Prospeo Enrich Person as the sandbox serves it: ``POST /enrich-person``.

Every body carries Prospeo's ``error`` flag, failures an ``error_code``. The key comes in the
``X-KEY`` header and the body must be JSON. The HTTP 400 for ``NO_MATCH`` and the
``x-*-request-left`` / ``x-*-reset-seconds`` headers are inferred from third-party summaries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import phonenumbers

from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

# The Starter plan's enrich limits.
_PER_SECOND = 5
_PER_MINUTE = 300
_PER_DAY = 2000
_DAY_SECONDS = 86_400

_FLAGS = ("only_verified_email", "enrich_mobile", "only_verified_mobile")
_DATAPOINTS = (
    "first_name",
    "last_name",
    "full_name",
    "linkedin_url",
    "email",
    "company_name",
    "company_website",
    "company_linkedin_url",
    "person_id",
)
# Prospeo verifies before it reveals, so only mailboxes the directory records as valid are VERIFIED.
_VERIFIED_MAILBOXES = frozenset({"valid"})
# One in this many revealed mobiles has no verification status.
_UNVERIFIED_MOBILE_ONE_IN = 4
_LINE_TYPES_WITH_MOBILE = frozenset({"mobile", "fixed_line_or_mobile"})

_BAD_GATEWAY_HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
_UNAVAILABLE_HTML = (
    "<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>"
)


class _Usage:
    """Requests counted per minute and since start, for the rate-limit headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minute = -1
        self._in_minute = 0
        self._total = 0

    def record(self) -> tuple[int, int]:
        with self._lock:
            minute = int(time.time() // 60)
            if minute != self._minute:
                self._minute, self._in_minute = minute, 0
            self._in_minute += 1
            self._total += 1
            return self._in_minute, self._total


class ProspeoSandbox:
    """Prospeo's Enrich Person over the sandbox directory."""

    provider = "prospeo"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]
        self._usage = _Usage()

    def routes(self) -> list[Route]:
        return [Route("POST", r"/enrich-person", self._enrich_person)]

    def authenticate(self, request: SandboxRequest) -> bool:
        key = request.headers.get("x-key", "")
        return bool(key) and hmac.compare_digest(key.encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        wait = plan.retry_after_seconds
        if kind is FaultKind.THROTTLED:
            headers = {**_limit_headers(0, _PER_DAY, minute_reset=wait), "Retry-After": str(wait)}
            return SandboxResponse.json(429, _error("RATE_LIMITED"), headers)
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.json(401, _error("INVALID_API_KEY"))
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(400, _error("INSUFFICIENT_CREDITS"), _limit_headers(_PER_MINUTE, _PER_DAY))
        if kind is FaultKind.ERROR_IN_200:
            # The older throttle code, with the minute window spent, inside an HTTP 200.
            headers = _limit_headers(0, _PER_DAY, minute_reset=wait)
            return SandboxResponse.json(200, _error("RATE_LIMIT_EXCEEDED"), headers)
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"error": False, "free_enrichment": False, "person": {"person_id": "x"}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(502, _BAD_GATEWAY_HTML.encode(), {"Content-Type": "text/html"})
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse(503, _UNAVAILABLE_HTML.encode(), {"Content-Type": "text/html"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply. Prospeo sends
        # its internal error with HTTP 400, but a crash in front of it is a 500.
        return SandboxResponse.json(500, _error("INTERNAL_ERROR"))

    def _enrich_person(self, request: SandboxRequest) -> SandboxResponse:
        minute_used, total_used = self._usage.record()
        headers = _limit_headers(_PER_MINUTE - minute_used, _PER_DAY - total_used % _PER_DAY)
        if "application/json" not in request.headers.get("content-type", "").lower():
            return SandboxResponse.json(400, _error("INVALID_REQUEST"), headers)
        try:
            body = request.json()
        except ValueError:
            return SandboxResponse.json(400, _error("INVALID_REQUEST"), headers)
        if not _well_formed(body):
            return SandboxResponse.json(400, _error("INVALID_REQUEST"), headers)
        data = {name: value.strip() for name, value in body["data"].items() if isinstance(value, str)}
        if not _enough_datapoints(data):
            return SandboxResponse.json(400, _error("INVALID_DATAPOINTS"), headers)

        person = self._match(data)
        if person is None:
            return SandboxResponse.json(400, _error("NO_MATCH"), headers)
        only_verified_mobile = body.get("only_verified_mobile") is True
        email = self._email(person, only_verified=body.get("only_verified_email") is True)
        mobile = (
            self._mobile(person, only_verified=only_verified_mobile)
            if body.get("enrich_mobile") is True or only_verified_mobile
            else None
        )
        if email is None and mobile is None:
            return SandboxResponse.json(400, _error("NO_MATCH"), headers)

        company = self._company_of(person)
        reply = {
            "error": False,
            "free_enrichment": False,
            "person": _person_object(person, email, mobile),
            "company": _company_object(company),
        }
        return SandboxResponse.json(200, reply, headers)

    def _match(self, data: dict[str, str]) -> SandboxPerson | None:
        if data.get("linkedin_url"):
            return self._directory.match_linkedin(data["linkedin_url"])
        if data.get("email"):
            return self._directory.match_email(data["email"])
        if data.get("person_id"):
            return self._directory.person(data["person_id"].removeprefix("pp-"))
        domain = _domain_of(data.get("company_website", "")) or None
        company_name = data.get("company_name") or None
        if data.get("first_name") and data.get("last_name"):
            return self._directory.match_name(
                data["first_name"], data["last_name"], domain=domain, company_name=company_name
            )
        return self._directory.match_full_name(data.get("full_name", ""), domain=domain, company_name=company_name)

    def _is_stale(self, person: SandboxPerson) -> bool:
        return bool(
            self._directory.returns_stale(self.provider, person) and person.stale_email and person.previous_company
        )

    def _company_of(self, person: SandboxPerson) -> SandboxCompany:
        if self._is_stale(person) and person.previous_company is not None:
            return person.previous_company
        return person.company

    def _email(self, person: SandboxPerson, *, only_verified: bool) -> dict[str, Any] | None:
        if self._is_stale(person) and person.stale_email:
            # Prospeo's record predates the move, and it was verified when the mailbox still existed.
            address, status = person.stale_email, "VERIFIED"
        elif self._directory.knows(self.provider, person, "email"):
            address = person.email
            verified = self._directory.mailbox_status(address) in _VERIFIED_MAILBOXES
            status = "VERIFIED" if verified else "UNVERIFIED"
        else:
            return None
        if only_verified and status != "VERIFIED":
            return None
        return {
            "status": status,
            "revealed": True,
            "email": address,
            "verification_method": "SMTP" if status == "VERIFIED" else "BOUNCEBAN",
            "email_mx_provider": "Google" if _spread(address, 2) == 0 else "Microsoft",
        }

    def _mobile(self, person: SandboxPerson, *, only_verified: bool) -> dict[str, Any] | None:
        if person.phone_e164 is None or person.phone_line_type not in _LINE_TYPES_WITH_MOBILE:
            return None
        if not self._directory.knows(self.provider, person, "phone"):
            return None
        verified = _spread(person.id, _UNVERIFIED_MOBILE_ONE_IN) != 0
        if only_verified and not verified:
            return None
        number = phonenumbers.parse(person.phone_e164)
        international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return {
            "status": "VERIFIED" if verified else None,
            "revealed": True,
            "mobile": international,
            "mobile_national": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            "mobile_international": international,
            "mobile_country": person.country,
            "mobile_country_code": phonenumbers.region_code_for_number(number),
        }


def _well_formed(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return False
    if any(name in body and not isinstance(body[name], bool) for name in _FLAGS):
        return False
    return all(name in _DATAPOINTS for name in body["data"])


def _enough_datapoints(data: dict[str, str]) -> bool:
    if any(data.get(name) for name in ("linkedin_url", "email", "person_id")):
        return True
    has_name = bool(data.get("full_name") or (data.get("first_name") and data.get("last_name")))
    has_company = any(data.get(name) for name in ("company_name", "company_website", "company_linkedin_url"))
    return has_name and has_company


def _person_object(
    person: SandboxPerson, email: dict[str, Any] | None, mobile: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "person_id": f"pp-{person.id}",
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "linkedin_url": f"https://www.linkedin.com/in/{person.linkedin_slug}",
        "current_job_title": person.title,
        "headline": f"{person.title} at {person.company.name}",
        "job_history": [],
        "mobile": mobile,
        "email": email,
        "location": {"country_code": person.country},
        "skills": [],
    }


def _company_object(company: SandboxCompany) -> dict[str, Any]:
    return {
        "company_id": f"pc-{company.id}",
        "name": company.name,
        "website": f"https://{company.domain}",
        "domain": company.domain,
        "industry": company.industry,
        "employee_count": company.employees,
        "employee_range": company.size_band,
        "location": {"country_code": company.country},
    }


def _limit_headers(minute_left: int, daily_left: int, *, minute_reset: int | None = None) -> dict[str, str]:
    now = time.time()
    return {
        "x-daily-request-left": str(max(daily_left, 0)),
        "x-minute-request-left": str(max(minute_left, 0)),
        "x-second-rate-limit": str(_PER_SECOND),
        "x-daily-reset-seconds": str(_DAY_SECONDS - int(now) % _DAY_SECONDS),
        "x-minute-reset-seconds": str(minute_reset if minute_reset is not None else 60 - int(now) % 60),
    }


def _domain_of(website: str) -> str:
    """Reduce a website such as ``https://www.quillon.de/about`` to ``quillon.de``."""
    host = website.strip().lower().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.removeprefix("www.")


def _error(code: str) -> dict[str, Any]:
    return {"error": True, "error_code": code}


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(buckets, 1)
