"""MillionVerifier API v3 as the sandbox serves it: ``GET /api/v3/`` and ``GET /api/v3/credits``.

Replies use MillionVerifier's field names and its result vocabulary with the matching result codes.
Account errors come back as HTTP 200 with the message in ``error`` and ``result`` "error". That
status is inferred, and the messages follow the names of the vendor's demo error keys. The verdict for an address
comes from the directory's mailbox facts.
"""

from __future__ import annotations

import json
import time
from typing import Any

from cascade.normalise.emails import normalise_email
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

_SANDBOX_CREDITS = 250_000

# Directory mailbox status -> (result, resultcode, quality).
_RESULTS: dict[str, tuple[str, int, str]] = {
    "valid": ("ok", 1, "good"),
    "catch_all": ("catch_all", 2, "risky"),
    "unknown": ("unknown", 3, "risky"),
    "disposable": ("disposable", 5, "bad"),
    "invalid": ("invalid", 6, "bad"),
}


class MillionVerifierSandbox:
    """The MillionVerifier real-time API over the sandbox directory."""

    provider = "millionverifier"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/api/v3/credits", self._credits),
            Route("GET", r"/api/v3/?", self._verify),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        return request.query.get("api") == self._api_key

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        address = request.query.get("email", "")
        if kind is FaultKind.THROTTLED:
            # MillionVerifier documents no rate limit, so the sandbox throttles the way most APIs do.
            return SandboxResponse.text(
                429, "Too Many Requests", headers={"Retry-After": str(plan.retry_after_seconds)}
            )
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.json(200, _error_reply(address, "Apikey not found", credits=0))
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(200, _error_reply(address, "Insufficient credits", credits=0))
        if kind is FaultKind.ERROR_IN_200:
            return SandboxResponse.json(200, _error_reply(address, "Internal error", credits=_SANDBOX_CREDITS))
        if kind is FaultKind.MALFORMED:
            whole = json.dumps(_reply("someone@example.com", "valid", role=False, free=False, execution_time=1))
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse.text(502, "<html><head><title>502 Bad Gateway</title></head></html>")
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse.text(
                503, "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"
            )
        return SandboxResponse.text(500, "<html><head><title>500 Internal Server Error</title></head></html>")

    def _verify(self, request: SandboxRequest) -> SandboxResponse:
        started = time.perf_counter()
        address = request.query.get("email", "").strip()
        if not address:
            return SandboxResponse.json(200, _error_reply("", "No email address", credits=_SANDBOX_CREDITS))
        email = normalise_email(address)
        mailbox = "invalid" if email.address is None else self._directory.mailbox_status(address)
        elapsed = max(1, round(time.perf_counter() - started))
        body = _reply(address, mailbox, role=email.is_role, free=email.is_free_mail, execution_time=elapsed)
        return SandboxResponse.json(200, body)

    def _credits(self, _request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json(
            200, {"credits": _SANDBOX_CREDITS, "bulk_credits": 0, "renewing_credits": 0, "plan": 0}
        )


def _reply(address: str, mailbox: str, *, role: bool, free: bool, execution_time: int) -> dict[str, Any]:
    result, code, quality = _RESULTS.get(mailbox, _RESULTS["unknown"])
    return {
        "email": address,
        "quality": quality,
        "result": result,
        "resultcode": code,
        # NOTE: the subresult vocabulary is not known from any vendor page, so the sandbox leaves it empty.
        "subresult": "",
        "free": free,
        "role": role,
        "didyoumean": "",
        "credits": _SANDBOX_CREDITS,
        "executiontime": execution_time,
        "error": "",
        "livemode": True,
    }


def _error_reply(address: str, message: str, *, credits: int) -> dict[str, Any]:
    return {
        "email": address,
        "quality": "",
        "result": "error",
        "resultcode": 4,
        "subresult": "",
        "free": False,
        "role": False,
        "didyoumean": "",
        "credits": credits,
        "executiontime": 0,
        "error": message,
        "livemode": True,
    }
