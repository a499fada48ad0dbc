"""The registry over the whole sandbox: every provider is built, reached and answers."""

from __future__ import annotations

import pytest

from cascade.domain.models import AttemptOutcome, NormalisedPerson, RequestedField
from cascade.providers.base import ContactFinder, ProviderKind
from cascade.providers.credentials import StaticCredentials
from cascade.providers.registry import (
    DEFAULT_ORDER,
    Availability,
    ProviderRegistry,
    all_provider_infos,
    contact_finder_names,
)
from infra.sandbox.app import registry_apis, vendor_apis
from infra.sandbox.directory import default_directory
from infra.sandbox.keys import SANDBOX_CREDENTIALS


def test_registry_and_sandbox_list_same_vendors() -> None:
    http_providers = {info.name for info in all_provider_infos() if info.default_base_url}
    directory = default_directory()
    registries = {vendor.provider for vendor in registry_apis(directory)}
    sandbox_providers = {vendor.provider for vendor in vendor_apis(directory)} - registries
    assert http_providers == sandbox_providers
    # Companies House is the one government registry that needs a key.
    assert sandbox_providers == set(SANDBOX_CREDENTIALS) - {"companies_house"}


def test_default_order_covers_every_finder() -> None:
    assert set(DEFAULT_ORDER) == set(contact_finder_names())


def test_provider_without_credentials_never_built() -> None:
    registry = ProviderRegistry(StaticCredentials({}), connect_timeout=1, read_timeout=1, base_url="http://127.0.0.1:9")
    assert registry.availability("hunter") is Availability.NO_CREDENTIALS
    assert registry.finder("hunter") is None
    assert registry.availability("pattern") is Availability.NO_CREDENTIALS
    assert registry.finder("pattern") is None


def test_unknown_provider_named_in_error() -> None:
    registry = ProviderRegistry(StaticCredentials({}), connect_timeout=1, read_timeout=1)
    with pytest.raises(KeyError, match="unknown provider 'hunterr'"):
        registry.info("hunterr")


@pytest.mark.parametrize("name", DEFAULT_ORDER)
def test_every_finder_reaches_sandbox(sandbox_registry: ProviderRegistry, name: str) -> None:
    directory = default_directory()
    person = next(p for p in directory.people if directory.knows(name, p, "email")) if name != "pattern" else None
    if person is None:
        person = next(p for p in directory.people if p.email_status == "valid" and not p.company.catch_all)
    finder = sandbox_registry.finder(name)
    assert isinstance(finder, ContactFinder)
    normalised = NormalisedPerson(
        first_name=person.first_name,
        last_name=person.last_name,
        full_name=person.full_name,
        company_name=person.company.name,
        company_domain=person.company.domain,
        linkedin_url=f"https://www.linkedin.com/in/{person.linkedin_slug}",
        country=person.country,
        ascii_first=person.email.split("@")[0].split(".")[0] if name == "pattern" else "",
        ascii_last=person.email.split("@")[0].split(".")[-1] if name == "pattern" else "",
    )
    result = finder.find(normalised, frozenset({RequestedField.EMAIL}))
    assert result.outcome in (AttemptOutcome.FOUND, AttemptOutcome.NOT_FOUND), result.detail
    if name != "pattern":
        assert result.outcome is AttemptOutcome.FOUND, result.detail


def test_verifiers_and_validator_configured(sandbox_registry: ProviderRegistry) -> None:
    assert [verifier.info.name for verifier in sandbox_registry.verifiers()] == [
        "zerobounce",
        "neverbounce",
        "millionverifier",
    ]
    validator = sandbox_registry.phone_validator()
    assert validator is not None
    assert validator.info.kind is ProviderKind.PHONE_VALIDATOR
