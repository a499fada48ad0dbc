"""The sandbox server core over real HTTP, with a minimal vendor defined here."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.server import Route, RunningSandbox, SandboxRequest, SandboxResponse, running, serve


class _EchoVendor:
    """A vendor with one authenticated route; its error bodies name the fault."""

    provider = "echo"

    def routes(self) -> list[Route]:
        return [Route("GET", r"/v1/items/(?P<item>\w+)", self._item)]

    def authenticate(self, request: SandboxRequest) -> bool:
        return request.headers.get("x-key") == "good"

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        status = {FaultKind.THROTTLED: 429, FaultKind.UNAUTHORIZED: 401}.get(kind, 500)
        headers = {"Retry-After": str(plan.retry_after_seconds)} if kind is FaultKind.THROTTLED else {}
        return SandboxResponse.json(status, {"fault": kind.value}, headers)

    def _item(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json(200, {"item": request.path_params["item"], "q": request.query.get("q")})


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running([_EchoVendor()]) as started:
        yield started


@pytest.fixture(autouse=True)
def _no_faults(sandbox: RunningSandbox) -> None:
    sandbox.state.faults.reset()


def test_sandbox_listens_on_loopback(sandbox: RunningSandbox) -> None:
    assert sandbox.url.startswith("http://127.0.0.1:")


def test_sandbox_rejects_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback only"):
        serve([], host="0.0.0.0")  # noqa: S104 - the address under test


def test_sandbox_routes_under_provider_prefix(sandbox: RunningSandbox) -> None:
    reply = httpx.get(f"{sandbox.base_url('echo')}/v1/items/abc", params={"q": "x"}, headers={"x-key": "good"})
    assert reply.status_code == 200
    assert reply.json() == {"item": "abc", "q": "x"}


def test_sandbox_wrong_key_gets_vendor_401(sandbox: RunningSandbox) -> None:
    reply = httpx.get(f"{sandbox.base_url('echo')}/v1/items/abc", headers={"x-key": "bad"})
    assert reply.status_code == 401
    assert reply.json() == {"fault": "unauthorized"}


def test_sandbox_unknown_route_404(sandbox: RunningSandbox) -> None:
    assert httpx.get(f"{sandbox.url}/nobody/v1").status_code == 404
    assert httpx.get(f"{sandbox.base_url('echo')}/v9/other").status_code == 404


def test_sandbox_forced_fault_then_normal(sandbox: RunningSandbox) -> None:
    sandbox.state.faults.force("echo", FaultKind.THROTTLED)
    first = httpx.get(f"{sandbox.base_url('echo')}/v1/items/a", headers={"x-key": "good"})
    second = httpx.get(f"{sandbox.base_url('echo')}/v1/items/a", headers={"x-key": "good"})
    assert first.status_code == 429
    assert first.headers["retry-after"] == "1"
    assert second.status_code == 200


def test_sandbox_control_api_sets_faults(sandbox: RunningSandbox) -> None:
    put = httpx.put(f"{sandbox.url}/__sandbox/faults/echo", json={"next": ["server_error"], "retry_after_seconds": 7})
    assert put.status_code == 204
    assert httpx.get(f"{sandbox.base_url('echo')}/v1/items/a", headers={"x-key": "good"}).status_code == 500
    assert httpx.delete(f"{sandbox.url}/__sandbox/faults/echo").status_code == 204


def test_sandbox_control_api_rejects_bad_plan(sandbox: RunningSandbox) -> None:
    reply = httpx.put(f"{sandbox.url}/__sandbox/faults/echo", json={"rates": {"throttled": 0.8, "timeout": 0.5}})
    assert reply.status_code == 400
    assert "add up to at most 1" in reply.json()["error"]
    unknown = httpx.put(f"{sandbox.url}/__sandbox/faults/echo", json={"next": ["meteor"]})
    assert unknown.status_code == 400


def test_sandbox_timeout_fault_holds_then_drops(sandbox: RunningSandbox) -> None:
    sandbox.state.faults.configure("echo", FaultPlan(hold_seconds=0.6))
    sandbox.state.faults.force("echo", FaultKind.TIMEOUT)
    started = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{sandbox.base_url('echo')}/v1/items/a", headers={"x-key": "good"}, timeout=0.3)
    assert time.perf_counter() - started < 0.6


def test_sandbox_latency_applied(sandbox: RunningSandbox) -> None:
    sandbox.state.faults.configure("echo", FaultPlan(latency_ms=(150, 150)))
    started = time.perf_counter()
    httpx.get(f"{sandbox.base_url('echo')}/v1/items/a", headers={"x-key": "good"})
    assert time.perf_counter() - started >= 0.15


def test_sandbox_rates_deterministic_for_seed() -> None:
    outcomes: list[list[int]] = []
    for _ in range(2):
        with running([_EchoVendor()], seed=5) as sandbox:
            sandbox.state.faults.configure("echo", FaultPlan(rates={FaultKind.SERVER_ERROR: 0.5}))
            with httpx.Client(headers={"x-key": "good"}) as client:
                outcomes.append([client.get(f"{sandbox.base_url('echo')}/v1/items/a").status_code for _ in range(20)])
    assert outcomes[0] == outcomes[1]
    assert 500 in outcomes[0]
    assert 200 in outcomes[0]


def test_sandbox_stats_count_calls(sandbox: RunningSandbox) -> None:
    httpx.get(f"{sandbox.base_url('echo')}/v1/items/a", headers={"x-key": "good"})
    calls = httpx.get(f"{sandbox.url}/__sandbox/stats").json()["calls"]
    assert sum(count for key, count in calls.items() if key.startswith("echo GET")) >= 1
