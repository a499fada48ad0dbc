"""SEC EDGAR as the sandbox serves it, under the prefix ``/sec_edgar``.

- ``GET /files/company_tickers.json`` (real host www.sec.gov): the recorded list, byte for byte, with
  the directory's listed synthetic filers appended as further rows;
- ``GET /submissions/CIK##########.json`` (real host data.sec.gov): the recorded submissions, and
  synthetic ones for the directory's synthetic CIKs.

SEC requires every automated client to declare itself in the User-Agent with a contact address, so a
request without an ``x@y.z`` address in it gets the 403 "Undeclared Automated Tool" page. An unknown
CIK gets the S3-style ``NoSuchKey`` XML 404 that data.sec.gov sends.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Final

from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.rate_limit import SlidingWindowLimit
from infra.sandbox.registry_records import SecRecords, load_sec_records
from infra.sandbox.server import Handler, Route, SandboxRequest, SandboxResponse

# NOTE: SEC's fair-access policy allows at most 10 requests per second per client and blocks an address
# that exceeds it for about 10 minutes with a 403 page. The sandbox sends a 429 with
# Retry-After instead and blocks nothing, so that callers exercise their throttling path.
REQUESTS_PER_SECOND: Final = 10

_CONTACT = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HTML = {"Content-Type": "text/html"}
_UNDECLARED_TOOL_HTML: Final = (
    "<!DOCTYPE html>\n<html><head><title>SEC.gov | Request Rate Threshold Exceeded</title></head>\n<body>\n"
    "<h1>Your Request Originates from an Undeclared Automated Tool</h1>\n"
    "<p>To allow for equitable access to all users, SEC reserves the right to limit requests originating "
    "from undeclared automated tools. Your request has been identified as part of a network of automated "
    "tools outside of the acceptable policy and will be managed until action is taken to declare your "
    "traffic.</p>\n<p>Please declare your traffic by updating your user agent to include company specific "
    "information.</p>\n</body></html>\n"
)
_RATE_EXCEEDED_HTML: Final = (
    "<!DOCTYPE html>\n<html><head><title>SEC.gov | Request Rate Threshold Exceeded</title></head>\n<body>\n"
    "<h1>Request Rate Threshold Exceeded</h1>\n<p>Current max request rate is 10 requests per second.</p>\n"
    "</body></html>\n"
)
_NO_SUCH_KEY_XML: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    "<Message>The specified key does not exist.</Message><Key>{key}</Key></Error>"
)


class SecEdgarSandbox:
    """EDGAR's company ticker list and submissions API over the recorded files and the directory."""

    provider = "sec_edgar"

    def __init__(
        self,
        directory: Directory,
        records: SecRecords | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._records = records or load_sec_records(directory)
        self._pacing = SlidingWindowLimit(REQUESTS_PER_SECOND, 1.0, clock)

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/files/company_tickers\.json", self._paced(self._tickers)),
            Route("GET", r"/submissions/(?P<name>[^/]+)", self._paced(self._submissions)),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        return _CONTACT.search(request.headers.get("user-agent", "")) is not None

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:  # noqa: ARG002
        if kind in {FaultKind.THROTTLED, FaultKind.QUOTA_EXHAUSTED}:
            headers = {**_HTML, "Retry-After": str(plan.retry_after_seconds)}
            return SandboxResponse(429, _RATE_EXCEEDED_HTML.encode(), headers)
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse(403, _UNDECLARED_TOOL_HTML.encode(), _HTML)
        if kind is FaultKind.ERROR_IN_200:
            # EDGAR sends no errors inside a 200, so this is its block page as a misbehaving proxy would pass it on.
            return SandboxResponse(200, _UNDECLARED_TOOL_HTML.encode(), _HTML)
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"cik": "0000000000", "name": "", "filings": {"recent": {}}})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        status = {FaultKind.BAD_GATEWAY: 502, FaultKind.UNAVAILABLE: 503}.get(kind, 500)
        page = f"<html><body><h1>{status} Error</h1><p>The server could not process the request.</p></body></html>\n"
        return SandboxResponse(status, page.encode(), _HTML)

    def _paced(self, handler: Handler) -> Handler:
        def paced(request: SandboxRequest) -> SandboxResponse:
            # SEC counts per client address, and every sandbox client shares the loopback address.
            wait = self._pacing.acquire()
            if wait is not None:
                return SandboxResponse(429, _RATE_EXCEEDED_HTML.encode(), {**_HTML, "Retry-After": str(wait)})
            return handler(request)

        return paced

    def _tickers(self, request: SandboxRequest) -> SandboxResponse:  # noqa: ARG002
        return SandboxResponse(200, self._records.tickers_body, {"Content-Type": "application/json"})

    def _submissions(self, request: SandboxRequest) -> SandboxResponse:
        name = request.path_params["name"]
        found = re.fullmatch(r"CIK(?P<cik>\d{10})\.json", name)
        body = self._records.submissions.get(found["cik"]) if found else None
        if body is None:
            xml = _NO_SUCH_KEY_XML.format(key=f"submissions/{name}")
            return SandboxResponse(404, xml.encode(), {"Content-Type": "application/xml"})
        return SandboxResponse(200, body, {"Content-Type": "application/json"})
