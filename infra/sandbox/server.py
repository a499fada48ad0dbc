"""The sandbox's HTTP server: one loopback port, each vendor mounted under ``/<provider>``.

An adapter's base URL in the sandbox is ``<sandbox url>/<provider>``, and the vendor's own
paths follow (``/hunter/v2/email-finder``). Control endpoints live under ``/__sandbox``:

- ``GET /__sandbox/health``: 200 once the server is up;
- ``GET /__sandbox/stats``: calls per provider and route;
- ``PUT /__sandbox/faults/<provider>``: a fault plan as JSON, such as
  ``{"latency_ms": [50, 200], "rates": {"throttled": 0.1}, "next": ["timeout"]}``;
- ``DELETE /__sandbox/faults`` or ``/__sandbox/faults/<provider>``: back to no faults.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from infra.sandbox.faults import FaultBoard, FaultKind, FaultPlan

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class SandboxRequest:
    method: str
    path: str  # the path below the provider prefix, such as "/v2/email-finder"
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    path_params: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """Decode the body as JSON; raise ``ValueError`` when it is not JSON."""
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> SandboxResponse:
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, json.dumps(payload).encode(), merged)

    @classmethod
    def text(cls, status: int, text: str, headers: Mapping[str, str] | None = None) -> SandboxResponse:
        merged = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        return cls(status, text.encode(), merged)


Handler = Callable[[SandboxRequest], SandboxResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # a regular expression for the whole path; named groups become path_params
    handler: Handler

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = re.fullmatch(self.pattern, path)
        return found.groupdict() if found else None


class VendorApi(Protocol):
    """The interface of a sandbox vendor module, as the server calls it."""

    provider: str

    def routes(self) -> list[Route]:
        """Return the vendor's endpoints, relative to its ``/<provider>`` prefix."""
        ...

    def authenticate(self, request: SandboxRequest) -> bool:
        """Check that the request carries the sandbox key the way the vendor expects it."""
        ...

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        """Build the vendor's own reply for ``kind`` (429 body and headers, 401 body, error inside a 200)."""
        ...


@dataclass
class SandboxState:
    vendors: dict[str, VendorApi]
    faults: FaultBoard
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, key: str) -> None:
        with self.lock:
            self.calls[key] += 1


class _RequestHandler(BaseHTTPRequestHandler):
    server: _SandboxHttpServer
    protocol_version = "HTTP/1.1"
    # The handler writes headers and body separately; without TCP_NODELAY each keep-alive reply waits
    # for the client's delayed acknowledgement (about 40 ms on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the stats endpoint counts calls instead."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError(f"body of {length} bytes is larger than the sandbox's {MAX_BODY_BYTES}")
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError as exc:
            self._write(SandboxResponse.json(413, {"error": str(exc)}))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        segments = parts.path.split("/", 2)
        prefix = segments[1] if len(segments) > 1 else ""
        rest = "/" + segments[2] if len(segments) > 2 else "/"
        if prefix == "__sandbox":
            self._write(_control(self.server.state, method, rest, body))
            return
        vendor = self.server.state.vendors.get(prefix)
        if vendor is None:
            self._write(SandboxResponse.json(404, {"error": f"no sandbox vendor is mounted at /{prefix}"}))
            return
        request = SandboxRequest(method, rest, query, headers, body)
        self._write_or_hold(_serve_vendor(self.server.state, vendor, request))

    def _write_or_hold(self, outcome: SandboxResponse | float) -> None:
        if isinstance(outcome, float):
            # A TIMEOUT fault: keep the connection open, then close it without sending a response.
            time.sleep(outcome)
            self.close_connection = True
            return
        self._write(outcome)

    def _write(self, response: SandboxResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)


def _serve_vendor(state: SandboxState, vendor: VendorApi, request: SandboxRequest) -> SandboxResponse | float:
    for route in vendor.routes():
        params = route.match(request.method, request.path)
        if params is None:
            continue
        state.count(f"{vendor.provider} {route.method} {route.pattern}")
        fault, latency = state.faults.draw(vendor.provider)
        if latency:
            time.sleep(latency)
        if fault is FaultKind.TIMEOUT:
            return state.faults.plan(vendor.provider).hold_seconds
        if fault is not None:
            return vendor.fault_response(fault, request, state.faults.plan(vendor.provider))
        if not vendor.authenticate(request):
            return vendor.fault_response(FaultKind.UNAUTHORIZED, request, state.faults.plan(vendor.provider))
        routed = SandboxRequest(request.method, request.path, request.query, request.headers, request.body, params)
        return route.handler(routed)
    return SandboxResponse.json(404, {"error": f"{vendor.provider} has no route {request.method} {request.path}"})


def _control(state: SandboxState, method: str, path: str, body: bytes) -> SandboxResponse:
    if method == "GET" and path == "/health":
        return SandboxResponse.json(200, {"status": "ok", "providers": sorted(state.vendors)})
    if method == "GET" and path == "/stats":
        with state.lock:
            return SandboxResponse.json(200, {"calls": dict(state.calls)})
    if method == "DELETE" and path == "/faults":
        state.faults.reset()
        return SandboxResponse(204)
    found = re.fullmatch(r"/faults/(?P<provider>[a-z0-9_]+)", path)
    if found is None or found["provider"] not in state.vendors:
        return SandboxResponse.json(404, {"error": f"unknown sandbox control path {method} {path}"})
    provider = found["provider"]
    if method == "DELETE":
        state.faults.reset(provider)
        return SandboxResponse(204)
    if method == "PUT":
        try:
            plan = fault_plan_from_json(json.loads(body or b"{}"))
            state.faults.configure(provider, plan)
        except (ValueError, TypeError, KeyError) as exc:
            return SandboxResponse.json(400, {"error": str(exc)})
        return SandboxResponse(204)
    return SandboxResponse.json(405, {"error": f"method {method} is not allowed on {path}"})


def fault_plan_from_json(payload: Mapping[str, Any]) -> FaultPlan:
    """Build a fault plan from the control API's JSON; unknown fault names are rejected."""
    low, high = payload.get("latency_ms", (0, 0))
    plan = FaultPlan(
        latency_ms=(float(low), float(high)),
        rates={FaultKind(name): float(rate) for name, rate in payload.get("rates", {}).items()},
        forced=deque(FaultKind(name) for name in payload.get("next", [])),
        retry_after_seconds=int(payload.get("retry_after_seconds", 1)),
        hold_seconds=float(payload.get("hold_seconds", 5.0)),
    )
    plan.validate()
    return plan


class _SandboxHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, _RequestHandler)
        self.state = state


@dataclass
class RunningSandbox:
    url: str
    state: SandboxState
    _server: _SandboxHttpServer
    _thread: threading.Thread

    def base_url(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(vendors: list[VendorApi], *, host: str = "127.0.0.1", port: int = 0, seed: int = 11) -> RunningSandbox:
    """Start the sandbox in a background thread; port 0 picks a free ephemeral port."""
    if host != "127.0.0.1":
        raise ValueError(f"the sandbox listens on loopback only, not on {host!r}")
    state = SandboxState(vendors={vendor.provider: vendor for vendor in vendors}, faults=FaultBoard(seed))
    server = _SandboxHttpServer((host, port), state)
    thread = threading.Thread(target=server.serve_forever, name="provider-sandbox", daemon=True)
    thread.start()
    bound_port = int(server.server_address[1])
    return RunningSandbox(f"http://{host}:{bound_port}", state, server, thread)


@contextmanager
def running(vendors: list[VendorApi], **kwargs: Any) -> Iterator[RunningSandbox]:
    sandbox = serve(vendors, **kwargs)
    try:
        yield sandbox
    finally:
        sandbox.stop()
