"""Hunter Email Finder v2 as the sandbox serves it: ``GET /v2/email-finder``.

Replies use Hunter's ``{data, meta}`` envelope and its ``{errors: [{id, code, details}]}`` error
shape. The key is accepted as the ``api_key`` query parameter, the ``X-API-KEY`` header or a
Bearer token, like Hunter does, and Hunter's special ``test-api-key`` returns a fixed dummy
person. The response field list, the ``linkedin_handle`` parameter and the 404 for a domain
Hunter has never seen are inferred from a third-party OpenAPI description, as are the error ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cascade.normalise.emails import normalise_email
from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

# Hunter's documented test key: it validates parameters and returns a fixed dummy reply.
TEST_API_KEY = "test-api-key"

_MIN_DURATION = 3
_MAX_DURATION = 20

# Directory mailbox facts in Hunter's verification.status vocabulary.
_STATUS_BY_MAILBOX = {
    "valid": "valid",
    "invalid": "invalid",
    "catch_all": "accept_all",
    "disposable": "disposable",
    "unknown": "unknown",
}
# Score ranges (low, high) by verification status, so that scores follow Hunter's evidence.
_SCORE_RANGES = {
    "valid": (85, 99),
    "accept_all": (50, 79),
    "unknown": (30, 59),
    "webmail": (30, 59),
    "invalid": (10, 29),
    "disposable": (5, 20),
    None: (40, 70),
}
# One in this many found addresses has no verification yet (status and date null).
_UNVERIFIED_ONE_IN = 8

_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_UNAVAILABLE_HTML = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class HunterSandbox:
    """The Hunter Email Finder over the sandbox directory."""

    provider = "hunter"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]

    def routes(self) -> list[Route]:
        return [Route("GET", r"/v2/email-finder", self._email_finder)]

    def authenticate(self, request: SandboxRequest) -> bool:
        key = _request_key(request)
        if key is None:
            return False
        return key == TEST_API_KEY or hmac.compare_digest(key.encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        if kind is FaultKind.THROTTLED:
            return SandboxResponse.json(
                429,
                _errors("too_many_requests", 429, "You have reached the rate limit. Slow down your requests."),
                headers={"Retry-After": str(plan.retry_after_seconds)},
            )
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.json(
                401, _errors("authentication_failed", 401, "No user found for the API key supplied")
            )
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(
                402,
                _errors(
                    "usage_limit",
                    402,
                    "You have reached your monthly quota. Upgrade your plan or wait for the next billing cycle.",
                ),
            )
        if kind is FaultKind.ERROR_IN_200:
            # Hunter documents no errors inside a 200. This is its rate-limit error (403) passed on
            # with a 200, as a misbehaving proxy would send it.
            return SandboxResponse.json(
                200, _errors("too_many_requests", 403, "You have reached the rate limit for this endpoint.")
            )
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"data": {"first_name": None, "email": None, "score": None}, "meta": {}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse(502, _BAD_GATEWAY_HTML.encode(), {"Content-Type": "text/html"})
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse(503, _UNAVAILABLE_HTML.encode(), {"Content-Type": "text/html"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply.
        return SandboxResponse.json(
            500, _errors("internal_server_error", 500, "Something went wrong on our side. Please try again.")
        )

    def _email_finder(self, request: SandboxRequest) -> SandboxResponse:
        query = {name: value.strip() for name, value in request.query.items()}
        rejection = _validate(query)
        if rejection is not None:
            return rejection
        if _request_key(request) == TEST_API_KEY:
            return SandboxResponse.json(200, _dummy_reply(query))

        domain = query.get("domain") or None
        company = query.get("company") or None
        person = self._match(query, domain, company)
        if person is None:
            if domain is not None and self._directory.company_by_domain(domain) is None:
                return SandboxResponse.json(404, _errors("not_found", 404, "No results found for this domain"))
            return SandboxResponse.json(200, {"data": _empty_data(query), "meta": {"params": _echo(query)}})
        return SandboxResponse.json(200, {"data": self._person_data(person, query), "meta": {"params": _echo(query)}})

    def _match(self, query: dict[str, str], domain: str | None, company: str | None) -> SandboxPerson | None:
        handle = query.get("linkedin_handle")
        if handle:
            return self._directory.match_linkedin(handle)
        first, last = query.get("first_name"), query.get("last_name")
        if first and last:
            return self._directory.match_name(first, last, domain=domain, company_name=company)
        return self._directory.match_full_name(query.get("full_name", ""), domain=domain, company_name=company)

    def _person_data(self, person: SandboxPerson, query: dict[str, str]) -> dict[str, Any]:
        if self._directory.returns_stale(self.provider, person) and person.stale_email and person.previous_company:
            # Hunter's record predates the move: the old address, verified back when it worked.
            return _found_data(
                person,
                company=person.previous_company,
                address=person.stale_email,
                status="valid",
                verified_on="2023-03-14",
                query=query,
            )
        if self._directory.knows(self.provider, person, "email"):
            status: str | None = self._verification_status(person.email)
            verified_on: str | None = "2025-06-02"
            if _spread(person.id, _UNVERIFIED_ONE_IN) == 0:
                status, verified_on = None, None
            return _found_data(
                person,
                company=person.company,
                address=person.email,
                status=status,
                verified_on=verified_on,
                query=query,
            )
        data = _empty_data(query)
        data.update(
            first_name=person.first_name,
            last_name=person.last_name,
            domain=person.company.domain,
            company=person.company.name,
            accept_all=person.company.catch_all,
        )
        return data

    def _verification_status(self, address: str) -> str:
        mailbox = self._directory.mailbox_status(address)
        if mailbox == "unknown" and normalise_email(address).is_free_mail:
            return "webmail"
        return _STATUS_BY_MAILBOX.get(mailbox, "unknown")


def _request_key(request: SandboxRequest) -> str | None:
    key = request.query.get("api_key") or request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _validate(query: dict[str, str]) -> SandboxResponse | None:
    """Return Hunter's 400 for missing or invalid parameters, or ``None`` when the query is usable."""
    has_handle = bool(query.get("linkedin_handle"))
    if not has_handle and not (query.get("domain") or query.get("company")):
        return SandboxResponse.json(
            400, _errors("wrong_params", 400, "You are missing the domain or the company parameter")
        )
    if not has_handle and not ((query.get("first_name") and query.get("last_name")) or query.get("full_name")):
        return SandboxResponse.json(
            400,
            _errors("wrong_params", 400, "You are missing the first_name and last_name, or the full_name parameter"),
        )
    duration = query.get("max_duration")
    if duration is not None and not (duration.isdigit() and _MIN_DURATION <= int(duration) <= _MAX_DURATION):
        return SandboxResponse.json(
            400,
            _errors("wrong_params", 400, f"max_duration must be between {_MIN_DURATION} and {_MAX_DURATION}"),
        )
    return None


def _found_data(
    person: SandboxPerson,
    *,
    company: SandboxCompany,
    address: str,
    status: str | None,
    verified_on: str | None,
    query: dict[str, str],
) -> dict[str, Any]:
    low, high = _SCORE_RANGES.get(status, _SCORE_RANGES[None])
    data = _empty_data(query)
    data.update(
        first_name=person.first_name,
        last_name=person.last_name,
        email=address,
        score=low + _spread(person.id + address, high - low + 1),
        domain=company.domain,
        accept_all=company.catch_all,
        position=person.title,
        linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}",
        company=company.name,
        sources=[
            {
                "domain": company.domain,
                "uri": f"https://{company.domain}/team",
                "extracted_on": "2024-11-20",
                "last_seen_on": "2025-05-30",
                "still_on_page": True,
            }
        ],
        verification={"date": verified_on, "status": status},
    )
    return data


def _empty_data(query: dict[str, str]) -> dict[str, Any]:
    """Return Hunter's data object for a miss: every field present, the email fields null."""
    return {
        "first_name": query.get("first_name") or None,
        "last_name": query.get("last_name") or None,
        "email": None,
        "score": None,
        "domain": query.get("domain") or None,
        "accept_all": False,
        "position": None,
        "twitter": None,
        "linkedin_url": None,
        "phone_number": None,
        "company": query.get("company") or None,
        "sources": [],
        "verification": {"date": None, "status": None},
    }


def _dummy_reply(query: dict[str, str]) -> dict[str, Any]:
    data = _empty_data(query)
    data.update(
        first_name="Dustin",
        last_name="Moskovitz",
        email="dustin@asana.com",
        score=97,
        domain="asana.com",
        position="Cofounder",
        company="Asana",
        verification={"date": "2025-01-01", "status": "valid"},
    )
    return {"data": data, "meta": {"params": _echo(query)}}


def _echo(query: dict[str, str]) -> dict[str, str | None]:
    """Return Hunter's meta.params: the search inputs, without the key."""
    names = ("first_name", "last_name", "full_name", "domain", "company", "linkedin_handle", "max_duration")
    return {name: query.get(name) or None for name in names}


def _errors(error_id: str, code: int, details: str) -> dict[str, Any]:
    return {"errors": [{"id": error_id, "code": code, "details": details}]}


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") % max(buckets, 1)
