"""ZeroBounce v2 as the sandbox serves it: ``GET /v2/validate`` and ``GET /v2/getcredits``.

Replies use ZeroBounce's field names and status vocabulary. The verdict for an address comes from
the directory's mailbox facts. Role, free-mail and disposable addresses get the sub-statuses
ZeroBounce uses for them. ZeroBounce puts account errors in an ``error`` key. The sandbox sends
them with HTTP 200, which is inferred, as are the exact messages.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cascade.normalise.emails import normalise_email
from infra.sandbox.directory import Directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import Route, SandboxRequest, SandboxResponse

_SANDBOX_CREDITS = 250_000

# Sub-statuses ZeroBounce returns when the mail server gives no verdict, spread over addresses by hash.
_UNKNOWN_SUB_STATUSES = ("mail_server_did_not_respond", "greylisted", "timeout_exceeded", "antispam_system")


class ZeroBounceSandbox:
    """The ZeroBounce validate API over the sandbox directory."""

    provider = "zerobounce"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/v2/validate", self._validate),
            Route("GET", r"/v2/getcredits", self._get_credits),
        ]

    def authenticate(self, request: SandboxRequest) -> bool:
        return request.query.get("api_key") == self._api_key

    def fault_response(self, kind: FaultKind, request: SandboxRequest, plan: FaultPlan) -> SandboxResponse:
        if kind is FaultKind.THROTTLED:
            # ZeroBounce documents no rate-limit headers, only the 429 itself.
            return SandboxResponse.json(
                429,
                {"error": "Too many requests. Slow down and retry after the block ends."},
                headers={"Retry-After": str(plan.retry_after_seconds)},
            )
        if kind is FaultKind.UNAUTHORIZED:
            return SandboxResponse.json(200, {"error": "Invalid API key"})
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return SandboxResponse.json(200, {"error": "Insufficient credits"})
        if kind is FaultKind.ERROR_IN_200:
            return SandboxResponse.json(200, {"error": "Invalid API Key or your account ran out of credits"})
        if kind is FaultKind.MALFORMED:
            address = request.query.get("email") or "someone@example.com"
            whole = json.dumps(_reply(address, "valid", "", free_email=False, mx=()))
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse.text(502, "error code: 502")
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse.text(503, "Service Unavailable", headers={"Retry-After": "30"})
        # SERVER_ERROR, and TIMEOUT should the server ever request a rendered reply.
        return SandboxResponse.json(500, {"Message": "An error has occurred."})

    def _validate(self, request: SandboxRequest) -> SandboxResponse:
        address = request.query.get("email", "").strip()
        if not address:
            return SandboxResponse.json(400, {"error": "Missing parameter: email"})
        # NOTE: ZeroBounce documents the ip_address parameter as expected even when empty. That it
        # rejects a request without it is inferred.
        if "ip_address" not in request.query:
            return SandboxResponse.json(400, {"error": "Missing parameter: ip_address"})
        status, sub_status = self._status(address)
        email = normalise_email(address)
        domain = address.rpartition("@")[2].lower()
        mx = self._directory.mx_hosts(domain) if domain else ()
        return SandboxResponse.json(200, _reply(address, status, sub_status, free_email=email.is_free_mail, mx=mx))

    def _get_credits(self, _request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse.json(200, {"Credits": str(_SANDBOX_CREDITS)})

    def _status(self, address: str) -> tuple[str, str]:
        """Return ZeroBounce's (status, sub_status) for what the directory records about ``address``."""
        email = normalise_email(address)
        if email.address is None:
            return "invalid", "failed_syntax_check"
        mailbox = self._directory.mailbox_status(address)
        if mailbox == "disposable":
            return "do_not_mail", "disposable"
        if mailbox == "catch_all":
            return ("do_not_mail", "role_based_catch_all") if email.is_role else ("catch-all", "")
        if mailbox == "valid":
            return ("do_not_mail", "role_based") if email.is_role else ("valid", "")
        if mailbox == "invalid":
            domain = address.rpartition("@")[2].lower()
            return "invalid", "mailbox_not_found" if self._directory.mx_hosts(domain) else "no_dns_entries"
        return "unknown", _UNKNOWN_SUB_STATUSES[_spread(address, len(_UNKNOWN_SUB_STATUSES))]


def _reply(address: str, status: str, sub_status: str, *, free_email: bool, mx: tuple[str, ...]) -> dict[str, Any]:
    account, _, domain = address.rpartition("@")
    processed_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return {
        "address": address,
        "status": status,
        "sub_status": sub_status,
        "free_email": free_email,
        "did_you_mean": None,
        "account": account,
        "domain": domain,
        "domain_age_days": str(1_000 + _spread(domain, 9_000)) if mx else None,
        # ZeroBounce sends mx_found as a string, unlike free_email.
        "mx_found": "true" if mx else "false",
        "mx_record": mx[0] if mx else None,
        "smtp_provider": None,
        "firstname": None,
        "lastname": None,
        "gender": None,
        "city": None,
        "region": None,
        "zipcode": None,
        "country": None,
        "processed_at": processed_at,
    }


def _spread(text: str, buckets: int) -> int:
    """Pick a stable bucket for ``text``, the same in every run (unlike ``hash``)."""
    digest = hashlib.sha256(text.lower().encode()).digest()
    return int.from_bytes(digest[:4], "big") % buckets
