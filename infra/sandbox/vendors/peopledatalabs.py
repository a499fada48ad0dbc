"""People Data Labs Person Enrichment v5 as the sandbox serves it: ``/v5/person/enrich``.

GET takes the parameters as a query string and POST as a JSON body. The key comes in the
``X-Api-Key`` header or the ``api_key`` parameter. Replies are ``{status, likelihood, data}``,
errors ``{status, error: {type, message}}``, and every reply carries PDL's rate-limit headers,
with the limit and remaining counts as JSON objects per window. ``min_likelihood``, ``required``
and ``data_include`` are honoured. ``required`` understands field names joined by AND and OR
(the exact grammar is inferred). Contact field names other than ``work_email`` are inferred.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

_PER_MINUTE = 1000
_MONTHLY_CREDITS = 10_000
_MIN_LIKELIHOOD = 1
_MAX_LIKELIHOOD = 10
_LINE_TYPES_WITH_MOBILE = frozenset({"mobile", "fixed_line_or_mobile"})
# Parameters besides the identity ones that PDL accepts.
_CONTROLS = frozenset({"min_likelihood", "required", "data_include", "titlecase", "pretty", "include_if_matched"})
_IDENTITY = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "middle_name",
        "company",
        "school",
        "location",
        "locality",
        "region",
        "country",
        "postal_code",
        "street_address",
        "birth_date",
        "email",
        "email_hash",
        "phone",
        "profile",
        "lid",
        "pdl_id",
    }
)
_CONTEXT = ("company", "school", "location", "street_address", "locality", "region", "country", "postal_code")
_SOLE_IDENTIFIERS = ("profile", "email", "phone", "email_hash", "lid", "pdl_id")
_PROFILE_SLUG = re.compile(r"linkedin\.com/in/([^/?#]+)", re.IGNORECASE)
_REQUIRED_TOKEN = re.compile(r"[()]")

_BAD_GATEWAY_HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
_UNAVAILABLE_HTML = "<html><head><title>503 Service Unavailable</title></head><body>Service Unavailable</body></html>"


class _Usage:
    """Requests counted per minute and matches since start, for the rate-limit and credit headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minute = -1
        self._in_minute = 0
        self._matches = 0

    def record(self) -> int:
        with self._lock:
            minute = int(time.time() // 60)
            if minute != self._minute:
                self._minute, self._in_minute = minute, 0
            self._in_minute += 1
            return self._in_minute

    def record_match(self) -> int:
        with self._lock:
            self._matches += 1
            return self._matches


class PeopleDataLabsSandbox:
    """PDL's Person Enrichment API over the sandbox directory."""

    provider = "peopledatalabs"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]
        self._usage = _Usage()

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/v5/person/enrich", self._enrich),
            Route("POST", r"/v5/person/enrich", self._enrich),
            Route("PUT", r"/v5/person/enrich", _method_not_allowed),
            Route("DELETE", r"/v5/person/enrich", _method_not_allowed),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        key = request.headers.get("x-api-key") or request.query.get("api_key") or ""
        return bool(key) and hmac.compare_digest(key.encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        if kind is FaultKind.THROTTLED:
            headers = {
                **_limit_headers(0, reset_in=plan.retry_after_seconds),
                "Retry-After": str(plan.retry_after_seconds),
            }
            return SandboxResponse.json(
                429,
                _error(429, "rate_limit_error", "An error occurred due to requests hitting the API too quickly."),
                headers,
            )
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.json(
                401,
                _error(401, "authentication_error", "Request object must contain a valid API key."),
                _limit_headers(_PER_MINUTE),
            )
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(402, _quota_error(402), _limit_headers(_PER_MINUTE))
        if kind is FaultKind.ERROR_IN_200:
            # PDL repeats the status in the body, so a proxy that rewrote the HTTP status leaves it there.
            return SandboxResponse.json(200, _quota_error(402), _limit_headers(_PER_MINUTE))
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"status": 200, "likelihood": 8, "data": {"work_email": None}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(502, _BAD_GATEWAY_HTML.encode(), {"Content-Type": "text/html"})
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse(503, _UNAVAILABLE_HTML.encode(), {"Content-Type": "text/html"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply.
        return SandboxResponse.json(
            500, _error(500, "api_error", "An internal error occurred. Please try again later."), _limit_headers(0)
        )

    def _enrich(self, request: SandboxRequest) -> SandboxResponse:
        headers = _limit_headers(_PER_MINUTE - self._usage.record())
        params = _parameters(request)
        if isinstance(params, str):
            return SandboxResponse.json(400, _error(400, "invalid_request_error", params), headers)
        problem = _input_problem(params)
        if problem is not None:
            return SandboxResponse.json(400, _error(400, "invalid_request_error", problem), headers)

        min_likelihood = _MIN_LIKELIHOOD
        raw_min = params.get("min_likelihood")
        if raw_min is not None:
            if not raw_min.isdigit() or not _MIN_LIKELIHOOD <= int(raw_min) <= _MAX_LIKELIHOOD:
                message = f"min_likelihood must be an integer from {_MIN_LIKELIHOOD} to {_MAX_LIKELIHOOD}."
                return SandboxResponse.json(400, _error(400, "invalid_request_error", message), headers)
            min_likelihood = int(raw_min)

        matched = self._match(params)
        if matched is None:
            return _not_found(headers)
        person, likelihood = matched
        data = self._person_data(person)
        if likelihood < min_likelihood or not _satisfies(params.get("required"), data):
            return _not_found(headers)
        data = _included(data, params.get("data_include"))
        matches = self._usage.record_match()
        headers.update(
            {
                "x-call-credits-spent": "1",
                "x-totallimit-remaining": str(max(_MONTHLY_CREDITS - matches, 0)),
                "x-lifetime-used": str(matches),
            }
        )
        return SandboxResponse.json(200, {"status": 200, "likelihood": likelihood, "data": data}, headers)

    def _match(self, params: dict[str, str]) -> tuple[SandboxPerson, int] | None:
        """Find the person and PDL's likelihood for the kind of input that matched."""
        profile = params.get("profile")
        if profile:
            found = _PROFILE_SLUG.search(profile)
            person = self._directory.match_linkedin(found.group(1) if found else profile)
            return None if person is None else (person, 9 + _spread(person.id, 2))
        if params.get("email"):
            person = self._directory.match_email(params["email"])
            return None if person is None else (person, 10)
        if params.get("phone"):
            person = self._directory.match_phone(params["phone"])
            return None if person is None else (person, 9)
        company = params.get("company", "")
        if not company:
            return None
        domain = _domain_of(company)
        first, last = params.get("first_name"), params.get("last_name")
        if first and last:
            person = self._directory.match_name(first, last, domain=domain, company_name=None if domain else company)
        else:
            person = self._directory.match_full_name(
                params.get("name", ""), domain=domain, company_name=None if domain else company
            )
        if person is None:
            return None
        # A domain pins the company down better than a name does.
        low, span = (6, 4) if domain else (4, 5)
        return person, low + _spread(person.id, span)

    def _person_data(self, person: SandboxPerson) -> dict[str, Any]:
        stale = bool(
            self._directory.returns_stale(self.provider, person) and person.stale_email and person.previous_company
        )
        company: SandboxCompany = person.company
        work_email: str | None = None
        if stale and person.previous_company is not None:
            # PDL's record predates the move: the old employer and its address, still listed as current.
            company, work_email = person.previous_company, person.stale_email
        elif self._directory.knows(self.provider, person, "email"):
            work_email = person.email
        phones: list[str] = []
        mobile: str | None = None
        if person.phone_e164 and self._directory.knows(self.provider, person, "phone"):
            phones.append(person.phone_e164)
            if person.phone_line_type in _LINE_TYPES_WITH_MOBILE:
                mobile = person.phone_e164
        # PDL lower-cases names and titles unless titlecase is set.
        return {
            "id": hashlib.sha256(f"pdl:{person.id}".encode()).hexdigest()[:40],
            "full_name": person.full_name.lower(),
            "first_name": person.first_name.lower(),
            "last_name": person.last_name.lower(),
            "linkedin_url": f"linkedin.com/in/{person.linkedin_slug}",
            "linkedin_username": person.linkedin_slug,
            "job_title": person.title.lower(),
            "job_company_name": company.name.lower(),
            "job_company_website": company.domain,
            "work_email": work_email,
            "personal_emails": [],
            "emails": [{"address": work_email, "type": "current_professional"}] if work_email else [],
            "mobile_phone": mobile,
            "phone_numbers": phones,
            "location_country": person.country.lower(),
        }


def _parameters(request: SandboxRequest) -> dict[str, str] | str:
    """Read the parameters of either method as strings, or return the 400 message."""
    if request.method == "GET":
        raw: dict[str, Any] = dict(request.query)
    else:
        try:
            body = request.json()
        except ValueError:
            return "The request body is not valid JSON."
        if not isinstance(body, dict):
            return "The request body must be a JSON object."
        raw = body
    params: dict[str, str] = {}
    for name, value in raw.items():
        if name == "api_key":
            continue
        if name not in _IDENTITY and name not in _CONTROLS:
            return f"{name} is not a valid parameter for this endpoint."
        # Most parameters accept a list, and the sandbox matches on the first entry.
        first = value[0] if isinstance(value, list) and value else value
        if isinstance(first, bool):
            params[name] = str(first).lower()
        elif isinstance(first, str | int | float):
            params[name] = str(first).strip()
    return params


def _input_problem(params: dict[str, str]) -> str | None:
    if any(params.get(name) for name in _SOLE_IDENTIFIERS):
        return None
    has_name = bool(params.get("name") or (params.get("first_name") and params.get("last_name")))
    if has_name and any(params.get(name) for name in _CONTEXT):
        return None
    return (
        "Request object must contain one of profile, email, phone, email_hash, lid or pdl_id, or a name "
        "(name, or first_name and last_name) together with company, school, location, street_address, "
        "locality, region, country or postal_code."
    )


def _satisfies(required: str | None, data: dict[str, Any]) -> bool:
    """Evaluate a ``required`` expression such as ``work_email OR mobile_phone`` against the data."""
    if not required:
        return True
    text = _REQUIRED_TOKEN.sub(" ", required)
    return any(
        all(bool(data.get(name.strip())) for name in alternative.split(" AND ") if name.strip())
        for alternative in text.split(" OR ")
    )


def _included(data: dict[str, Any], data_include: str | None) -> dict[str, Any]:
    if not data_include:
        return data
    names = [name.strip() for name in data_include.split(",") if name.strip()]
    excluded = {name[1:] for name in names if name.startswith("-")}
    included = {name for name in names if not name.startswith("-")}
    return {name: value for name, value in data.items() if (not included or name in included) and name not in excluded}


def _not_found(headers: dict[str, str]) -> SandboxResponse:
    return SandboxResponse.json(404, _error(404, "not_found", "No records were found matching your request"), headers)


def _method_not_allowed(request: SandboxRequest) -> SandboxResponse:
    return SandboxResponse.json(
        405,
        _error(405, "invalid_request_error", f"Request method {request.method} is not allowed; use GET or POST."),
    )


def _limit_headers(minute_left: int, *, reset_in: int | None = None) -> dict[str, str]:
    now = datetime.now(UTC)
    if reset_in is None:
        reset_at = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    else:
        reset_at = now.replace(microsecond=0) + timedelta(seconds=reset_in)
    return {
        "x-ratelimit-limit": json.dumps({"minute": _PER_MINUTE, "day": None, "month": None}),
        "x-ratelimit-remaining": json.dumps({"minute": max(minute_left, 0), "day": None, "month": None}),
        "x-ratelimit-reset": reset_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-call-credits-spent": "0",
        "x-call-credits-type": "enrich",
    }


def _domain_of(company: str) -> str | None:
    """Return the domain when PDL's company parameter is a website, ``None`` when it is a name."""
    text = company.strip().lower()
    if " " in text or "." not in text:
        return None
    host = text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.removeprefix("www.") or None


def _quota_error(status: int) -> dict[str, Any]:
    return _error(
        status, "payment_required", "You have hit your account maximum for person enrichment (all matches used)."
    )


def _error(status: int, error_type: str, message: str) -> dict[str, Any]:
    return {"status": status, "error": {"type": error_type, "message": message}}


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(buckets, 1)
