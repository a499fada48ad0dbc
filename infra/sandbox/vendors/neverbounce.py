"""NeverBounce v4 as the sandbox serves it: ``GET``/``POST /v4/single/check`` (and the SDK's ``/v4.2/``).

The key and the other parameters are read from the query string, a form body or a JSON body, as
NeverBounce accepts them. API errors, including the throttle, come back as HTTP 200 with a
``status`` other than ``success``. The result for an address comes from the directory's mailbox facts.
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

_RESULTS = {
    "valid": "valid",
    "invalid": "invalid",
    "catch_all": "catchall",
    "disposable": "disposable",
    "unknown": "unknown",
}
_SANDBOX_CREDITS_REMAINING = 250_000


class NeverBounceSandbox:
    """The NeverBounce single check API over the sandbox directory."""

    provider = "neverbounce"

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._api_key = SANDBOX_CREDENTIALS[self.provider]["api_key"]

    def routes(self) -> list[Route]:
        path = r"/v4(?:\.2)?/single/check"
        return [Route("GET", path, self._single_check), Route("POST", path, self._single_check)]

    def authenticate(self, request: SandboxRequest) -> bool:
        return _parameters(request).get("key") == self._api_key

    def fault_response(
        self,
        kind: FaultKind,
        request: SandboxRequest,  # noqa: ARG002 - the VendorApi protocol fixes the signature
        plan: FaultPlan,  # noqa: ARG002 - NeverBounce sends no Retry-After to fill from the plan
    ) -> SandboxResponse:
        if kind is FaultKind.THROTTLED:
            # NeverBounce throttles with HTTP 200 and documents no Retry-After or rate headers.
            return _api_error(
                "throttle_triggered", "Too many requests in a short amount of time, please try again shortly."
            )
        if kind is FaultKind.UNAUTHORIZED:
            return _api_error(
                "auth_failure", "We were unable to authenticate your request. Check the API key and try again."
            )
        if kind is FaultKind.QUOTA_EXHAUSTED:
            # NOTE: NeverBounce documents no status for an account out of credits. That it sends general_failure
            # is inferred, and clients cannot tell it from any other general failure.
            return _api_error("general_failure", "Your account does not have enough credits to verify this email.")
        if kind is FaultKind.ERROR_IN_200:
            return _api_error("temp_unavail", "The API is temporarily unavailable, please try again shortly.")
        if kind is FaultKind.MALFORMED:
            whole = json.dumps({"status": "success", "result": "valid", "flags": ["has_dns"], "execution_time": 210})
            return SandboxResponse(200, whole[: len(whole) // 2].encode(), {"Content-Type": "application/json"})
        if kind is FaultKind.BAD_GATEWAY:
            return SandboxResponse.text(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        if kind is FaultKind.UNAVAILABLE:
            return SandboxResponse.text(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")
        return SandboxResponse.text(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")

    def _single_check(self, request: SandboxRequest) -> SandboxResponse:
        started = time.perf_counter()
        parameters = _parameters(request)
        address = str(parameters.get("email") or "").strip()
        if not address:
            return _api_error("general_failure", "Missing required parameter 'email'")
        result, flags = self._result(address)
        body: dict[str, Any] = {
            "status": "success",
            "result": result,
            "flags": flags,
            "suggested_correction": "",
        }
        if _is_on(parameters.get("address_info")):
            # NOTE: the address_info field names are inferred, because no vendor page that lists them was read.
            body["address_info"] = _address_info(address)
        if _is_on(parameters.get("credits_info")):
            # NOTE: the credits_info field names are inferred, because no vendor page that lists them was read.
            body["credits_info"] = {
                "paid_credits_used": 1,
                "free_credits_used": 0,
                "paid_credits_remaining": _SANDBOX_CREDITS_REMAINING,
                "free_credits_remaining": 0,
            }
        body["execution_time"] = round((time.perf_counter() - started) * 1000)
        return SandboxResponse.json(200, body)

    def _result(self, address: str) -> tuple[str, list[str]]:
        """Return NeverBounce's result and flags for what the directory records about ``address``."""
        email = normalise_email(address)
        if email.address is None:
            return "invalid", ["bad_syntax"]
        domain = (email.ascii_domain or "").lower()
        mailbox = self._directory.mailbox_status(address)
        flags: list[str] = []
        if self._directory.mx_hosts(domain):
            flags += ["has_dns", "has_dns_mx"]
        if mailbox in ("valid", "catch_all"):
            flags.append("smtp_connectable")
        if email.is_free_mail:
            flags.append("free_email_host")
        if email.is_role:
            flags.append("role_account")
        if mailbox == "disposable":
            flags.append("disposable_email")
        return _RESULTS.get(mailbox, "unknown"), flags


def _parameters(request: SandboxRequest) -> dict[str, Any]:
    """Merge the query string with a form or JSON body. A value in the body overrides the query string."""
    merged: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return merged
    if "json" in content_type:
        try:
            payload = request.json()
        except ValueError:
            return merged
        if isinstance(payload, dict):
            merged.update(payload)
    elif "form" in content_type:
        merged.update(request.form())
    return merged


def _is_on(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true")


def _address_info(address: str) -> dict[str, str]:
    local, _, host = address.rpartition("@")
    labels = host.lower().split(".")
    return {
        "original_email": address,
        "normalized_email": address.lower(),
        "addr": local,
        "alias": "",
        "host": host.lower(),
        "fqdn": host.lower(),
        "domain": labels[-2] if len(labels) > 1 else host.lower(),
        "subdomain": ".".join(labels[:-2]),
        "tld": labels[-1],
    }


def _api_error(status: str, message: str) -> SandboxResponse:
    return SandboxResponse.json(200, {"status": status, "message": message, "execution_time": 37})
