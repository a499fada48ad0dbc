"""Helpers that the provider unit tests share: canned vendor replies served through ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import strategies as st

from cascade.providers.http import ProviderHttp

Handler = Callable[[httpx.Request], httpx.Response]

# Arbitrary JSON values, for checking that no reply makes the adapter raise.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
STATUSES = st.sampled_from([200, 400, 401, 402, 403, 404, 422, 429, 451, 500, 503])


class Vendor:
    """A MockTransport handler that records requests and returns one canned response.

    A ``bytes`` body is sent as it is, and any other body is sent as JSON.
    """

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._status = status
        self._body = body
        self._headers = headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self._body, bytes):
            return httpx.Response(self._status, content=self._body, headers=self._headers)
        return httpx.Response(self._status, json=self._body, headers=self._headers)


def raising(error: httpx.HTTPError) -> Handler:
    """Return a handler that fails every request with ``error``, as a broken connection would."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def mock_http(handler: Handler, base_url: str) -> ProviderHttp:
    """Build a client for ``base_url`` whose requests go to ``handler`` instead of the network."""
    return ProviderHttp(base_url, connect_timeout=1.0, read_timeout=2.0, transport=httpx.MockTransport(handler))
