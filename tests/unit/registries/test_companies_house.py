"""Companies House: every recorded profile shape, search, officers, PSC, exemptions and error bodies."""

from __future__ import annotations

from datetime import date

import pytest

from cascade.registries.companies_house import (
    BASE_URL,
    CompaniesHouse,
    company_status,
    parent_links,
    parse_exemptions,
    parse_officers,
    parse_profile,
    parse_psc,
    parse_psc_statements,
    parse_search,
)
from cascade.registries.errors import RegistryAuthError, RegistryBadResponseError, RegistryNotFoundError
from cascade.registries.models import Company, CompanyStatus, IndustryScheme, ParentLevel, Registry
from tests.unit.registries.support import CH_KEY, FETCHED_AT, RecordedRegistries, fixed_clock, load, recorded_client


def _profile(name: str) -> Company:
    return parse_profile(load(f"companies_house/company-profile_{name}.json"), FETCHED_AT)


def test_profile_tesco() -> None:
    company = _profile("00445790_tesco-plc")
    assert company.legal_name.value == "TESCO PLC"
    assert company.legal_name.source is Registry.COMPANIES_HOUSE
    assert company.identifiers.uk_company_number == "00445790"
    assert company.status.value is CompanyStatus.ACTIVE
    assert company.registry_status is not None
    assert company.registry_status.value == "active"

    assert company.incorporation_date is not None
    assert company.incorporation_date.value == date(1947, 11, 27)
    assert company.dissolution_date is None
    assert company.jurisdiction is not None
    assert company.jurisdiction.value.code == "england-wales"
    assert company.jurisdiction.value.description == "England and Wales"
    assert company.legal_form is not None
    assert company.legal_form.value == "plc"
    assert company.industry_codes is not None
    [sic] = company.industry_codes.value
    assert (sic.scheme, sic.code) == (IndustryScheme.UK_SIC_2007, "47110")
    assert sic.description is not None

    address = company.registered_address
    assert address is not None
    assert address.value.lines == ["Tesco House, Shire Park", "Kestrel Way"]
    assert address.value.locality == "Welwyn Garden City"
    assert address.value.postal_code == "AL7 1GA"
    assert address.value.country == "GB"

    assert company.former_names is not None
    assert [name.name for name in company.former_names.value] == [
        "TESCO STORES (HOLDINGS) PUBLIC LIMITED COMPANY",
        "TESCO STORES (HOLDINGS) LIMITED",
    ]
    assert company.former_names.value[0].from_date == date(1981, 12, 14)
    assert company.former_names.value[0].to_date == date(1983, 8, 25)
    assert company.last_accounts_date is not None
    assert company.last_accounts_date.value == date(2026, 2, 28)
    assert company.confirmation_statement_date is not None
    assert company.confirmation_statement_date.value == date(2026, 6, 18)
    assert company.notes == []


def test_profile_monzo_two_sic_codes() -> None:
    company = _profile("09446231_monzo-bank-ltd")
    assert company.industry_codes is not None
    assert [code.code for code in company.industry_codes.value] == ["64191", "64999"]
    assert all(code.description for code in company.industry_codes.value)
    assert company.legal_form is not None
    assert company.legal_form.value == "ltd"
    assert company.former_names is not None
    assert company.former_names.value[0].name == "FOCUS FS LIMITED"


def test_profile_scottish_plc() -> None:
    company = _profile("SC090312_natwest-markets-plc")
    assert company.identifiers.uk_company_number == "SC090312"
    assert company.jurisdiction is not None
    assert company.jurisdiction.value.code == "scotland"
    address = company.registered_address
    assert address is not None
    assert address.value.lines == ["36 St Andrew Square", "Edinburgh"]
    assert address.value.locality is None
    assert address.value.country is None
    assert address.value.postal_code == "EH2 2YB"


def test_profile_llp_without_sic() -> None:
    company = _profile("OC303675_deloitte-llp")
    assert company.identifiers.uk_company_number == "OC303675"
    assert company.legal_form is not None
    assert company.legal_form.value == "llp"
    assert company.industry_codes is None
    assert any("no SIC codes" in note for note in company.notes)
    assert any("confirmation statement is overdue" in note for note in company.notes)
    assert company.former_names is not None
    assert company.former_names.value[0].name == "DELOITTE & TOUCHE LLP"


def test_profile_oversea_company() -> None:
    company = _profile("FC032315_oversea-company")
    assert company.identifiers.uk_company_number == "FC032315"
    assert company.legal_form is not None
    assert company.legal_form.value == "oversea-company"
    assert company.jurisdiction is not None
    assert company.jurisdiction.value.code == "united-kingdom"
    assert company.industry_codes is None
    # The last accounts type is the text "null"; the date is still read.
    assert company.last_accounts_date is not None
    assert company.last_accounts_date.value == date(2013, 12, 31)
    assert company.confirmation_statement_date is None
    oversea = [note for note in company.notes if note.startswith("Oversea company")]
    assert len(oversea) == 1
    assert "FRANCE" in oversea[0]
    assert "503110595" in oversea[0]
    assert "Societe Par Actions Simplifiee" in oversea[0]
    assert company.registered_address is not None
    assert company.registered_address.value.lines == ["Branch Registration", "Refer To Parent Registry"]


def test_profile_dissolved() -> None:
    company = _profile("00000006_dissolved")
    assert company.status.value is CompanyStatus.DISSOLVED
    assert company.dissolution_date is not None
    assert company.dissolution_date.value == date(2018, 7, 10)
    assert company.incorporation_date is not None
    assert company.incorporation_date.value == date(1862, 10, 25)
    assert company.legal_form is not None
    assert company.legal_form.value == "private-unlimited-nsc"
    assert company.registered_address is not None
    assert company.registered_address.value.country == "GB"


def test_profile_legacy_sic_and_annual_return() -> None:
    company = _profile("02894655_dissolved-legacy-sic")
    assert company.status.value is CompanyStatus.DISSOLVED
    assert company.dissolution_date is not None
    assert company.dissolution_date.value == date(1996, 9, 3)
    assert company.industry_codes is not None
    [legacy] = company.industry_codes.value
    assert legacy.scheme is IndustryScheme.UK_SIC_2003
    assert legacy.code == "7220"
    assert legacy.description is None
    assert legacy.note is not None
    assert company.confirmation_statement_date is not None
    assert company.confirmation_statement_date.value == date(1995, 2, 4)


def test_profile_missing_name() -> None:
    with pytest.raises(RegistryBadResponseError):
        parse_profile({"company_number": "00445790"}, FETCHED_AT)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("active", CompanyStatus.ACTIVE),
        ("dissolved", CompanyStatus.DISSOLVED),
        ("liquidation", CompanyStatus.IN_LIQUIDATION),
        ("administration", CompanyStatus.IN_ADMINISTRATION),
        ("receivership", CompanyStatus.RECEIVERSHIP),
        ("converted-closed", CompanyStatus.CONVERTED_CLOSED),
        ("something-new", CompanyStatus.UNKNOWN),
        (None, CompanyStatus.UNKNOWN),
    ],
)
def test_company_status_mapping(value: str | None, expected: CompanyStatus) -> None:
    assert company_status(value) is expected


def test_search_tesco() -> None:
    page = parse_search(load("companies_house/search-companies_q-tesco.json"))
    assert page.total_results == 356
    assert page.items_per_page == 3
    assert [hit.company_number for hit in page.hits] == ["00445790", "09384423", "05888957"]
    first = page.hits[0]
    assert first.legal_name == "TESCO PLC"
    assert first.company_type == "plc"
    assert first.status is CompanyStatus.ACTIVE
    assert first.address is not None
    assert first.address.lines == ["Tesco House, Shire Park", "Kestrel Way"]
    assert page.hits[2].status is CompanyStatus.DISSOLVED


def test_search_empty() -> None:
    page = parse_search(load("companies_house/search-companies_no-results.json"))
    assert page.hits == []
    assert page.total_results == 0


def test_officers_counts_without_people() -> None:
    summary = parse_officers(load("companies_house/officers_00445790_tesco-plc_trimmed.json"))
    assert summary.active_count == 11
    assert summary.resigned_count == 63
    assert summary.total_results == 74
    assert summary.corporate_officers == []
    assert "BETHELL" not in summary.model_dump_json()


def test_officers_corporate_secretary() -> None:
    summary = parse_officers(load("companies_house/officers_03610056_corporate-secretary.json"))
    [officer] = summary.corporate_officers
    assert officer.name == "INFORMA COSEC LIMITED"
    assert officer.role == "corporate-secretary"
    assert officer.registration_number == "3849195"


def test_psc_corporate_parent() -> None:
    entities = parse_psc(load("companies_house/psc_03977902_google-uk-ltd_trimmed.json"))
    [alphabet] = entities
    assert alphabet.name == "Alphabet, Inc."
    assert alphabet.country_registered == "Delaware"
    assert alphabet.registration_number == "5786925"
    assert alphabet.ceased is False
    [link] = parent_links(entities)
    assert link.level is ParentLevel.DIRECT
    assert link.legal_name == "Alphabet, Inc."
    assert link.relationship_type == "PERSON_WITH_SIGNIFICANT_CONTROL"


def test_psc_statements() -> None:
    statements = parse_psc_statements(load("companies_house/psc-statements_05124262.json"))
    assert statements == ["psc-has-failed-to-confirm-changed-details"]


def test_exemptions_in_force() -> None:
    body = load("companies_house/exemptions_00445790_tesco-plc.json")
    assert parse_exemptions(body, today=date(2026, 12, 1)) == ["psc-exempt-as-trading-on-uk-regulated-market"]
    assert sorted(parse_exemptions(body, today=date(2020, 1, 1))) == [
        "disclosure-transparency-rules-chapter-five-applies",
        "psc-exempt-as-trading-on-uk-regulated-market",
    ]


def _adapter(handler: RecordedRegistries, key: str = CH_KEY) -> CompaniesHouse:
    return CompaniesHouse(recorded_client(Registry.COMPANIES_HOUSE, BASE_URL, handler), api_key=key, clock=fixed_clock)


def test_adapter_profile_basic_auth() -> None:
    handler = RecordedRegistries()
    company = _adapter(handler).profile("sc90312")
    assert company.legal_name.value == "NATWEST MARKETS PLC"
    [request] = handler.requests
    assert request.url.path == "/company/SC090312"
    assert request.headers["Authorization"].startswith("Basic ")


def test_adapter_bad_key_is_auth_error() -> None:
    with pytest.raises(RegistryAuthError, match="HTTP 401"):
        _adapter(RecordedRegistries(), key="wrong-key").profile("00445790")


def test_adapter_unknown_company() -> None:
    with pytest.raises(RegistryNotFoundError, match="HTTP 404"):
        _adapter(RecordedRegistries()).profile("99999999")


def test_adapter_search_params() -> None:
    handler = RecordedRegistries()
    page = _adapter(handler).search("tesco", items_per_page=3)
    assert len(page.hits) == 3
    params = handler.requests[0].url.params
    assert params["q"] == "tesco"
    assert params["items_per_page"] == "3"
    assert params["start_index"] == "0"


def test_adapter_sub_resources() -> None:
    adapter = _adapter(RecordedRegistries())
    assert adapter.officers("00445790").total_results == 74
    assert adapter.exemptions("00445790") == ["psc-exempt-as-trading-on-uk-regulated-market"]
    assert adapter.persons_with_significant_control("03977902")[0].name == "Alphabet, Inc."
    assert adapter.psc_statements("05124262") == ["psc-has-failed-to-confirm-changed-details"]


def test_adapter_rejects_empty_key() -> None:
    with pytest.raises(ValueError, match="CASCADE_COMPANIES_HOUSE_API_KEY"):
        _adapter(RecordedRegistries(), key=" ")
