"""Brønnøysund: both recorded entities, search pages and the 404 body."""

from __future__ import annotations

from datetime import date

import pytest

from cascade.registries.brreg import BASE_URL, Brreg, brreg_status, parse_entity, parse_search
from cascade.registries.errors import RegistryNotFoundError
from cascade.registries.models import CompanyStatus, IndustryScheme, ParentLevel, Registry
from tests.unit.registries.support import FETCHED_AT, RecordedRegistries, fixed_clock, load, recorded_client


def test_entity_equinor() -> None:
    company = parse_entity(load("brreg/enhet_923609016_equinor-asa.json"), FETCHED_AT)
    assert company.legal_name.value == "EQUINOR ASA"
    assert company.legal_name.source is Registry.BRREG
    assert company.identifiers.no_org_number == "923609016"
    assert company.status.value is CompanyStatus.ACTIVE
    assert company.legal_form is not None
    assert company.legal_form.value == "ASA"
    assert company.incorporation_date is not None
    assert company.incorporation_date.value == date(1972, 9, 18)
    assert company.industry_codes is not None
    codes = company.industry_codes.value
    assert [code.code for code in codes] == ["06.100", "06.200", "19.200"]
    assert all(code.scheme is IndustryScheme.NACE_SN2007 for code in codes)
    assert codes[0].description == "Utvinning av råolje"
    address = company.registered_address
    assert address is not None
    assert address.value.lines == ["Forusbeen 50"]
    assert address.value.locality == "STAVANGER"
    assert address.value.postal_code == "4035"
    assert address.value.country == "NO"
    assert company.former_names is not None
    assert [name.name for name in company.former_names.value][:2] == ["Den norske stats oljeselskap a.s", "STATOIL ASA"]
    assert company.former_names.value[0].from_date == date(1995, 3, 12)
    assert company.former_names.value[0].to_date == date(2001, 5, 11)
    assert company.website is not None
    assert company.website.value == "www.equinor.com"
    assert company.parents is None


def test_entity_government_unit_with_parent() -> None:
    company = parse_entity(load("brreg/enhet_974760673_registerenheten-i-bronnoysund.json"), FETCHED_AT)
    assert company.legal_name.value == "REGISTERENHETEN I BRØNNØYSUND"
    assert company.legal_form is not None
    assert company.legal_form.value == "ORGL"
    assert company.incorporation_date is None
    assert company.industry_codes is not None
    assert [code.code for code in company.industry_codes.value] == ["84.110"]
    assert company.parents is not None
    [parent] = company.parents.value
    assert parent.level is ParentLevel.DIRECT
    assert parent.identifiers is not None
    assert parent.identifiers.no_org_number == "912660680"
    assert parent.relationship_type == "OVERORDNET_ENHET"


@pytest.mark.parametrize(
    ("flags", "expected", "flag"),
    [
        ({}, CompanyStatus.ACTIVE, "registrert"),
        ({"konkurs": True}, CompanyStatus.IN_LIQUIDATION, "konkurs"),
        ({"underAvvikling": True}, CompanyStatus.IN_LIQUIDATION, "underAvvikling"),
        ({"slettedato": "2020-01-01", "konkurs": True}, CompanyStatus.DISSOLVED, "slettet"),
    ],
)
def test_brreg_status(flags: dict[str, object], expected: CompanyStatus, flag: str) -> None:
    assert brreg_status(flags) == (expected, flag)


def test_deleted_entity() -> None:
    body = load("brreg/enhet_923609016_equinor-asa.json")
    body["slettedato"] = "2024-05-02"
    company = parse_entity(body, FETCHED_AT)
    assert company.status.value is CompanyStatus.DISSOLVED
    assert company.dissolution_date is not None
    assert company.dissolution_date.value == date(2024, 5, 2)


def test_search_page() -> None:
    body = {
        "_embedded": {"enheter": [load("brreg/enhet_923609016_equinor-asa.json"), {"navn": "no number"}]},
        "page": {"size": 20, "totalElements": 1, "totalPages": 1, "number": 0},
    }
    page = parse_search(body, FETCHED_AT)
    assert [company.identifiers.no_org_number for company in page.companies] == ["923609016"]
    assert page.total_elements == 1


def test_search_without_hits() -> None:
    page = parse_search({"page": {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0}}, FETCHED_AT)
    assert page.companies == []
    assert page.total_pages == 0


def _adapter(handler: RecordedRegistries) -> Brreg:
    return Brreg(recorded_client(Registry.BRREG, BASE_URL, handler), clock=fixed_clock)


def test_adapter_entity_path() -> None:
    handler = RecordedRegistries()
    company = _adapter(handler).entity("923 609 016")
    assert company.legal_name.value == "EQUINOR ASA"
    assert str(handler.requests[0].url) == "https://data.brreg.no/enhetsregisteret/api/enheter/923609016"


def test_adapter_unknown_entity() -> None:
    with pytest.raises(RegistryNotFoundError):
        _adapter(RecordedRegistries()).entity("912660680")


def test_adapter_search() -> None:
    handler = RecordedRegistries()
    page = _adapter(handler).search("equinor", size=5)
    assert [company.legal_name.value for company in page.companies] == ["EQUINOR ASA"]
    params = handler.requests[0].url.params
    assert params["navn"] == "equinor"
    assert params["size"] == "5"
    assert params["page"] == "0"
