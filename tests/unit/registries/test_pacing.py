"""Token-bucket pacing on an injected clock: nothing sleeps for real."""

from __future__ import annotations

import pytest

from cascade.registries.errors import RegistryThrottledError
from cascade.registries.models import Registry
from cascade.registries.pacing import DEFAULT_LIMITS, PaceLimit, Pacer, TokenBucket, per_second_limit


class FakeClock:
    """A monotonic clock that moves only when a test or the pacer's sleep moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_starts_full() -> None:
    clock = FakeClock()
    bucket = TokenBucket(PaceLimit(capacity=5, refill_per_second=5.0), clock=clock)
    assert [bucket.try_take() for _ in range(5)] == [0.0] * 5
    assert bucket.try_take() == pytest.approx(0.2)


def test_bucket_refills_over_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(PaceLimit(capacity=2, refill_per_second=2.0), clock=clock)
    bucket.try_take()
    bucket.try_take()
    clock.now += 0.25
    assert bucket.try_take() == pytest.approx(0.25)
    clock.now += 0.25
    assert bucket.try_take() == 0.0


def test_bucket_never_exceeds_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(PaceLimit(capacity=3, refill_per_second=1.0), clock=clock)
    clock.now += 3600
    assert [bucket.try_take() for _ in range(3)] == [0.0] * 3
    assert bucket.try_take() > 0


@pytest.mark.parametrize(
    ("registry", "window", "published"), [(Registry.SEC_EDGAR, 1.0, 10), (Registry.COMPANIES_HOUSE, 300.0, 600)]
)
def test_default_limits_respect_published(registry: Registry, window: float, published: int) -> None:
    """Take every token as soon as it exists for one window and count: never more than the published limit."""
    clock = FakeClock()
    bucket = TokenBucket(DEFAULT_LIMITS[registry], clock=clock)
    start = clock.now
    taken = 0
    while True:
        wait = bucket.try_take()
        if wait == 0.0:
            taken += 1
            continue
        if clock.now + wait > start + window:
            break
        clock.now += wait
    assert taken <= published
    assert taken >= published - 1


def _taken_in_one_second(limit: PaceLimit) -> int:
    clock = FakeClock()
    bucket = TokenBucket(limit, clock=clock)
    start, admitted = clock.now, 0
    while True:
        wait = bucket.try_take()
        if wait == 0.0:
            admitted += 1
            continue
        if clock.now + wait > start + 1.0:
            return admitted
        clock.now += wait


@pytest.mark.parametrize("rate", [1.0, 4.0, 50.0])
def test_per_second_limit_caps_each_second(rate: float) -> None:
    assert rate - 1 <= _taken_in_one_second(per_second_limit(rate)) <= max(rate, 1.0)


def test_unpublished_defaults_are_four_a_second() -> None:
    assert DEFAULT_LIMITS[Registry.GLEIF] == DEFAULT_LIMITS[Registry.BRREG] == PaceLimit(2.0, 2.0)


def test_per_second_limit_rejects_zero() -> None:
    with pytest.raises(ValueError, match="requests_per_second 0"):
        per_second_limit(0)


def test_hold_blocks_then_releases() -> None:
    clock = FakeClock()
    bucket = TokenBucket(PaceLimit(capacity=5, refill_per_second=5.0), clock=clock)
    bucket.hold(30)
    assert bucket.try_take() == pytest.approx(30)
    clock.now += 30
    assert bucket.try_take() > 0  # the bucket was emptied, so it refills from zero
    clock.now += 0.2
    assert bucket.try_take() == 0.0


def test_invalid_limit() -> None:
    with pytest.raises(ValueError, match="capacity of at least 1"):
        TokenBucket(PaceLimit(capacity=0, refill_per_second=1.0))


def test_pacer_sleeps_within_budget() -> None:
    clock = FakeClock()
    pacer = Pacer(
        Registry.GLEIF, PaceLimit(capacity=1, refill_per_second=4.0), max_wait=1.0, clock=clock, sleep=clock.sleep
    )
    pacer.acquire()
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(0.25)]


def test_pacer_raises_past_budget() -> None:
    clock = FakeClock()
    pacer = Pacer(Registry.SEC_EDGAR, PaceLimit(capacity=1, refill_per_second=0.5), clock=clock, sleep=clock.sleep)
    pacer.acquire()
    with pytest.raises(RegistryThrottledError) as raised:
        pacer.acquire(max_wait=1.0)
    assert raised.value.retry_after == pytest.approx(2.0)
    assert raised.value.registry == "sec_edgar"
    assert clock.sleeps == []


def test_pacer_zero_wait() -> None:
    clock = FakeClock()
    pacer = Pacer(Registry.BRREG, PaceLimit(capacity=1, refill_per_second=10.0), clock=clock, sleep=clock.sleep)
    pacer.acquire(max_wait=0)
    with pytest.raises(RegistryThrottledError):
        pacer.acquire(max_wait=0)
