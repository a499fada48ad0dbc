"""Helpers that the provider integration tests share: sandbox clients and request persons built from the directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cascade.domain.models import NormalisedPerson
from cascade.providers.http import ProviderHttp
from infra.sandbox.directory import Directory, SandboxPerson
from infra.sandbox.server import RunningSandbox

# The timeout tests make the sandbox hold a request for 3 s, so the 2 s read timeout ends it as TIMEOUT.
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0


@contextmanager
def sandbox_http(sandbox: RunningSandbox, provider: str) -> Iterator[ProviderHttp]:
    """Open a client for ``provider``'s module on the sandbox, and close it afterwards."""
    client = ProviderHttp(
        sandbox.base_url(provider), connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS
    )
    try:
        yield client
    finally:
        client.close()


def first_person(directory: Directory, condition: Callable[[SandboxPerson], bool]) -> SandboxPerson:
    """Return the first directory person that meets ``condition``."""
    return next(person for person in directory.people if condition(person))


def normalised(person: SandboxPerson, *, name: bool = True, linkedin: bool = True) -> NormalisedPerson:
    """Build the request person from the directory person's name and company, LinkedIn URL and country."""
    return NormalisedPerson(
        first_name=person.first_name if name else None,
        last_name=person.last_name if name else None,
        full_name=person.full_name if name else None,
        company_name=person.company.name if name else None,
        company_domain=person.company.domain if name else None,
        linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}" if linkedin else None,
        country=person.country,
    )


def by_name(person: SandboxPerson) -> NormalisedPerson:
    """Build the request person for a search by name and company, without a LinkedIn URL."""
    return normalised(person, linkedin=False)


def current_record(directory: Directory, provider: str, person: SandboxPerson) -> bool:
    """Return whether ``provider``'s record of the person is current rather than stale."""
    return not directory.returns_stale(provider, person)


def has_current_email(directory: Directory, provider: str, person: SandboxPerson) -> bool:
    """Return whether ``provider`` has the person's email and its record is current."""
    return directory.knows(provider, person, "email") and current_record(directory, provider, person)
