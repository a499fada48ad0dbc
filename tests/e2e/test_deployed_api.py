"""Checks against a deployed stack: `make test-e2e` with CASCADE_E2E_API_URL and CASCADE_E2E_API_KEY set.

CASCADE_E2E_API_URL is the stack's ``ApiUrl`` output (the stage root, without ``/v1``); the key is one
made with ``cascade keys create``. ``make test`` deselects this tier.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; export it before running the e2e tier (see this module's docstring)")
    return value


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    base_url = _required("CASCADE_E2E_API_URL").rstrip("/")
    key = _required("CASCADE_E2E_API_KEY")
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=35) as client:
        yield client


def test_deployed_openapi_is_public() -> None:
    base_url = _required("CASCADE_E2E_API_URL").rstrip("/")
    reply = httpx.get(f"{base_url}/v1/openapi.json", timeout=10)
    assert reply.status_code == 200
    assert "/v1/people/enrich" in reply.json()["paths"]


def test_deployed_rejects_missing_key() -> None:
    base_url = _required("CASCADE_E2E_API_URL").rstrip("/")
    reply = httpx.post(f"{base_url}/v1/people/enrich", json={"linkedin_url": "linkedin.com/in/ada-quill"}, timeout=10)
    assert reply.status_code == 401
    assert reply.headers["content-type"].startswith("application/problem+json")


def test_deployed_invalid_input_is_422(api: httpx.Client) -> None:
    reply = api.post("/v1/people/enrich", json={"full_name": "Ada Quill"})
    assert reply.status_code == 422
    assert reply.json()["errors"]


def test_deployed_enrichment_round_trip(api: httpx.Client) -> None:
    reply = api.post("/v1/people/enrich", json={"full_name": "Ada Quill", "company_domain": "tesco.com"})
    assert reply.status_code in (200, 503), reply.text
    if reply.status_code == 200:
        result = reply.json()
        assert result["billing"]["amount"] == "0.00" or result["billing"]["billed"] is True
        stored = api.get(f"/v1/enrichments/{result['id']}")
        assert stored.status_code == 200
        assert stored.json()["id"] == result["id"]
