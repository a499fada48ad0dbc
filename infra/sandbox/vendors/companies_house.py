"""The Companies House Public Data API as the sandbox serves it, under the prefix ``/companies_house``.

Routes: ``GET /company/{number}`` and its ``/officers``, ``/persons-with-significant-control``,
``/persons-with-significant-control-statements`` and ``/exemptions``, and ``GET /search/companies``.
Recorded responses are served byte for byte. Every directory company with a UK number and no recorded
profile gets a synthetic profile, and the synthetic companies also get an officer list of their
fictional C-level people.

Authentication is HTTP Basic with the API key as the user name and an empty password; any other key
gets the recorded 401 body. Each key may send 600 requests in any 5 minutes, then gets a 429.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.rate_limit import SlidingWindowLimit
from infra.sandbox.registry_records import CompaniesHouseRecords, load_companies_house_records
from infra.sandbox.server import Handler, Route, SandboxRequest, SandboxResponse

REQUESTS_PER_WINDOW: Final = 600
WINDOW_SECONDS: Final = 300.0
DEFAULT_ITEMS_PER_PAGE: Final = 20
MAX_ITEMS_PER_PAGE: Final = 100

_JSON = {"Content-Type": "application/json"}
# The sub-resources below /company/{number}, with the names the 404 message uses for them.
_SUB_RESOURCES: Final = {
    "officers": "company officers",
    "persons-with-significant-control": "company persons with significant control",
    "persons-with-significant-control-statements": "company persons with significant control statements",
    "exemptions": "company exemptions",
}


class CompaniesHouseSandbox:
    """Company profiles, officers, PSC data and search over the recorded files and the directory."""

    provider = "companies_house"

    def __init__(
        self,
        directory: Directory,
        records: CompaniesHouseRecords | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        requests_per_window: int = REQUESTS_PER_WINDOW,
    ) -> None:
        self._records = records or load_companies_house_records(directory)
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]
        self._pacing = SlidingWindowLimit(requests_per_window, WINDOW_SECONDS, clock)
        self._by_resource = {
            "officers": self._records.officers,
            "persons-with-significant-control": self._records.psc,
            "persons-with-significant-control-statements": self._records.psc_statements,
            "exemptions": self._records.exemptions,
        }

    def routes(self) -> list[Route]:
        sub_resources = "|".join(_SUB_RESOURCES)
        return [
            Route("GET", r"/company/(?P<number>[^/]+)", self._paced(self._profile)),
            Route("GET", rf"/company/(?P<number>[^/]+)/(?P<resource>{sub_resources})", self._paced(self._sub_resource)),
            Route("GET", r"/search/companies", self._paced(self._search)),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        key = _basic_user(request)
        return key is not None and hmac.compare_digest(key.encode(), self._api_key.encode())

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        if kind in {FaultKind.THROTTLED, FaultKind.QUOTA_EXHAUSTED}:
            return _too_many_requests(plan.retry_after_seconds)
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse(401, self._records.unauthorized_body, _JSON)
        if kind is FaultKind.ERROR_IN_200:
            # Companies House sends no errors inside a 200, so this is its 401 body as a misbehaving proxy
            # would pass it on.
            return SandboxResponse(200, self._records.unauthorized_body, _JSON)
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"company_name": "", "company_number": "", "company_status": "active"})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), _JSON)
        status = {FaultKind.BAD_GATEWAY: 502, FaultKind.UNAVAILABLE: 503}.get(kind, 500)
        return SandboxResponse.json(
            status, {"error": "Service Unavailable" if status == 503 else "Internal Server Error", "type": "ch:service"}
        )

    def _paced(self, handler: Handler) -> Handler:
        def paced(request: SandboxRequest) -> SandboxResponse:
            wait = self._pacing.acquire(_basic_user(request) or "")
            if wait is not None:
                return _too_many_requests(wait)
            return handler(request)

        return paced

    def _profile(self, request: SandboxRequest) -> SandboxResponse:
        number = request.path_params["number"].upper()
        body = self._records.profiles.get(number)
        if body is None:
            return _not_found("company profile", number)
        return SandboxResponse(200, body, _JSON)

    def _sub_resource(self, request: SandboxRequest) -> SandboxResponse:
        number = request.path_params["number"].upper()
        resource = request.path_params["resource"]
        # NOTE: only recorded lists and the synthetic companies' officers exist, so a real company whose
        # list was not recorded gets a 404 here although the live API would return its list.
        body = self._by_resource[resource].get(number)
        if body is None:
            return _not_found(_SUB_RESOURCES[resource], number)
        return SandboxResponse(200, body, _JSON)

    def _search(self, request: SandboxRequest) -> SandboxResponse:
        query = request.query.get("q", "").strip()
        if not query:
            return _invalid_parameter("q", "query parameter 'q' is required; send the company name or number")
        page_size = _int_parameter(request, "items_per_page", DEFAULT_ITEMS_PER_PAGE)
        start = _int_parameter(request, "start_index", 0)
        if page_size is None or not 1 <= page_size <= MAX_ITEMS_PER_PAGE:
            return _invalid_parameter("items_per_page", f"items_per_page must be from 1 to {MAX_ITEMS_PER_PAGE}")
        if start is None or start < 0:
            return _invalid_parameter("start_index", "start_index must be a whole number from 0")
        recorded = self._records.recorded_searches.get((query.lower(), request.query.get("items_per_page", "")))
        if recorded is not None and start == 0:
            return SandboxResponse(200, recorded, _JSON)
        hits = _matching(self._records.search_items, query)
        payload = {
            "items": hits[start : start + page_size],
            "kind": "search#companies",
            "page_number": start // page_size + 1,
            "items_per_page": page_size,
            "total_results": len(hits),
            "start_index": start,
        }
        return SandboxResponse.json(200, payload)


def _matching(items: tuple[dict[str, Any], ...], query: str) -> list[dict[str, Any]]:
    """Return the items whose name contains every query word or whose number equals one, ignoring case.

    Names that start with the whole query come first.
    """
    words = query.casefold().split()
    folded = query.casefold()
    hits = [
        item
        for item in items
        if all(word in item["title"].casefold() or word == item["company_number"].casefold() for word in words)
    ]
    return sorted(hits, key=lambda item: (not item["title"].casefold().startswith(folded), item["title"]))


def _basic_user(request: SandboxRequest) -> str | None:
    """Return the user name of an HTTP Basic header with an empty password, or ``None``."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    return user if separator and not password and user else None


def _int_parameter(request: SandboxRequest, name: str, default: int) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    return int(text) if text.isdigit() else None


def _too_many_requests(retry_after: int) -> SandboxResponse:
    # NOTE: no real 429 body was recorded, so this one follows the shape of the recorded 401 body.
    return SandboxResponse.json(
        429, {"error": "Rate limit exceeded", "type": "ch:service"}, {"Retry-After": str(retry_after)}
    )


def _not_found(resource: str, number: str) -> SandboxResponse:
    """Build Companies House's 404 body: timestamp, message and request id, as in the recorded one."""
    now = datetime.now(UTC)
    request_id = base64.urlsafe_b64encode(
        hashlib.sha256(f"{resource}:{number}:{now.isoformat()}".encode()).digest()[:21]
    ).decode()
    payload = {
        "timestamp": f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond:06d}000",
        "message": f'404 NOT_FOUND "Resource not found for {resource} {number}"',
        "request_id": request_id,
    }
    return SandboxResponse.json(404, payload)


def _invalid_parameter(name: str, message: str) -> SandboxResponse:
    error = {"error": message, "location": name, "location_type": "request-parameter", "type": "ch:validation"}
    return SandboxResponse.json(400, {"errors": [error]})
