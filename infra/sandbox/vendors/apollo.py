"""Apollo People Enrichment v1 as the sandbox serves it: ``POST /api/v1/people/match``.

The key comes in the ``x-api-key`` header. The parameters come as query parameters, as documented,
or as a JSON body, which Apollo accepts in practice. No match is HTTP 200 with ``person: null``,
and a bad key gets Apollo's plain-text 401. Apollo does not document its error codes, the exact
``email_status`` strings or the phone fields, so those are inferred (lower-case snake case,
``{"error", "error_code"}`` bodies). Phones are never returned: Apollo delivers them later to a
webhook, which the sandbox does not call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

# Limits of a paid plan for people/match, per fixed window.
_PER_MINUTE = 200
_PER_HOUR = 2000
_PER_DAY = 6000

_PARAMETERS = frozenset(
    {
        "first_name",
        "last_name",
        "name",
        "email",
        "hashed_email",
        "organization_name",
        "domain",
        "id",
        "linkedin_url",
        "reveal_personal_emails",
        "reveal_phone_number",
        "webhook_url",
        "run_waterfall_email",
        "run_waterfall_phone",
    }
)
# email_status values by directory mailbox fact, spread over people by hash.
_STATUSES_BY_MAILBOX: dict[str, tuple[str, ...]] = {
    "valid": ("verified", "verified", "verified", "likely_to_engage"),
    "catch_all": ("likely_to_engage", "unverified", "extrapolated"),
    "unknown": ("unverified", "guessed"),
    "disposable": ("unverified",),
    "invalid": ("bounced", "update_required"),
}

_BAD_GATEWAY_HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
_UNAVAILABLE_HTML = "<html><head><title>503 Service Unavailable</title></head><body>Service Unavailable</body></html>"


class _Usage:
    """Requests counted per fixed minute, hour and day window, for the rate-limit headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[int, int]] = {}

    def record(self) -> tuple[int, int, int]:
        with self._lock:
            now = int(time.time())
            counts: list[int] = []
            for length in (60, 3600, 86_400):
                start, count = self._windows.get(length, (-1, 0))
                current = now // length
                count = count + 1 if start == current else 1
                self._windows[length] = (current, count)
                counts.append(count)
            return counts[0], counts[1], counts[2]


class ApolloSandbox:
    """Apollo's ``people/match`` over the sandbox directory."""

    provider = "apollo"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]
        self._usage = _Usage()

    def routes(self) -> list[Route]:
        return [Route("POST", r"/api/v1/people/match", self._match_person)]

    def authenticate(self, request: SandboxRequest) -> bool:
        key = request.headers.get("x-api-key", "")
        return bool(key) and hmac.compare_digest(key.encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        if kind is FaultKind.THROTTLED:
            headers = {**_limit_headers(_PER_MINUTE, 1, 1), "Retry-After": str(plan.retry_after_seconds)}
            message = (
                f"The maximum number of api calls allowed for api/v1/people/match is {_PER_MINUTE} times per "
                "minute. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
            )
            return SandboxResponse.json(429, {"message": message}, headers)
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.text(401, "Invalid access credentials.")
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(422, _credits_error(), _limit_headers(1, 1, 1))
        if kind is FaultKind.ERROR_IN_200:
            return SandboxResponse.json(200, {"person": None, **_credits_error()}, _limit_headers(1, 1, 1))
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"person": {"id": "0" * 24, "email": None, "email_status": "unavailable"}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(502, _BAD_GATEWAY_HTML.encode(), {"Content-Type": "text/html"})
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse(503, _UNAVAILABLE_HTML.encode(), {"Content-Type": "text/html"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply.
        return SandboxResponse.json(500, {"error": "Something went wrong. Please try again later."})

    def _match_person(self, request: SandboxRequest) -> SandboxResponse:
        minute, hour, day = self._usage.record()
        headers = _limit_headers(minute, hour, day)
        params = _parameters(request)
        if isinstance(params, str):
            return SandboxResponse.json(422, {"error": params}, headers)
        if _truthy(params.get("reveal_phone_number")) and not params.get("webhook_url"):
            message = "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"
            return SandboxResponse.json(400, {"error": message}, headers)
        person = self._find(params)
        if person is None:
            return SandboxResponse.json(200, {"person": None}, headers)
        return SandboxResponse.json(200, {"person": self._person_object(person)}, headers)

    def _find(self, params: dict[str, Any]) -> SandboxPerson | None:
        if params.get("linkedin_url"):
            return self._directory.match_linkedin(str(params["linkedin_url"]))
        if params.get("email"):
            return self._directory.match_email(str(params["email"]))
        domain = str(params["domain"]) if params.get("domain") else None
        organization = str(params["organization_name"]) if params.get("organization_name") else None
        if domain is None and organization is None:
            # A name alone is too little to match on, so Apollo returns an empty match.
            return None
        first, last = params.get("first_name"), params.get("last_name")
        if first and last:
            return self._directory.match_name(str(first), str(last), domain=domain, company_name=organization)
        if params.get("name"):
            return self._directory.match_full_name(str(params["name"]), domain=domain, company_name=organization)
        return None

    def _person_object(self, person: SandboxPerson) -> dict[str, Any]:
        company = person.company
        email: str | None = None
        status = "unavailable"
        if self._directory.returns_stale(self.provider, person) and person.stale_email and person.previous_company:
            # Apollo's record predates the move: the old employer, its address still marked verified.
            company, email, status = person.previous_company, person.stale_email, "verified"
        elif self._directory.knows(self.provider, person, "email"):
            email = person.email
            choices = _STATUSES_BY_MAILBOX.get(self._directory.mailbox_status(email), ("unverified",))
            status = choices[_spread(person.id, len(choices))]
        return {
            "id": _apollo_id("person", person.id),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "name": person.full_name,
            "linkedin_url": f"http://www.linkedin.com/in/{person.linkedin_slug}",
            "title": person.title,
            "headline": f"{person.title} at {company.name}",
            "seniority": person.seniority,
            "departments": [person.department],
            "email_status": status,
            "email": email,
            "personal_emails": [],
            "extrapolated_email_confidence": None,
            "organization_id": _apollo_id("organization", company.id),
            "organization": _organization(company),
            "country": person.country,
        }


def _parameters(request: SandboxRequest) -> dict[str, Any] | str:
    """Merge query parameters and a JSON body (the body wins), or return the 422 message."""
    params: dict[str, Any] = dict(request.query)
    if request.body:
        try:
            body = request.json()
        except ValueError:
            return "The request body is not valid JSON."
        if not isinstance(body, dict):
            return "The request body must be a JSON object."
        params.update(body)
    unknown = sorted(name for name in params if name not in _PARAMETERS)
    if unknown:
        return f"Unknown parameters: {', '.join(unknown)}"
    return params


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _organization(company: SandboxCompany) -> dict[str, Any]:
    return {
        "id": _apollo_id("organization", company.id),
        "name": company.name,
        "website_url": f"http://www.{company.domain}",
        "primary_domain": company.domain,
        "estimated_num_employees": company.employees,
        "industry": company.industry,
        "country": company.country,
    }


def _limit_headers(minute_used: int, hour_used: int, day_used: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    for window, limit, used in (("minute", _PER_MINUTE, minute_used), ("hourly", _PER_HOUR, hour_used)):
        headers[f"x-rate-limit-{window}"] = str(limit)
        headers[f"x-{window}-usage"] = str(used)
        headers[f"x-{window}-requests-left"] = str(max(limit - used, 0))
    headers["x-rate-limit-daily"] = str(_PER_DAY)
    headers["x-daily-usage"] = str(day_used)
    headers["x-daily-requests-left"] = str(max(_PER_DAY - day_used, 0))
    return headers


def _credits_error() -> dict[str, Any]:
    return {
        "error": "You have insufficient credits to enrich this person. Buy credits or wait for your plan to renew.",
        "error_code": "INSUFFICIENT_CREDITS",
    }


def _apollo_id(kind: str, local_id: str) -> str:
    """Return a 24-character hexadecimal id, the shape of Apollo's ids."""
    return hashlib.sha256(f"apollo:{kind}:{local_id}".encode()).hexdigest()[:24]


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(buckets, 1)
