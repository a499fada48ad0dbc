"""The shared registry exchange: status codes to errors, Retry-After, transport failures and bodies."""

from __future__ import annotations

import httpx
import pytest

from cascade.registries.errors import (
    RegistryAuthError,
    RegistryBadResponseError,
    RegistryError,
    RegistryNotFoundError,
    RegistryThrottledError,
    RegistryUnavailableError,
)
from cascade.registries.models import Registry
from cascade.registries.pacing import PaceLimit
from tests.unit.registries.support import recorded_client

BASE = "https://api.gleif.org/api/v1"


def _reply(status: int, content: bytes = b"{}", headers: dict[str, str] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers=headers or {})

    return handler  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, RegistryAuthError),
        (403, RegistryAuthError),
        (404, RegistryNotFoundError),
        (429, RegistryThrottledError),
        (408, RegistryUnavailableError),
        (500, RegistryUnavailableError),
        (503, RegistryUnavailableError),
        (400, RegistryBadResponseError),
        (302, RegistryBadResponseError),
    ],
)
def test_status_mapping(status: int, error: type[RegistryError]) -> None:
    client = recorded_client(Registry.GLEIF, BASE, _reply(status))
    with pytest.raises(error) as raised:
        client.get_json("/lei-records/x")
    assert raised.value.registry == "gleif"


def test_status_mapping_ignores_body_text() -> None:
    # A 200 whose body contains "Not Found" is still a success, because only the status code decides.
    client = recorded_client(Registry.GLEIF, BASE, _reply(200, b'{"error": "Not Found"}'))
    assert client.get_json("/lei-records") == {"error": "Not Found"}


def test_retry_after_holds_pacer() -> None:
    client = recorded_client(
        Registry.COMPANIES_HOUSE, BASE, _reply(429, headers={"Retry-After": "120"}), limit=PaceLimit(10, 10.0)
    )
    with pytest.raises(RegistryThrottledError) as raised:
        client.get_json("/company/00445790")
    assert raised.value.retry_after == 120.0
    # The hold makes the next call fail locally, without a request.
    with pytest.raises(RegistryThrottledError, match="rate limit reached locally"):
        client.get_json("/company/00445790", max_wait=1.0)


def test_throttled_without_retry_after() -> None:
    client = recorded_client(Registry.SEC_EDGAR, BASE, _reply(429))
    with pytest.raises(RegistryThrottledError) as raised:
        client.get_json("/files/company_tickers.json")
    assert raised.value.retry_after is None


def test_timeout_is_unavailable() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    client = recorded_client(Registry.BRREG, BASE, timeout)
    with pytest.raises(RegistryUnavailableError, match="timed out"):
        client.get_json("/enheter/923609016")


def test_connect_error_is_unavailable() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = recorded_client(Registry.BRREG, BASE, refused)
    with pytest.raises(RegistryUnavailableError, match="failed to connect"):
        client.get_json("/enheter/923609016")


def test_body_not_json() -> None:
    client = recorded_client(Registry.GLEIF, BASE, _reply(200, b"<html></html>"))
    with pytest.raises(RegistryBadResponseError, match="not JSON"):
        client.get_json("/lei-records")
