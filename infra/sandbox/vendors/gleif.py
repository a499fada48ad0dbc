"""The GLEIF LEI API as the sandbox serves it, under the prefix ``/gleif``.

Routes: ``GET /lei-records/{lei}``, its parent endpoints (``/direct-parent``, ``/ultimate-parent``, the
two ``-relationship`` and two ``-reporting-exception`` variants), ``/direct-children``, and the list
``GET /lei-records`` with ``filter[entity.legalName]``, ``filter[fulltext]``,
``filter[entity.registeredAs]``, ``filter[entity.jurisdiction]``, ``page[number]`` and ``page[size]``.
Replies are JSON:API documents (``application/vnd.api+json``), and an unknown LEI or a parent level
that the entity does not report gets ``{"errors": [{"status": "404", "title": "Not Found"}]}``.

Records keep GLEIF's absolute links, as the recorded ones do. Pagination links of the lists that the
sandbox builds point at the sandbox itself, so a client that follows ``links.next`` stays on loopback.
The API needs no key, and GLEIF documents no rate limit, so the sandbox enforces none.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlencode

from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.registry_records import GLEIF_PUBLISH_DATE, GLEIF_RELATIONS, GleifRecords, load_gleif_records
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

DEFAULT_PAGE_SIZE: Final = 15
MAX_PAGE_SIZE: Final = 200

_JSON_API = {"Content-Type": "application/vnd.api+json"}
_FILTERS: Final = (
    "filter[entity.legalName]",
    "filter[fulltext]",
    "filter[entity.registeredAs]",
    "filter[entity.jurisdiction]",
)
_PAGE_PARAMETERS: Final = ("page[number]", "page[size]")


class GleifSandbox:
    """LEI records, parent relationships and record search over the recorded files and the directory."""

    provider = "gleif"

    def __init__(self, directory: Directory, records: GleifRecords | None = None) -> None:
        self._records = records or load_gleif_records(directory)

    def routes(self) -> list[Route]:
        relations = "|".join(GLEIF_RELATIONS)
        return [
            Route("GET", r"/lei-records", self._list),
            Route("GET", r"/lei-records/(?P<lei>[^/]+)", self._record),
            Route("GET", rf"/lei-records/(?P<lei>[^/]+)/(?P<relation>{relations})", self._related),
            Route("GET", r"/lei-records/(?P<lei>[^/]+)/direct-children", self._children),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:  # noqa: ARG002
        return True

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        if kind in {FaultKind.THROTTLED, FaultKind.QUOTA_EXHAUSTED}:
            return _errors(429, "Too Many Requests", {"Retry-After": str(plan.retry_after_seconds)})
        if kind is FaultKind.UNAUTHORIZED:
            return _errors(401, "Unauthorized")
        if kind is FaultKind.ERROR_IN_200:
            # GLEIF sends no errors inside a 200, so this is its 500 body as a misbehaving proxy would pass it on.
            body = json.dumps({"errors": [{"status": "500", "title": "Internal Server Error"}]}).encode()
            return SandboxResponse(200, body, _JSON_API)
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"meta": {}, "data": {"type": "lei-records", "id": "", "attributes": {}}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), _JSON_API)
        status = {FaultKind.BAD_GATEWAY: 502, FaultKind.UNAVAILABLE: 503}.get(kind, 500)
        title = {502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Internal Server Error")
        return _errors(status, title)

    def _record(self, request: SandboxRequest) -> SandboxResponse:
        body = self._records.record_bodies.get(request.path_params["lei"].upper())
        return _errors(404, "Not Found") if body is None else SandboxResponse(200, body, _JSON_API)

    def _related(self, request: SandboxRequest) -> SandboxResponse:
        key = (request.path_params["lei"].upper(), request.path_params["relation"])
        body = self._records.related.get(key)
        return _errors(404, "Not Found") if body is None else SandboxResponse(200, body, _JSON_API)

    def _children(self, request: SandboxRequest) -> SandboxResponse:
        lei = request.path_params["lei"].upper()
        if lei not in self._records.record_bodies:
            return _errors(404, "Not Found")
        page = _page(request)
        if isinstance(page, SandboxResponse):
            return page
        recorded = self._records.recorded_children_pages.get(lei)
        if recorded is not None:
            if page == (1, DEFAULT_PAGE_SIZE):
                return SandboxResponse(200, recorded, _JSON_API)
            # NOTE: only page 1 (15 of 106 children) was recorded, so other pages and sizes are missing.
            return _errors(404, "Not Found")
        children = [self._records.resources[child] for child in self._records.children.get(lei, ())]
        return _paged(request, f"/lei-records/{lei}/direct-children", children, page, {})

    def _list(self, request: SandboxRequest) -> SandboxResponse:
        unknown = sorted(name for name in request.query if name not in _FILTERS + _PAGE_PARAMETERS)
        if unknown:
            return _errors(
                400, "Bad Request", detail=f"unsupported parameter {unknown[0]}; use one of {', '.join(_FILTERS)}"
            )
        page = _page(request)
        if isinstance(page, SandboxResponse):
            return page
        filters = {name: request.query[name] for name in _FILTERS if request.query.get(name)}
        recorded = self._records.recorded_lists.get(frozenset(filters.items()))
        if recorded is not None and page == (1, DEFAULT_PAGE_SIZE):
            return SandboxResponse(200, recorded, _JSON_API)
        resources = sorted(
            (resource for resource in self._records.resources.values() if _matches(resource, filters)),
            key=lambda resource: (resource["attributes"]["entity"]["legalName"]["name"].casefold(), resource["id"]),
        )
        return _paged(request, "/lei-records", resources, page, filters)


def _matches(resource: dict[str, Any], filters: dict[str, str]) -> bool:
    """Apply the list filters: names by case-insensitive substring or words, numbers without spaces."""
    entity = resource["attributes"]["entity"]
    legal_name = entity["legalName"]["name"].casefold()
    names = [legal_name, *(other["name"].casefold() for other in entity.get("otherNames", []))]
    registered_as = (entity.get("registeredAs") or "").replace(" ", "").casefold()
    for name, value in filters.items():
        folded = value.casefold().strip()
        if name == "filter[entity.legalName]" and folded not in legal_name:
            return False
        if name == "filter[fulltext]":
            searchable = " ".join([*names, registered_as, resource["id"].casefold()])
            if not all(word in searchable for word in folded.split()):
                return False
        if name == "filter[entity.registeredAs]" and folded.replace(" ", "") != registered_as:
            return False
        if name == "filter[entity.jurisdiction]" and folded != (entity.get("jurisdiction") or "").casefold():
            return False
    return True


def _page(request: SandboxRequest) -> tuple[int, int] | SandboxResponse:
    """Read page[number] and page[size], or return GLEIF's 400 for a value out of range."""
    number_text = request.query.get("page[number]", "1")
    size_text = request.query.get("page[size]", str(DEFAULT_PAGE_SIZE))
    if not number_text.isdigit() or int(number_text) < 1:
        return _errors(400, "Bad Request", detail=f"page[number] {number_text!r} must be a whole number from 1")
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
        return _errors(400, "Bad Request", detail=f"page[size] {size_text!r} must be from 1 to {MAX_PAGE_SIZE}")
    return int(number_text), int(size_text)


def _paged(
    request: SandboxRequest,
    path: str,
    resources: Sequence[dict[str, Any]],
    page: tuple[int, int],
    filters: dict[str, str],
) -> SandboxResponse:
    number, size = page
    total = len(resources)
    last_page = max(1, math.ceil(total / size))
    chunk = list(resources[(number - 1) * size : number * size])
    first_index = (number - 1) * size + 1
    base = f"http://{request.headers.get('host', '127.0.0.1')}/gleif{path}"

    def link(page_number: int) -> str:
        return f"{base}?{urlencode({**filters, 'page[number]': page_number, 'page[size]': size})}"

    links = {"first": link(1)}
    if number > 1:
        links["prev"] = link(min(number - 1, last_page))
    if number < last_page:
        links["next"] = link(number + 1)
    links["last"] = link(last_page)
    payload = {
        "meta": {
            "goldenCopy": {"publishDate": GLEIF_PUBLISH_DATE},
            "pagination": {
                "currentPage": number,
                "perPage": size,
                # NOTE: null from/to on an empty page is an assumption, because no empty list was recorded.
                "from": first_index if chunk else None,
                "to": first_index + len(chunk) - 1 if chunk else None,
                "total": total,
                "lastPage": last_page,
            },
        },
        "links": links,
        "data": chunk,
    }
    return SandboxResponse(200, json.dumps(payload).encode(), _JSON_API)


def _errors(
    status: int, title: str, headers: dict[str, str] | None = None, *, detail: str | None = None
) -> SandboxResponse:
    error: dict[str, str] = {"status": str(status), "title": title}
    if detail is not None:
        error["detail"] = detail
    return SandboxResponse(status, json.dumps({"errors": [error]}).encode(), {**_JSON_API, **(headers or {})})
