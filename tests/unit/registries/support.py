"""Recorded registry responses served through ``httpx.MockTransport``, routed by the registries' real hosts.

``RecordedRegistries`` responds as each registry does for the recorded companies. It returns the
recorded file for a known path, and the registry's own 401 or 404 body otherwise. Requests never leave the
process. Each handled request is kept in ``requests`` so tests can count them.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from cascade.providers.http import ProviderHttp
from cascade.registries.client import RegistryClient
from cascade.registries.models import Registry
from cascade.registries.pacing import PaceLimit, Pacer

DATA = Path(__file__).resolve().parents[3] / "infra" / "sandbox" / "data" / "registries"
CH_KEY = "unit-companies-house-key"
FETCHED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
# Generous limits, so that pacing never decides a test that is not about pacing.
UNPACED = PaceLimit(capacity=1000, refill_per_second=1000.0)


def load(relative: str) -> Any:
    return json.loads((DATA / relative).read_text("utf-8"))


def fixed_clock() -> datetime:
    return FETCHED_AT


@cache
def _gleif_records() -> dict[str, dict[str, Any]]:
    """Every LEI record in the recorded files, as the resource object of a single-record document."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted((DATA / "gleif").glob("*.json")):
        data = json.loads(path.read_text("utf-8"))["data"]
        for resource in data if isinstance(data, list) else [data]:
            if resource.get("type") == "lei-records":
                records.setdefault(resource["id"], resource)
    return records


def _json(status: int, body: Any, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": content_type})


class RecordedRegistries:
    """A MockTransport handler for SEC EDGAR, Companies House, GLEIF and Brønnøysund."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def count(self, host: str) -> int:
        return sum(1 for request in self.requests if request.url.host == host)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host, path = request.url.host, request.url.path
        if host in {"www.sec.gov", "data.sec.gov"}:
            return self._sec(request, path)
        if host == "api.company-information.service.gov.uk":
            return self._companies_house(request, path)
        if host == "api.gleif.org":
            return self._gleif(request, path.removeprefix("/api/v1"))
        if host == "data.brreg.no":
            return self._brreg(request, path.removeprefix("/enhetsregisteret/api"))
        raise AssertionError(f"unexpected host {host}")

    def _sec(self, request: httpx.Request, path: str) -> httpx.Response:
        if "@" not in request.headers.get("User-Agent", ""):
            return httpx.Response(403, content=b"<html>Undeclared Automated Tool</html>")
        if path == "/files/company_tickers.json":
            return httpx.Response(200, content=(DATA / "sec" / "company_tickers.json").read_bytes())
        file = DATA / "sec" / "submissions" / path.removeprefix("/submissions/")
        if path.startswith("/submissions/") and file.is_file():
            return httpx.Response(200, content=file.read_bytes())
        return httpx.Response(404, content=b"<Error><Code>NoSuchKey</Code></Error>")

    def _companies_house(self, request: httpx.Request, path: str) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"{CH_KEY}:".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _json(401, load("companies_house/error-401_invalid-authorization.json"))
        if path == "/search/companies":
            query = request.url.params.get("q", "").lower()
            name = "search-companies_q-tesco.json" if "tesco" in query else "search-companies_no-results.json"
            return _json(200, load(f"companies_house/{name}"))
        match = re.fullmatch(r"/company/([A-Z0-9]{8})(/[a-z-]+)?", path)
        if match is None:
            return _json(404, load("companies_house/error-404_company-profile-not-found.json"))
        number, resource = match.group(1), (match.group(2) or "").lstrip("/")
        prefix = {
            "": "company-profile",
            "officers": "officers",
            "exemptions": "exemptions",
            "persons-with-significant-control": "psc",
            "persons-with-significant-control-statements": "psc-statements",
        }.get(resource)
        files = sorted((DATA / "companies_house").glob(f"{prefix}_{number}*.json")) if prefix else []
        if not files:
            return _json(404, load("companies_house/error-404_company-profile-not-found.json"))
        return _json(200, json.loads(files[0].read_text("utf-8")))

    def _gleif(self, request: httpx.Request, path: str) -> httpx.Response:
        not_found = {"errors": [{"status": "404", "title": "Not Found"}]}
        jsonapi = "application/vnd.api+json"
        if path == "/lei-records":
            return _json(200, self._gleif_list(request), jsonapi)
        match = re.fullmatch(r"/lei-records/([A-Z0-9]{20})(/[a-z-]+)?", path)
        if match is None:
            return _json(404, not_found, jsonapi)
        lei, resource = match.group(1), (match.group(2) or "").lstrip("/")
        if not resource:
            record = _gleif_records().get(lei)
            if record is None:
                return _json(404, not_found, jsonapi)
            return _json(200, {"meta": {}, "data": record}, jsonapi)
        files = sorted((DATA / "gleif").glob(f"{resource}_{lei}*.json"))
        if not files:
            return _json(404, not_found, jsonapi)
        return _json(200, json.loads(files[0].read_text("utf-8")), jsonapi)

    @staticmethod
    def _gleif_list(request: httpx.Request) -> dict[str, Any]:
        params = request.url.params
        registered_as = params.get("filter[entity.registeredAs]")
        fulltext = (params.get("filter[fulltext]") or "").lower()
        jurisdiction = params.get("filter[entity.jurisdiction]")
        records = []
        for record in _gleif_records().values():
            entity = record["attributes"]["entity"]
            if registered_as is not None and entity["registeredAs"] != registered_as:
                continue
            if fulltext and fulltext not in entity["legalName"]["name"].lower():
                continue
            if jurisdiction and not entity["jurisdiction"].startswith(jurisdiction):
                continue
            records.append(record)
        pagination = {"currentPage": 1, "perPage": 15, "from": 1, "to": len(records), "total": len(records)}
        return {"meta": {"pagination": {**pagination, "lastPage": 1}}, "links": {}, "data": records}

    @staticmethod
    def _brreg(request: httpx.Request, path: str) -> httpx.Response:
        entities = [json.loads(file.read_text("utf-8")) for file in sorted((DATA / "brreg").glob("enhet_*.json"))]
        if path == "/enheter":
            name = (request.url.params.get("navn") or "").lower()
            hits = [entity for entity in entities if name and name in entity["navn"].lower()]
            page = {"size": 20, "totalElements": len(hits), "totalPages": 1 if hits else 0, "number": 0}
            body: dict[str, Any] = {"page": page}
            if hits:
                body["_embedded"] = {"enheter": hits}
            return _json(200, body)
        number = path.removeprefix("/enheter/")
        for entity in entities:
            if entity["organisasjonsnummer"] == number:
                return _json(200, entity)
        error = {
            "timestamp": "2026-12-01T09:30:00.000+00:00",
            "status": 404,
            "error": "Not Found",
            "message": f"Enhet med organisasjonsnummer {number} ble ikke funnet",
            "path": f"/enhetsregisteret/api/enheter/{number}",
        }
        return _json(404, error)


def recorded_client(registry: Registry, base_url: str, handler: Any, *, limit: PaceLimit = UNPACED) -> RegistryClient:
    """Build a registry client for ``base_url`` whose requests go to ``handler``."""
    http = ProviderHttp(base_url, connect_timeout=1.0, read_timeout=2.0, transport=httpx.MockTransport(handler))
    return RegistryClient(http, Pacer(registry, limit))
