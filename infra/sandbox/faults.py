"""Per-provider fault and latency switches of the sandbox.

Faults are drawn from a seeded random generator, so a run with the same seed and the same
request order injects the same faults. ``force`` queues exact faults for the next calls,
which is what tests use when they need one particular failure.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    THROTTLED = "throttled"  # HTTP 429 with Retry-After
    SERVER_ERROR = "server_error"  # HTTP 500
    BAD_GATEWAY = "bad_gateway"  # HTTP 502
    UNAVAILABLE = "unavailable"  # HTTP 503
    TIMEOUT = "timeout"  # the connection stays open and no response is sent
    MALFORMED = "malformed"  # HTTP 200 with a body that is not valid JSON
    ERROR_IN_200 = "error_in_200"  # HTTP 200 with the vendor's own error body
    UNAUTHORIZED = "unauthorized"  # HTTP 401 in the vendor's shape
    QUOTA_EXHAUSTED = "quota_exhausted"  # the vendor's out-of-credits reply


@dataclass
class FaultPlan:
    """One provider's fault settings: a latency range, fault rates, and the faults forced next."""

    latency_ms: tuple[float, float] = (0.0, 0.0)
    rates: dict[FaultKind, float] = field(default_factory=dict)
    forced: deque[FaultKind] = field(default_factory=deque)
    retry_after_seconds: int = 1
    # Seconds a TIMEOUT fault keeps the connection open before closing it without a response.
    hold_seconds: float = 5.0

    def validate(self) -> None:
        low, high = self.latency_ms
        if not 0 <= low <= high <= 60_000:
            raise ValueError(f"latency_ms {self.latency_ms} must be [low, high] with 0 <= low <= high <= 60000")
        total = sum(self.rates.values())
        if any(rate < 0 for rate in self.rates.values()) or total > 1:
            raise ValueError(f"fault rates {dict(self.rates)} must be non-negative and add up to at most 1")


class FaultBoard:
    """The fault plans of every provider, safe to read and change from server threads."""

    def __init__(self, seed: int = 11) -> None:
        self._plans: dict[str, FaultPlan] = {}
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._lock = threading.Lock()

    def plan(self, provider: str) -> FaultPlan:
        with self._lock:
            return self._plans.setdefault(provider, FaultPlan())

    def configure(self, provider: str, plan: FaultPlan) -> None:
        plan.validate()
        with self._lock:
            self._plans[provider] = plan

    def force(self, provider: str, *faults: FaultKind) -> None:
        with self._lock:
            self._plans.setdefault(provider, FaultPlan()).forced.extend(faults)

    def reset(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self._plans.clear()
            else:
                self._plans.pop(provider, None)

    def draw(self, provider: str) -> tuple[FaultKind | None, float]:
        """Pick the fault (or none) and the latency in seconds for the next call to ``provider``."""
        with self._lock:
            plan = self._plans.setdefault(provider, FaultPlan())
            low, high = plan.latency_ms
            latency = self._random.uniform(low, high) / 1000 if high > 0 else 0.0
            if plan.forced:
                return plan.forced.popleft(), latency
            roll = self._random.random()
            for kind, rate in plan.rates.items():
                if roll < rate:
                    return kind, latency
                roll -= rate
            return None, latency
