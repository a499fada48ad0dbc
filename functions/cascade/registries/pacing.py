"""In-process request pacing per registry: a token bucket, and a hold after an HTTP 429.

A bucket that contains at most ``capacity`` tokens and gains ``refill_per_second`` admits at most
``capacity + refill_per_second * W`` requests in any window of ``W`` seconds. The limits below
are split between the two terms so that the sum equals the registry's published limit.

The pacer waits for a token only up to ``max_wait`` seconds and raises
``RegistryThrottledError`` otherwise, so a caller with a deadline is never held past it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cascade.registries.errors import RegistryThrottledError
from cascade.registries.models import Registry


@dataclass(frozen=True, slots=True)
class PaceLimit:
    """A bucket's size in requests and its refill rate in requests per second."""

    capacity: float
    refill_per_second: float


# SEC: at most 10 requests per second per user under SEC's EDGAR fair-access policy, which blocks
# excess traffic for about 10 minutes.
# 5 tokens plus 5 per second admit at most 10 in any second.
# Companies House: 600 requests per 5 minutes per key; 300 tokens plus 1 per second admit at most 600.
# NOTE: GLEIF and Brønnøysund document no rate limit that was found. 2 tokens plus 2 per second (at
# most 4 a second) is a polite default, not a published figure; settings can change it
# (``gleif_requests_per_second``, ``brreg_requests_per_second``).
UNPUBLISHED_DEFAULT_PER_SECOND = 4.0


def per_second_limit(requests_per_second: float) -> PaceLimit:
    """Return the bucket that admits at most ``requests_per_second`` in any one second.

    Half of them come from the burst, so the sustained rate is half of ``requests_per_second``.
    """
    if requests_per_second <= 0:
        raise ValueError(f"requests_per_second {requests_per_second!r} must be greater than 0")
    half = requests_per_second / 2
    return PaceLimit(capacity=max(1.0, half), refill_per_second=half)


DEFAULT_LIMITS: dict[Registry, PaceLimit] = {
    Registry.SEC_EDGAR: PaceLimit(capacity=5, refill_per_second=5.0),
    Registry.COMPANIES_HOUSE: PaceLimit(capacity=300, refill_per_second=1.0),
    Registry.GLEIF: per_second_limit(UNPUBLISHED_DEFAULT_PER_SECOND),
    Registry.BRREG: per_second_limit(UNPUBLISHED_DEFAULT_PER_SECOND),
}


_TOLERANCE = 1e-9


class TokenBucket:
    """A token bucket on an injected monotonic clock in seconds; it starts full. Safe across threads."""

    def __init__(self, limit: PaceLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit.capacity < 1 or limit.refill_per_second <= 0:
            raise ValueError(f"pace limit {limit} needs a capacity of at least 1 and a positive refill rate")
        self._limit = limit
        self._clock = clock
        self._tokens = float(limit.capacity)
        self._updated = clock()
        self._held_until = self._updated
        self._lock = threading.Lock()

    def try_take(self) -> float:
        """Take one token and return 0, or take nothing and return the seconds until one is available."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._held_until:
                return self._held_until - now
            # The tolerance absorbs float rounding, which could otherwise leave a wait too small to move the clock.
            if self._tokens >= 1 - _TOLERANCE:
                self._tokens = max(0.0, self._tokens - 1)
                return 0.0
            return (1 - self._tokens) / self._limit.refill_per_second

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds``, as a registry's ``Retry-After`` requests, and empty the bucket."""
        with self._lock:
            now = self._clock()
            self._held_until = max(self._held_until, now + max(seconds, 0.0))
            self._tokens = 0.0
            self._updated = now

    def _refill(self, now: float) -> None:
        # Nothing refills while a hold lasts, so the bucket starts empty when the hold ends.
        start = max(self._updated, self._held_until)
        if now > start:
            refilled = self._tokens + (now - start) * self._limit.refill_per_second
            self._tokens = min(float(self._limit.capacity), refilled)
        self._updated = max(self._updated, now)


class Pacer:
    """One registry's bucket, and the policy of waiting for a token up to ``max_wait`` seconds."""

    def __init__(
        self,
        registry: Registry,
        limit: PaceLimit | None = None,
        *,
        max_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.registry = registry
        self._bucket = TokenBucket(limit or DEFAULT_LIMITS[registry], clock=clock)
        self._max_wait = max_wait
        self._sleep = sleep

    def acquire(self, *, max_wait: float | None = None) -> None:
        """Take a token, sleeping up to ``max_wait`` seconds for it, or raise ``RegistryThrottledError``."""
        budget = self._max_wait if max_wait is None else max_wait
        waited = 0.0
        while True:
            wait = self._bucket.try_take()
            if wait == 0.0:
                return
            if waited + wait > budget:
                raise RegistryThrottledError(
                    self.registry.value,
                    f"{self.registry.value} request rate limit reached locally; send the request again in {wait:.1f} s",
                    retry_after=wait,
                )
            self._sleep(wait)
            waited += wait

    def hold(self, seconds: float) -> None:
        self._bucket.hold(seconds)
