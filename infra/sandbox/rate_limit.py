"""Sliding-window request limits for sandbox vendors whose real API throttles by request count."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindowLimit:
    """Allow at most ``limit`` requests per key in any window of ``window_seconds``.

    ``clock`` returns seconds; tests pass a fake clock so that no assertion depends on timing.
    """

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError(f"limit {limit} and window {window_seconds}s must both be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._calls: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def acquire(self, key: str = "") -> int | None:
        """Count one request for ``key``. Return ``None`` when it is allowed, else the whole seconds to wait."""
        now = self._clock()
        with self._lock:
            calls = self._calls[key]
            while calls and calls[0] <= now - self.window_seconds:
                calls.popleft()
            if len(calls) >= self.limit:
                return max(1, math.ceil(calls[0] + self.window_seconds - now))
            calls.append(now)
            return None
