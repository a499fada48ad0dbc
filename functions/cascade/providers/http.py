"""One HTTP client per provider, and the status and header parsing that every adapter shares.

Each client has explicit connect and read timeouts and keeps its connections open for
reuse across invocations of the same execution environment. ``send`` makes exactly one
request: a failed call is reported, never retried here.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cascade.domain.models import AttemptOutcome
from cascade.providers.base import RateLimitState

USER_AGENT = "cascade-enrichment/0.1 (+https://github.com/cascade-enrichment)"


@dataclass(frozen=True, slots=True)
class HttpReply:
    """A completed exchange: the response, or the transport error that replaced it."""

    response: httpx.Response | None
    error: httpx.HTTPError | None
    latency_ms: int

    def json_body(self) -> Any | None:
        """Return the decoded JSON body, or ``None`` when there is no body or it is not JSON."""
        if self.response is None or not self.response.content:
            return None
        try:
            return json.loads(self.response.content)
        except (ValueError, UnicodeDecodeError):
            return None


class ProviderHttp:
    """A pooled ``httpx.Client`` for one provider's base URL."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=60.0),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool] | None = None,
        json_body: Any | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpReply:
        started = time.perf_counter()
        try:
            response = self._client.request(method, path, params=params, json=json_body, headers=headers, auth=auth)
            response.read()
        except httpx.HTTPError as exc:
            return HttpReply(None, exc, _elapsed_ms(started))
        return HttpReply(response, None, _elapsed_ms(started))

    def close(self) -> None:
        self._client.close()


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def transport_error_outcome(error: httpx.HTTPError) -> AttemptOutcome:
    """A timeout is reported as such; every other transport failure is transient."""
    if isinstance(error, httpx.TimeoutException):
        return AttemptOutcome.TIMEOUT
    return AttemptOutcome.TRANSIENT_ERROR


def status_outcome(status: int) -> AttemptOutcome | None:
    """Map an HTTP status to the outcome most vendors mean by it; ``None`` for 2xx.

    Adapters refine this with the body, for vendors that use a code differently (Hunter
    sends 403 for its rate limit, for example).
    """
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return AttemptOutcome.AUTH_ERROR
    if status == 402:
        return AttemptOutcome.QUOTA_EXHAUSTED
    if status == 404:
        return AttemptOutcome.NOT_FOUND
    if status == 429:
        return AttemptOutcome.THROTTLED
    if status in (408, 425) or status >= 500:
        return AttemptOutcome.TRANSIENT_ERROR
    return AttemptOutcome.BAD_RESPONSE


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` as delay seconds or an HTTP date; ``None`` when absent or unreadable."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or seconds < 0:  # a date in the past
        return 0.0
    return min(seconds, 3600.0)


def _first_int(headers: Mapping[str, str], names: tuple[str, ...]) -> int | None:
    for name in names:
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return int(float(raw.strip()))
        except ValueError:
            continue
    return None


def parse_rate_limit_headers(
    headers: Mapping[str, str],
    *,
    remaining: tuple[str, ...] = ("x-ratelimit-remaining", "ratelimit-remaining"),
    limit: tuple[str, ...] = ("x-ratelimit-limit", "ratelimit-limit"),
    reset: tuple[str, ...] = ("x-ratelimit-reset", "ratelimit-reset"),
) -> RateLimitState | None:
    """Read the vendor's remaining budget from the header names it uses; ``None`` when it sends none."""
    state = RateLimitState(
        remaining=_first_int(headers, remaining),
        limit=_first_int(headers, limit),
        reset_after_seconds=_first_int(headers, reset),
    )
    if state.remaining is None and state.limit is None and state.reset_after_seconds is None:
        return None
    return state
