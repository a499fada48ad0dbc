"""The registry adapters and the enricher against the provider sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import HttpUrl, SecretStr

from cascade.registries.errors import (
    RegistryAuthError,
    RegistryBadResponseError,
    RegistryNotFoundError,
    RegistryThrottledError,
    RegistryUnavailableError,
)
from cascade.registries.models import (
    CompanyIdentifiers,
    CompanyQuery,
    CompanyStatus,
    MatchStatus,
    ParentLevel,
    Registry,
)
from cascade.registries.pacing import PaceLimit
from cascade.registries.service import CompanyEnricher, build_company_enricher
from cascade.settings import Settings
from infra.sandbox.app import registry_apis
from infra.sandbox.directory import Directory, default_directory
from infra.sandbox.faults import FaultKind, FaultPlan
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox, running

# The sandbox enforces the SEC and Companies House limits itself; these tests are not about pacing.
FAST = PaceLimit(capacity=1000, refill_per_second=1000.0)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return default_directory()


@pytest.fixture(scope="module")
def sandbox(directory: Directory) -> Iterator[RunningSandbox]:
    with running(registry_apis(directory)) as started:
        yield started


def _enricher(sandbox: RunningSandbox, *, key: str | None = None) -> CompanyEnricher:
    api_key = key if key is not None else SANDBOX_CREDENTIALS["companies_house"]["api_key"]
    settings = Settings(
        sandbox_url=HttpUrl(sandbox.url),
        companies_house_api_key=SecretStr(api_key),
        company_cache_days=0,
        provider_connect_timeout_seconds=1.0,
        provider_read_timeout_seconds=3.0,
    )
    return build_company_enricher(settings, pace_limits=dict.fromkeys(Registry, FAST))


@pytest.fixture
def enricher(sandbox: RunningSandbox) -> Iterator[CompanyEnricher]:
    sandbox.state.faults.reset()
    built = _enricher(sandbox)
    yield built
    built.close()
    sandbox.state.faults.reset()


def test_sandbox_uk_number(enricher: CompanyEnricher) -> None:
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="445790")))
    company = match.company
    assert company is not None
    assert company.legal_name.value == "TESCO PLC"
    assert company.legal_name.source is Registry.COMPANIES_HOUSE
    assert company.identifiers.lei == "2138002P5RNKC5W2JZ46"
    assert company.status.value is CompanyStatus.ACTIVE


def test_sandbox_lei_parents(enricher: CompanyEnricher) -> None:
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(lei="549300YX4S1LLSMK2627")))
    company = match.company
    assert company is not None
    assert company.parents is not None
    levels = {link.level: link for link in company.parents.value}
    assert levels[ParentLevel.DIRECT].lei == "HWUPKR0MPOU8FGXBT394"
    assert levels[ParentLevel.DIRECT].legal_name == "Apple Inc."


def test_sandbox_sec_cik(enricher: CompanyEnricher) -> None:
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(sec_cik="CIK0001067983")))
    assert match.company is not None
    assert match.company.legal_name.value == "BERKSHIRE HATHAWAY INC"


def test_sandbox_brreg(enricher: CompanyEnricher) -> None:
    match = enricher.enrich(CompanyQuery(name="Equinor ASA", country="NO"))
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.identifiers.no_org_number == "923609016"


def test_sandbox_tesco_spellings(enricher: CompanyEnricher) -> None:
    for spelling in ("Tesco PLC", "TESCO P.L.C.", "Tesco public limited company"):
        match = enricher.enrich(CompanyQuery(name=spelling, country="GB"))
        assert match.status is MatchStatus.RESOLVED, spelling
        assert match.company is not None
        assert match.company.identifiers.uk_company_number == "00445790"


def test_sandbox_synthetic_companies(enricher: CompanyEnricher, directory: Directory) -> None:
    assert enricher.registries.sec is not None
    tickers = enricher.registries.sec.ticker_index()
    # A US company without a ticker is not in the SEC list that names are searched in.
    findable = [
        company
        for company in directory.companies
        if company.synthetic and (company.country != "US" or tickers.tickers_for(company.registry_ids["sec_cik"]))
    ]
    assert len(findable) > 30
    for company in findable:
        match = enricher.for_person(company.legal_name, company.domain, company.country)
        assert match.status is MatchStatus.RESOLVED, company.legal_name
        assert match.company is not None
        for name, value in company.registry_ids.items():
            assert getattr(match.company.identifiers, name) == value, company.legal_name


def test_sandbox_unlisted_us_company(enricher: CompanyEnricher) -> None:
    match = enricher.for_person("Pinecrest Dataworks, Inc.", "pinecrest-dataworks.io", "US")
    assert match.status is MatchStatus.NOT_FOUND


def test_sandbox_domain_only(enricher: CompanyEnricher) -> None:
    match = enricher.for_person(None, "farrowby-logistics.co.uk", None)
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.legal_name.value == "FARROWBY LOGISTICS LTD"


def test_sandbox_unknown_company(sandbox: RunningSandbox) -> None:
    built = _enricher(sandbox)
    assert built.registries.companies_house is not None
    with pytest.raises(RegistryNotFoundError):
        built.registries.companies_house.profile("99999998")


def test_sandbox_wrong_key(sandbox: RunningSandbox) -> None:
    built = _enricher(sandbox, key="not-the-sandbox-key")
    assert built.registries.companies_house is not None
    with pytest.raises(RegistryAuthError):
        built.registries.companies_house.profile("00445790")


def test_sandbox_throttled_holds_pacer(enricher: CompanyEnricher, sandbox: RunningSandbox) -> None:
    adapter = enricher.registries.companies_house
    assert adapter is not None
    sandbox.state.faults.configure("companies_house", FaultPlan(retry_after_seconds=60))
    sandbox.state.faults.force("companies_house", FaultKind.THROTTLED)
    with pytest.raises(RegistryThrottledError) as raised:
        adapter.profile("00445790")
    assert raised.value.retry_after == 60.0
    # The Retry-After hold rejects the next call locally, so the sandbox receives no second request.
    with pytest.raises(RegistryThrottledError, match="locally"):
        adapter.profile("00445790", max_wait=0.5)


def test_sandbox_outage_fails_soft(enricher: CompanyEnricher, sandbox: RunningSandbox) -> None:
    sandbox.state.faults.configure("brreg", FaultPlan(rates={FaultKind.UNAVAILABLE: 1.0}))
    match = enricher.for_person("Equinor ASA", "equinor.com", "NO")
    assert match.status is MatchStatus.NOT_FOUND
    assert "brreg" in match.notes[0]
    with pytest.raises(RegistryUnavailableError):
        enricher.enrich(CompanyQuery(name="Equinor ASA", country="NO"))


def test_sandbox_malformed_body(enricher: CompanyEnricher, sandbox: RunningSandbox) -> None:
    sandbox.state.faults.force("gleif", FaultKind.MALFORMED)
    adapter = enricher.registries.gleif
    assert adapter is not None
    with pytest.raises(RegistryBadResponseError):
        adapter.company("549300YX4S1LLSMK2627")
