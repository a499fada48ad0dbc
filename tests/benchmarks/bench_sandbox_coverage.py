"""Benchmark: how much of the sandbox directory each contact finder covers, and the waterfall's bound.

Prints, for the default directory (seed 7, 2,400 people), the share of people whose email and phone each
provider can return, then the union over all providers: the most that a waterfall over every provider
can find. Coverage is a property of the seeded directory, so these figures change only when the slices
or the generator change. The generation time is measured on whatever machine runs the script.
Run with ``make bench`` or ``.venv/bin/python tests/benchmarks/bench_sandbox_coverage.py``.
"""

from __future__ import annotations

import time

from infra.sandbox.directory import DEFAULT_PEOPLE, DEFAULT_SEED, PROVIDERS, Directory, SandboxPerson


def _share(people: tuple[SandboxPerson, ...], covered: int) -> str:
    return f"{100 * covered / len(people):6.1f}%"


def _covered(directory: Directory, providers: tuple[str, ...], field: str) -> int:
    return sum(any(directory.knows(p, person, field) for p in providers) for person in directory.people)


def main() -> None:
    started = time.perf_counter()
    directory = Directory.generate(DEFAULT_SEED, DEFAULT_PEOPLE)
    elapsed = time.perf_counter() - started
    people = directory.people
    with_phone = sum(person.phone_e164 is not None for person in people)

    print(f"seed {directory.seed}: {len(people)} people, {len(directory.companies)} companies")
    print(f"generated in {elapsed * 1000:.0f} ms; {_share(people, with_phone).strip()} of people have a phone")
    print()
    print(f"{'provider':<18} {'email':>7} {'phone':>7}")
    email_shares: list[float] = []
    for provider in PROVIDERS:
        email = _covered(directory, (provider,), "email")
        phone = _covered(directory, (provider,), "phone")
        email_shares.append(email / len(people))
        print(f"{provider:<18} {_share(people, email)} {_share(people, phone)}")
    union_email = _covered(directory, PROVIDERS, "email")
    union_phone = _covered(directory, PROVIDERS, "phone")
    print(f"{'union (waterfall)':<18} {_share(people, union_email)} {_share(people, union_phone)}")
    gain = 100 * (union_email / len(people) - max(email_shares))
    print()
    print(f"waterfall email gain over the best single provider: {gain:.1f} percentage points")


if __name__ == "__main__":
    main()
