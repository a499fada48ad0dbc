"""The HTTP exchange that every registry adapter shares: pacing, one request, and status mapping.

``RegistryClient.get_json`` takes a token from the registry's pacer, sends exactly one request
(adapters never retry), and maps the status code to the errors in ``cascade.registries.errors``.
A 429 with ``Retry-After`` also pauses the pacer for that long, so the next call in this process
fails fast instead of reaching the registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from cascade.providers.http import ProviderHttp, parse_retry_after
from cascade.registries.errors import (
    RegistryAuthError,
    RegistryBadResponseError,
    RegistryNotFoundError,
    RegistryThrottledError,
    RegistryUnavailableError,
)
from cascade.registries.pacing import Pacer

_HTTP_OK = 200
_HTTP_NOT_FOUND = 404
_HTTP_TOO_MANY = 429
_AUTH_STATUSES = frozenset({401, 403})
_TRANSIENT_STATUSES = frozenset({408, 425})
_FIRST_SERVER_ERROR = 500


class RegistryClient:
    """One registry's pooled HTTP client with its pacer."""

    def __init__(self, http: ProviderHttp, pacer: Pacer) -> None:
        self.http = http
        self.pacer = pacer
        self.registry = pacer.registry.value

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        max_wait: float | None = None,
    ) -> Any:
        """Send ``GET path`` and return the decoded JSON body of a 2xx response.

        Raises the ``RegistryError`` subclass for the status code, ``RegistryUnavailableError``
        for a timeout or connection failure, and ``RegistryBadResponseError`` for a body that is not JSON.
        """
        self.pacer.acquire(max_wait=max_wait)
        reply = self.http.send("GET", path, params=params, headers=headers, auth=auth)
        if reply.response is None:
            kind = "timed out" if isinstance(reply.error, httpx.TimeoutException) else "failed to connect"
            raise RegistryUnavailableError(self.registry, f"{self.registry} request {kind}; send it again later")
        response = reply.response
        self._raise_for_status(response, path)
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise RegistryBadResponseError(
                self.registry, f"{self.registry} returned HTTP {response.status_code} with a body that is not JSON"
            ) from None

    def _raise_for_status(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        if _HTTP_OK <= status < 300:
            return
        if status in _AUTH_STATUSES:
            raise RegistryAuthError(
                self.registry,
                f"{self.registry} rejected the credentials or User-Agent (HTTP {status}); check the configured key",
            )
        if status == _HTTP_NOT_FOUND:
            raise RegistryNotFoundError(self.registry, f"{self.registry} has no record at {path} (HTTP 404)")
        if status == _HTTP_TOO_MANY:
            retry_after = parse_retry_after(response.headers)
            if retry_after is not None:
                self.pacer.hold(retry_after)
            raise RegistryThrottledError(
                self.registry, f"{self.registry} throttled the request (HTTP 429)", retry_after=retry_after
            )
        if status in _TRANSIENT_STATUSES or status >= _FIRST_SERVER_ERROR:
            raise RegistryUnavailableError(
                self.registry, f"{self.registry} failed with HTTP {status}; send it again later"
            )
        raise RegistryBadResponseError(self.registry, f"{self.registry} returned unexpected HTTP {status} for {path}")

    def close(self) -> None:
        self.http.close()
