"""The enricher without AWS: building from settings, fail-soft person lookups and cache keys."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from cascade.registries.errors import RegistryUnavailableError
from cascade.registries.models import CompanyIdentifiers, CompanyQuery, MatchStatus
from cascade.registries.service import CompanyEnricher, build_company_enricher, normalised_query
from cascade.settings import Settings
from tests.unit.registries.support import CH_KEY, RecordedRegistries, fixed_clock


def _settings(**values: object) -> Settings:
    # A cache lifetime of 0 days keeps the enricher away from DynamoDB.
    return Settings(company_cache_days=0, **values)  # type: ignore[arg-type]


def _enricher(handler: object, **values: object) -> CompanyEnricher:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return build_company_enricher(_settings(**values), transport=transport, clock=fixed_clock)


def test_build_skips_companies_house_without_key() -> None:
    enricher = _enricher(RecordedRegistries())
    assert enricher.registries.companies_house is None
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(lei="INR2EJN1ERAN0W5ZP974")))
    assert match.status is MatchStatus.RESOLVED
    assert any("CASCADE_COMPANIES_HOUSE_API_KEY" in note for note in match.notes)


def test_build_uses_settings_key() -> None:
    handler = RecordedRegistries()
    enricher = _enricher(handler, companies_house_api_key=SecretStr(CH_KEY))
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="00445790")))
    assert match.company is not None
    assert match.company.legal_name.value == "TESCO PLC"
    assert not any("skipped" in note for note in match.notes)


def test_build_reads_credentials_json() -> None:
    document = f'{{"companies_house": {{"api_key": "{CH_KEY}"}}}}'
    enricher = _enricher(RecordedRegistries(), provider_credentials_json=SecretStr(document))
    assert enricher.registries.companies_house is not None


def test_build_sandbox_prefixes() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found"}]})

    enricher = _enricher(handler, sandbox_url="http://127.0.0.1:9/")
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(lei="INR2EJN1ERAN0W5ZP974", sec_cik="789019")))
    assert match.status is MatchStatus.NOT_FOUND
    assert seen == [
        "http://127.0.0.1:9/gleif/lei-records/INR2EJN1ERAN0W5ZP974",
        "http://127.0.0.1:9/sec_edgar/submissions/CIK0000789019.json",
    ]


def test_build_skips_sec_without_contact() -> None:
    enricher = _enricher(RecordedRegistries(), sec_user_agent="Cascade")
    assert enricher.registries.sec is None
    match = enricher.enrich(CompanyQuery(identifiers=CompanyIdentifiers(lei="INR2EJN1ERAN0W5ZP974")))
    assert any("SEC EDGAR was skipped" in note for note in match.notes)


def _unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503)


def test_enrich_raises_when_registries_fail() -> None:
    with pytest.raises(RegistryUnavailableError):
        _enricher(_unavailable).enrich(CompanyQuery(name="Equinor", country="NO"))


def test_for_person_fails_soft() -> None:
    match = _enricher(_unavailable).for_person("Equinor ASA", "equinor.com", "NO")
    assert match.status is MatchStatus.NOT_FOUND
    assert match.company is None
    assert len(match.notes) == 1
    assert "brreg lookup failed" in match.notes[0]


def test_for_person_time_budget() -> None:
    handler = RecordedRegistries()
    match = _enricher(handler).for_person("Equinor ASA", None, "NO", budget_seconds=0)
    assert match.status is MatchStatus.NOT_FOUND
    assert "time budget ran out" in match.notes[0]
    assert handler.requests == []


def test_for_person_resolves_by_name() -> None:
    match = _enricher(RecordedRegistries()).for_person("EQUINOR ASA", "equinor.com", "NO")
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.identifiers.no_org_number == "923609016"


def test_for_person_domain_only() -> None:
    match = _enricher(RecordedRegistries()).for_person(None, "apple.com", "US")
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.identifiers.sec_cik == "0000320193"


def test_for_person_nothing_given() -> None:
    match = _enricher(RecordedRegistries()).for_person(None, None, "GB")
    assert match.status is MatchStatus.NOT_FOUND
    assert match.notes[0].startswith("No company lookup:")


def test_for_person_invalid_country() -> None:
    match = _enricher(RecordedRegistries()).for_person("Tesco", None, "XX")
    assert match.status is MatchStatus.NOT_FOUND
    assert "ISO 3166-1" in match.notes[0]


def test_query_key_spellings_equal() -> None:
    first = normalised_query(CompanyQuery(name="Tesco PLC", country="GB"))
    second = normalised_query(CompanyQuery(name="TESCO P.L.C.", country="gb"))
    assert first == second
    assert first != normalised_query(CompanyQuery(name="Tesco Ltd", country="GB"))


def test_query_key_domain_forms_equal() -> None:
    assert normalised_query(CompanyQuery(domain="https://www.Tesco.com/about")) == normalised_query(
        CompanyQuery(domain="tesco.com")
    )


@pytest.mark.parametrize("field", ["gleif_requests_per_second", "brreg_requests_per_second"])
@pytest.mark.parametrize("value", [0, -1, 101])
def test_unpublished_registry_rates_are_bounded(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        _settings(**{field: value})
