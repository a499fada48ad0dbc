"""GLEIF: every recorded LEI record, parents as relationships and as reporting exceptions, and pagination."""

from __future__ import annotations

from datetime import date

import pytest

from cascade.registries.errors import RegistryBadResponseError, RegistryNotFoundError
from cascade.registries.gleif import (
    BASE_URL,
    Gleif,
    gleif_status,
    parent_info,
    parse_lei_record,
    parse_record_page,
    parse_relationship,
    parse_reporting_exception,
)
from cascade.registries.models import CompanyStatus, ParentLevel, Registry
from tests.unit.registries.support import FETCHED_AT, RecordedRegistries, fixed_clock, load, recorded_client

DIRECT, ULTIMATE = ParentLevel.DIRECT, ParentLevel.ULTIMATE

# File, legal name, jurisdiction, UK company number, creation date, former names.
RECORDS = [
    (
        "lei-record_21380068P1DRHMJ8KU70_shell",
        "SHELL PLC",
        "GB",
        "04366849",
        date(2002, 2, 5),
        ["ROYAL DUTCH SHELL PLC"],
    ),
    (
        "lei-record_254900LNRYNOQ9YPU758_amazon-digital-uk",
        "Amazon Digital UK Limited",
        "GB",
        "06528297",
        date(2008, 3, 8),
        ["AMAZON VIDEO LIMITED", "AMAZON INSTANT VIDEO LIMITED", "LOVEFILM UK LIMITED", "LOVEFILM LIMITED"],
    ),
    ("lei-record_549300YX4S1LLSMK2627_apple-energy", "APPLE ENERGY LLC", "US-DE", None, date(2016, 5, 20), []),
    (
        "lei-record_851WYGNLUQLFZBSYGB56_commerzbank",
        "COMMERZBANK Aktiengesellschaft",
        "DE",
        None,
        date(1952, 10, 17),
        [],
    ),
    ("lei-record_INR2EJN1ERAN0W5ZP974_microsoft", "MICROSOFT CORPORATION", "US-WA", None, date(1993, 9, 22), []),
]


@pytest.mark.parametrize(("file", "name", "jurisdiction", "uk_number", "created", "former"), RECORDS)
def test_lei_records(
    *, file: str, name: str, jurisdiction: str, uk_number: str | None, created: date, former: list[str]
) -> None:
    resource = load(f"gleif/{file}.json")["data"]
    company = parse_lei_record(resource, FETCHED_AT)
    assert company.legal_name.value == name
    assert company.legal_name.source is Registry.GLEIF
    assert company.identifiers.lei == resource["id"]
    assert company.identifiers.uk_company_number == uk_number
    assert company.status.value is CompanyStatus.ACTIVE
    assert company.jurisdiction is not None
    assert company.jurisdiction.value.code == jurisdiction
    assert company.incorporation_date is not None
    assert company.incorporation_date.value == created
    names = [entry.name for entry in company.former_names.value] if company.former_names else []
    assert names == former
    assert company.registered_address is not None


def test_lei_record_address_and_form() -> None:
    company = parse_lei_record(load("gleif/lei-record_549300YX4S1LLSMK2627_apple-energy.json")["data"], FETCHED_AT)
    address = company.registered_address
    assert address is not None
    assert address.value.lines == [
        "c/o The Corporation Trust Company",
        "Corporation Trust Center",
        "1209 Orange Street",
    ]
    assert address.value.locality == "Wilmington"
    assert address.value.region == "US-DE"
    assert address.value.country == "US"
    assert company.legal_form is not None
    assert company.legal_form.value == "HZEH"
    assert company.registry_status is not None
    assert company.registry_status.value == "entity ACTIVE, LEI ISSUED"


def test_lei_record_without_name() -> None:
    with pytest.raises(RegistryBadResponseError):
        parse_lei_record({"id": "549300YX4S1LLSMK2627", "attributes": {}}, FETCHED_AT)


@pytest.mark.parametrize(
    ("entity", "registration", "expected"),
    [
        ("ACTIVE", "ISSUED", CompanyStatus.ACTIVE),
        ("ACTIVE", "LAPSED", CompanyStatus.ACTIVE),
        ("INACTIVE", "MERGED", CompanyStatus.CONVERTED_CLOSED),
        ("INACTIVE", "RETIRED", CompanyStatus.DISSOLVED),
        ("INACTIVE", "ISSUED", CompanyStatus.INACTIVE),
        ("NULL", "ISSUED", CompanyStatus.UNKNOWN),
        (None, None, CompanyStatus.UNKNOWN),
    ],
)
def test_gleif_status(entity: str | None, registration: str | None, expected: CompanyStatus) -> None:
    assert gleif_status(entity, registration) is expected


def test_parent_info_kinds() -> None:
    apple_energy = load("gleif/lei-record_549300YX4S1LLSMK2627_apple-energy.json")["data"]
    amazon_uk = load("gleif/lei-record_254900LNRYNOQ9YPU758_amazon-digital-uk.json")["data"]
    microsoft = load("gleif/lei-record_INR2EJN1ERAN0W5ZP974_microsoft.json")["data"]
    assert parent_info(apple_energy) == {DIRECT: "relationship", ULTIMATE: "relationship"}
    assert parent_info(amazon_uk) == {DIRECT: "exception", ULTIMATE: "relationship"}
    assert parent_info(microsoft) == {DIRECT: "exception", ULTIMATE: "exception"}


def test_relationship_records() -> None:
    direct = parse_relationship(load("gleif/direct-parent-relationship_549300YX4S1LLSMK2627.json"), DIRECT)
    assert direct.lei == "HWUPKR0MPOU8FGXBT394"
    assert direct.relationship_type == "IS_DIRECTLY_CONSOLIDATED_BY"
    assert direct.exception_reason is None
    ultimate = parse_relationship(load("gleif/ultimate-parent-relationship_254900LNRYNOQ9YPU758.json"), ULTIMATE)
    assert ultimate.lei == "ZXTILKJKG63JELOEG630"
    assert ultimate.relationship_type == "IS_ULTIMATELY_CONSOLIDATED_BY"
    apple = parse_relationship(load("gleif/ultimate-parent-relationship_549300YX4S1LLSMK2627.json"), ULTIMATE)
    assert apple.lei == "HWUPKR0MPOU8FGXBT394"


@pytest.mark.parametrize(
    ("file", "level", "reason"),
    [
        ("direct-parent-reporting-exception_254900LNRYNOQ9YPU758", DIRECT, "NON_PUBLIC"),
        ("direct-parent-reporting-exception_INR2EJN1ERAN0W5ZP974", DIRECT, "NON_CONSOLIDATING"),
        ("ultimate-parent-reporting-exception_INR2EJN1ERAN0W5ZP974", ULTIMATE, "NON_CONSOLIDATING"),
    ],
)
def test_reporting_exceptions(file: str, level: ParentLevel, reason: str) -> None:
    link = parse_reporting_exception(load(f"gleif/{file}.json"), level)
    assert link.level is level
    assert link.exception_reason == reason
    assert link.lei is None


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("direct-parent_549300YX4S1LLSMK2627_apple-inc", "Apple Inc."),
        ("ultimate-parent_549300YX4S1LLSMK2627_apple-inc", "Apple Inc."),
        ("ultimate-parent_254900LNRYNOQ9YPU758_amazon-com-inc", "AMAZON.COM, INC."),
    ],
)
def test_parent_records(file: str, name: str) -> None:
    company = parse_lei_record(load(f"gleif/{file}.json")["data"], FETCHED_AT)
    assert company.legal_name.value == name


def test_children_page_one() -> None:
    page = parse_record_page(load("gleif/direct-children_21380068P1DRHMJ8KU70_shell_page1.json"), FETCHED_AT)
    assert len(page.companies) == 15
    assert page.current_page == 1
    assert page.last_page == 8
    assert page.total == 106
    assert page.next_page == 2
    assert page.companies[0].legal_name.value == "BRAZIL SHIPPING I LIMITED"


def test_filter_registered_as() -> None:
    page = parse_record_page(load("gleif/lei-records_filter-registeredAs-00445790_tesco-plc.json"), FETCHED_AT)
    [tesco] = page.companies
    assert tesco.legal_name.value == "TESCO PLC"
    assert tesco.identifiers.lei == "2138002P5RNKC5W2JZ46"
    assert tesco.identifiers.uk_company_number == "00445790"
    assert page.next_page is None


def test_list_without_data() -> None:
    with pytest.raises(RegistryBadResponseError):
        parse_record_page({"errors": []}, FETCHED_AT)


def _adapter(handler: RecordedRegistries) -> Gleif:
    return Gleif(recorded_client(Registry.GLEIF, BASE_URL, handler), clock=fixed_clock)


def test_adapter_company_with_relationships() -> None:
    handler = RecordedRegistries()
    company = _adapter(handler).company("549300YX4S1LLSMK2627")
    assert company.parents is not None
    assert company.parents.source is Registry.GLEIF
    links = {link.level: link for link in company.parents.value}
    assert links[DIRECT].lei == "HWUPKR0MPOU8FGXBT394"
    assert links[DIRECT].legal_name == "Apple Inc."
    assert links[ULTIMATE].relationship_type == "IS_ULTIMATELY_CONSOLIDATED_BY"
    assert len(handler.requests) == 5
    assert handler.requests[0].headers["Accept"] == "application/vnd.api+json"


def test_adapter_company_mixed_parents() -> None:
    handler = RecordedRegistries()
    company = _adapter(handler).company("254900LNRYNOQ9YPU758")
    assert company.parents is not None
    links = {link.level: link for link in company.parents.value}
    assert links[DIRECT].exception_reason == "NON_PUBLIC"
    assert links[ULTIMATE].lei == "ZXTILKJKG63JELOEG630"
    assert links[ULTIMATE].legal_name == "AMAZON.COM, INC."
    assert len(handler.requests) == 4


def test_adapter_company_exceptions_only() -> None:
    company = _adapter(RecordedRegistries()).company("INR2EJN1ERAN0W5ZP974")
    assert company.parents is not None
    assert [(link.level, link.exception_reason) for link in company.parents.value] == [
        (DIRECT, "NON_CONSOLIDATING"),
        (ULTIMATE, "NON_CONSOLIDATING"),
    ]


def test_adapter_unknown_lei() -> None:
    with pytest.raises(RegistryNotFoundError):
        _adapter(RecordedRegistries()).company("5493001KJTIIGC8Y1R12")


def test_adapter_by_registration() -> None:
    handler = RecordedRegistries()
    [tesco] = _adapter(handler).by_registration("00445790", jurisdiction="GB")
    assert tesco.identifiers.lei == "2138002P5RNKC5W2JZ46"
    params = handler.requests[0].url.params
    assert params["filter[entity.registeredAs]"] == "00445790"
    assert params["filter[entity.jurisdiction]"] == "GB"


def test_adapter_search_name_params() -> None:
    handler = RecordedRegistries()
    page = _adapter(handler).search_name("commerzbank", page_size=5)
    assert [company.legal_name.value for company in page.companies] == ["COMMERZBANK Aktiengesellschaft"]
    params = handler.requests[0].url.params
    assert params["filter[fulltext]"] == "commerzbank"
    assert params["page[size]"] == "5"
    assert params["page[number]"] == "1"
