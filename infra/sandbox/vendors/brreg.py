"""Brønnøysund's Enhetsregisteret API as the sandbox serves it, under the prefix ``/brreg``.

Routes: ``GET /enheter/{organisasjonsnummer}`` and the search ``GET /enheter?navn=&size=&page=``, whose
reply is a HAL document (``_embedded.enheter``, ``_links``, ``page`` with a zero-based ``number``).
Recorded entities are served byte for byte, and every directory company with a Norwegian number and no
recorded entity gets a synthetic ``AS`` or ``ASA`` entity. Errors use the Spring Boot body that brreg
sends: ``timestamp``, ``status``, ``error``, ``message`` and ``path``. The API needs no key.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.registry_records import BrregRecords, load_brreg_records
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

DEFAULT_PAGE_SIZE: Final = 20
# Searches may not reach past the 10,000th hit (page * size). The cap is assumed from brreg's paging, not measured.
MAX_RESULT_WINDOW: Final = 10_000
# The path of the API on data.brreg.no, which error bodies echo.
_API_PATH: Final = "/enhetsregisteret/api"
_JSON = {"Content-Type": "application/json"}
_REASONS: Final = {
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class BrregSandbox:
    """Enhetsregisteret entities and name search over the recorded files and the directory."""

    provider = "brreg"

    def __init__(self, directory: Directory, records: BrregRecords | None = None) -> None:
        self._records = records or load_brreg_records(directory)

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/enheter", self._search),
            Route("GET", r"/enheter/(?P<number>[^/]+)", self._entity),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:  # noqa: ARG002
        return True

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        if kind in {FaultKind.THROTTLED, FaultKind.QUOTA_EXHAUSTED}:
            return _error(429, "Too many requests", request, {"Retry-After": str(plan.retry_after_seconds)})
        if kind is FaultKind.ERROR_IN_200:
            # brreg sends no errors inside a 200, so this is its 500 body as a misbehaving proxy would pass it on.
            body = _error(500, "Internal server error", request).body
            return SandboxResponse(200, body, _JSON)
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"organisasjonsnummer": "", "navn": "", "organisasjonsform": {}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), _JSON)
        if kind is FaultKind.UNAUTHORIZED:
            # brreg needs no key, so only a forced fault returns this 401.
            return _error(401, "Unauthorized", request)
        status = {FaultKind.BAD_GATEWAY: 502, FaultKind.UNAVAILABLE: 503}.get(kind, 500)
        return _error(status, _REASONS[status], request)

    def _entity(self, request: SandboxRequest) -> SandboxResponse:
        number = request.path_params["number"]
        body = self._records.bodies.get(number)
        if body is None:
            return _error(404, f"Enhet med organisasjonsnummer '{number}' ble ikke funnet", request)
        return SandboxResponse(200, body, _JSON)

    def _search(self, request: SandboxRequest) -> SandboxResponse:
        size_text = request.query.get("size") or str(DEFAULT_PAGE_SIZE)
        page_text = request.query.get("page") or "0"
        if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_RESULT_WINDOW:
            return _error(400, f"size {size_text!r} must be a whole number from 1 to {MAX_RESULT_WINDOW}", request)
        if not page_text.isdigit():
            return _error(400, f"page {page_text!r} must be a whole number from 0", request)
        size, page = int(size_text), int(page_text)
        if (page + 1) * size > MAX_RESULT_WINDOW:
            return _error(400, f"page * size must not exceed {MAX_RESULT_WINDOW}; narrow the search", request)
        hits = _matching(self._records.entities, request.query.get("navn", ""))
        total_pages = math.ceil(len(hits) / size)
        base = f"http://{request.headers.get('host', '127.0.0.1')}/brreg/enheter"
        navn = {"navn": request.query["navn"]} if request.query.get("navn") else {}

        def link(page_number: int) -> dict[str, str]:
            return {"href": f"{base}?{urlencode({**navn, 'page': page_number, 'size': size})}"}

        links = {"self": link(page)}
        if total_pages:
            links["first"] = link(0)
            if page > 0:
                links["prev"] = link(min(page - 1, total_pages - 1))
            if page + 1 < total_pages:
                links["next"] = link(page + 1)
            links["last"] = link(total_pages - 1)
        payload: dict[str, Any] = {}
        chunk = hits[page * size : (page + 1) * size]
        # Spring HATEOAS leaves out _embedded when a page has no entities.
        if chunk:
            payload["_embedded"] = {"enheter": chunk}
        payload["_links"] = links
        payload["page"] = {"size": size, "totalElements": len(hits), "totalPages": total_pages, "number": page}
        return SandboxResponse(200, json.dumps(payload, ensure_ascii=False).encode(), _JSON)


def _matching(entities: tuple[dict[str, Any], ...], navn: str) -> list[dict[str, Any]]:
    """Return the entities whose name contains every word of ``navn``, ignoring case.

    Names that start with the whole query come first.
    """
    words = navn.casefold().split()
    hits = [entity for entity in entities if all(word in entity["navn"].casefold() for word in words)]
    folded = navn.casefold().strip()
    return sorted(hits, key=lambda entity: (not entity["navn"].casefold().startswith(folded), entity["navn"]))


def _error(
    status: int, message: str, request: SandboxRequest, headers: dict[str, str] | None = None
) -> SandboxResponse:
    now = datetime.now(UTC)
    payload = {
        "timestamp": f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}+00:00",
        "status": status,
        "error": _REASONS.get(status, "Unauthorized"),
        "message": message,
        "path": f"{_API_PATH}{request.path}",
    }
    return SandboxResponse.json(status, payload, headers)
