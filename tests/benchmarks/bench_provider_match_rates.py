"""Benchmark: per-provider match rates over real HTTP against the sandbox, and the waterfall's.

Every contact finder is asked, through its real adapter and the sandbox on loopback, for
the email and the phone of a fixed sample of directory people given by name and company
domain. A match is a returned value equal to the person's current email or phone, whatever
verdict the vendor attached (the waterfall verifies unproven emails itself). The waterfall
row counts a person as matched when any provider matched, which is the bound a cascade
over these providers reaches. Phones found only from a LinkedIn URL (LeadMagic, Findymail)
do not show here, because the sample gives no URL.
"""

from __future__ import annotations

from collections import Counter

from cascade.domain.models import (
    AttemptOutcome,
    NormalisedPerson,
    PersonEnrichmentRequest,
    RequestedField,
)
from cascade.normalise.person import normalise_person_request
from cascade.providers.credentials import StaticCredentials
from cascade.providers.registry import DEFAULT_ORDER, ProviderRegistry
from infra.sandbox.app import start_sandbox
from infra.sandbox.directory import SandboxPerson, default_directory
from infra.sandbox.keys import SANDBOX_CREDENTIALS

SAMPLE_EVERY = 6  # 400 of the 2,400 directory people


def _normalised(person: SandboxPerson) -> NormalisedPerson:
    request = PersonEnrichmentRequest(
        first_name=person.first_name,
        last_name=person.last_name,
        company_domain=person.company.domain,
        country=person.country,
        fields=["email", "phone"],
    )
    return normalise_person_request(request).person


def main() -> None:
    directory = default_directory()
    sample = directory.people[::SAMPLE_EVERY]
    sandbox = start_sandbox()
    registry = ProviderRegistry(
        StaticCredentials(SANDBOX_CREDENTIALS), connect_timeout=1.0, read_timeout=5.0, base_url=sandbox.url
    )
    email_hits: dict[str, set[str]] = {name: set() for name in DEFAULT_ORDER}
    phone_hits: dict[str, set[str]] = {name: set() for name in DEFAULT_ORDER}
    outcomes: Counter[str] = Counter()
    try:
        for person in sample:
            normalised = _normalised(person)
            for name in DEFAULT_ORDER:
                finder = registry.finder(name)
                if finder is None:
                    continue
                for field in (RequestedField.EMAIL, RequestedField.PHONE):
                    result = finder.find(normalised, frozenset({field}))
                    outcomes[f"{name} {result.outcome.value}"] += 1
                    if result.outcome is not AttemptOutcome.FOUND:
                        continue
                    if any(c.address.lower() == person.email for c in result.emails):
                        email_hits[name].add(person.id)
                    if person.phone_e164 and any(c.number == person.phone_e164 for c in result.phones):
                        phone_hits[name].add(person.id)
    finally:
        registry.close()
        sandbox.stop()

    total = len(sample)
    with_phone = sum(1 for person in sample if person.phone_e164)
    print(f"sample: {total} directory people by name and company domain ({with_phone} have a phone)")
    print(f"{'provider':<16}{'email match':>12}{'phone match':>12}")
    for name in DEFAULT_ORDER:
        print(f"{name:<16}{len(email_hits[name]) / total:>12.1%}{len(phone_hits[name]) / with_phone:>12.1%}")
    email_union = set().union(*email_hits.values())
    phone_union = set().union(*phone_hits.values())
    best_email = max(len(hits) for hits in email_hits.values())
    print(f"{'waterfall':<16}{len(email_union) / total:>12.1%}{len(phone_union) / with_phone:>12.1%}")
    print(f"waterfall email match rate is {len(email_union) / best_email:.2f}x the best single provider's")


if __name__ == "__main__":
    main()
