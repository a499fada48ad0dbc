from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from cascade.domain.models import AttemptOutcome
from cascade.providers.http import (
    ProviderHttp,
    parse_rate_limit_headers,
    parse_retry_after,
    status_outcome,
    transport_error_outcome,
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (204, None),
        (400, AttemptOutcome.BAD_RESPONSE),
        (401, AttemptOutcome.AUTH_ERROR),
        (403, AttemptOutcome.AUTH_ERROR),
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (404, AttemptOutcome.NOT_FOUND),
        (408, AttemptOutcome.TRANSIENT_ERROR),
        (422, AttemptOutcome.BAD_RESPONSE),
        (429, AttemptOutcome.THROTTLED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (502, AttemptOutcome.TRANSIENT_ERROR),
        (503, AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_status_outcome(status: int, expected: AttemptOutcome | None) -> None:
    assert status_outcome(status) == expected


def test_transport_error_outcome_timeout() -> None:
    assert transport_error_outcome(httpx.ReadTimeout("slow")) is AttemptOutcome.TIMEOUT
    assert transport_error_outcome(httpx.ConnectError("refused")) is AttemptOutcome.TRANSIENT_ERROR


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("Fri, 04 Dec 2026 15:00:30 GMT", 30.0), ("99999", 3600.0)],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    now = datetime(2026, 12, 4, 15, 0, 0, tzinfo=UTC)
    assert parse_retry_after(httpx.Headers({"Retry-After": value}), now=now) == expected


def test_parse_retry_after_absent() -> None:
    assert parse_retry_after(httpx.Headers({})) is None


def test_parse_rate_limit_headers_reads_names() -> None:
    headers = httpx.Headers({"x-minute-requests-left": "12", "x-rate-limit-minute": "300"})
    state = parse_rate_limit_headers(headers, remaining=("x-minute-requests-left",), limit=("x-rate-limit-minute",))
    assert state is not None
    assert state.remaining == 12
    assert state.limit == 300


def test_parse_rate_limit_headers_none_when_absent() -> None:
    assert parse_rate_limit_headers(httpx.Headers({"content-type": "application/json"})) is None


def test_provider_http_one_request_no_retry() -> None:
    calls: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"error": "down"})

    http = ProviderHttp(
        "https://vendor.example", connect_timeout=1, read_timeout=2, transport=httpx.MockTransport(respond)
    )
    reply = http.send("GET", "/v1/find", params={"q": "x"})
    assert len(calls) == 1
    assert reply.response is not None
    assert reply.response.status_code == 503
    assert reply.json_body() == {"error": "down"}


def test_provider_http_transport_error_returned() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = ProviderHttp(
        "https://vendor.example", connect_timeout=1, read_timeout=2, transport=httpx.MockTransport(fail)
    )
    reply = http.send("GET", "/v1/find")
    assert reply.response is None
    assert isinstance(reply.error, httpx.ConnectError)


def test_provider_http_malformed_json_is_none() -> None:
    http = ProviderHttp(
        "https://vendor.example",
        connect_timeout=1,
        read_timeout=2,
        transport=httpx.MockTransport(lambda _request: httpx.Response(200, content=b'{"email": "a@')),
    )
    assert http.send("GET", "/").json_body() is None


def test_provider_http_sets_timeouts() -> None:
    seen: dict[str, object] = {}

    def respond(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return httpx.Response(200, json={})

    ProviderHttp(
        "https://vendor.example", connect_timeout=1.5, read_timeout=4, transport=httpx.MockTransport(respond)
    ).send("GET", "/")
    assert seen["connect"] == 1.5
    assert seen["read"] == 4
