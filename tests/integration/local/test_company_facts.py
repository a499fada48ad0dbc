"""Company facts in the local stack over real HTTP: the company block of person results, and the company route."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cascade.bulk.csv_output import RESULT_COLUMNS
from infra.local.stack import LocalStack
from infra.sandbox.directory import SandboxPerson, default_directory

DIRECTORY = default_directory()
# A guard against a stuck job, never a speed check.
JOB_DEADLINE_SECONDS = 300


@pytest.fixture(autouse=True)
def _no_faults(local_stack: LocalStack) -> Iterator[None]:
    local_stack.sandbox.state.faults.reset()
    yield
    local_stack.sandbox.state.faults.reset()


def _person_at(legal_name: str) -> SandboxPerson:
    return next(person for person in DIRECTORY.people if person.company.legal_name == legal_name)


def _person_who_left(legal_name: str) -> SandboxPerson:
    return next(
        person
        for person in DIRECTORY.people
        if person.previous_company is not None and person.previous_company.legal_name == legal_name
    )


def _enrich_person(client: httpx.Client, person: SandboxPerson, company_name: str, country: str) -> dict[str, Any]:
    body = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "company_name": company_name,
        "country": country,
        "max_age_days": 0,
    }
    response = client.post("/v1/people/enrich", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _enrich_company(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/companies/enrich", json=body)
    assert response.status_code == 200, response.text
    match: dict[str, Any] = response.json()
    return match


def test_person_gets_registry_block(client: httpx.Client) -> None:
    person = _person_at("TESCO PLC")
    result = _enrich_person(client, person, "Tesco PLC", "GB")
    company = result["company"]
    assert company["name"] == "Tesco PLC"
    assert company["match"] == "resolved"
    registry = company["registry"]
    assert registry["identifiers"]["uk_company_number"] == "00445790"
    assert registry["identifiers"]["lei"] == "2138002P5RNKC5W2JZ46"
    assert registry["legal_name"]["value"] == "TESCO PLC"
    assert registry["status"]["value"] == "active"
    codes = registry["industry_codes"]["value"]
    assert codes
    assert all(code["description"] for code in codes)
    for fact in ("legal_name", "status", "industry_codes", "incorporation_date"):
        assert registry[fact]["source"] == "companies_house", fact
        assert registry[fact]["fetched_at"], fact
    assert result["stale"] is False
    assert result["stale_reason"] is None


def test_stored_result_keeps_company_block(client: httpx.Client) -> None:
    result = _enrich_person(client, _person_at("TESCO PLC"), "Tesco PLC", "GB")
    stored = client.get(f"/v1/enrichments/{result['id']}")
    assert stored.status_code == 200
    assert stored.json()["company"] == result["company"]


def test_dissolved_employer_marks_stale(client: httpx.Client) -> None:
    person = _person_who_left("INTAGLIO SYSTEMS LIMITED")
    result = _enrich_person(client, person, "Intaglio Systems Limited", "GB")
    assert result["company"]["match"] == "resolved"
    assert result["company"]["registry"]["status"]["value"] == "dissolved"
    assert result["stale"] is True
    assert "Companies House" in result["stale_reason"]
    assert "dissolved" in result["stale_reason"]


def test_registry_outage_person_still_served(client: httpx.Client, local_stack: LocalStack) -> None:
    for registry in ("companies_house", "gleif"):
        response = httpx.put(
            f"{local_stack.endpoints.sandbox_url}/__sandbox/faults/{registry}", json={"rates": {"unavailable": 1.0}}
        )
        assert response.status_code in {200, 204}, response.text
    # No other test looks Monzo up, so no cached result hides the outage.
    result = _enrich_person(client, _person_at("MONZO BANK LIMITED"), "Monzo Bank Ltd", "GB")
    assert result["company"]["match"] == "not_found"
    assert result["company"]["registry"] is None
    assert any("unavailable" in note for note in result["company"]["notes"])
    assert result["stale"] is False


def test_company_route_by_identifier(client: httpx.Client) -> None:
    match = _enrich_company(client, {"identifiers": {"uk_company_number": "445790"}})
    assert match["status"] == "resolved"
    assert match["company"]["identifiers"]["uk_company_number"] == "00445790"
    assert match["company"]["legal_name"]["value"] == "TESCO PLC"


def test_company_route_by_name_and_country(client: httpx.Client) -> None:
    match = _enrich_company(client, {"name": "TESCO P.L.C.", "country": "GB"})
    assert match["status"] == "resolved"
    assert match["company"]["identifiers"]["uk_company_number"] == "00445790"


def test_company_route_ambiguous_name(client: httpx.Client) -> None:
    match = _enrich_company(client, {"name": "Amazon"})
    assert match["status"] == "ambiguous"
    assert match["company"] is None
    assert len(match["candidates"]) >= 2
    for candidate in match["candidates"]:
        assert candidate["legal_name"]
        assert candidate["registry"]
        assert 0 <= candidate["score"] <= 1


def test_company_route_is_free(client: httpx.Client) -> None:
    month = client.get("/v1/usage", params={"month": "2026-12"}).json()
    _enrich_company(client, {"identifiers": {"lei": "2138002P5RNKC5W2JZ46"}})
    assert client.get("/v1/usage", params={"month": "2026-12"}).json() == month


def test_company_route_bad_lei_422(client: httpx.Client) -> None:
    response = client.post("/v1/companies/enrich", json={"identifiers": {"lei": "2138002P5RNKC5W2JZ47"}})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["identifiers.lei"]


def test_company_route_needs_key(anonymous: httpx.Client) -> None:
    response = anonymous.post("/v1/companies/enrich", json={"name": "Tesco", "country": "GB"})
    assert response.status_code == 401


def _wait_for_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while True:
        response = client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in {"completed", "failed", "canceled"}:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {JOB_DEADLINE_SECONDS} s"
        time.sleep(0.5)


def test_bulk_results_company_columns(client: httpx.Client) -> None:
    tesco = _person_at("TESCO PLC")
    invented = next(person for person in DIRECTORY.people if person.company.synthetic)
    header = ["First Name", "Last Name", "Company", "Country"]
    rows = [
        [tesco.first_name, tesco.last_name, "Tesco PLC", "GB"],
        [invented.first_name, invented.last_name, "Nowhere Trading Co", "GB"],
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([header, *rows])

    created = client.post("/v1/jobs", json={"waterfall": {"order": ["hunter"]}, "file_name": "companies.csv"})
    assert created.status_code == 201, created.text
    uploaded = httpx.put(created.json()["upload_url"], content=buffer.getvalue().encode(), timeout=60)
    assert uploaded.status_code == 200, uploaded.text
    job = _wait_for_job(client, created.json()["id"])
    assert job["status"] == "completed", job

    results = httpx.get(job["results_url"], timeout=60)
    table = list(csv.reader(io.StringIO(results.content.decode("utf-8-sig"), newline="")))
    columns = {name: len(header) + offset for offset, name in enumerate(RESULT_COLUMNS)}
    tesco_row, invented_row = table[1], table[2]
    assert tesco_row[columns["cascade_company_name"]] == "TESCO PLC"
    assert tesco_row[columns["cascade_company_registry_id"]] == "lei:2138002P5RNKC5W2JZ46"
    assert invented_row[columns["cascade_company_name"]] == "Nowhere Trading Co"
    assert invented_row[columns["cascade_company_registry_id"]] == ""
