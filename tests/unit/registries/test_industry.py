"""Industry code descriptions from the bundled code lists."""

from __future__ import annotations

from cascade.registries.industry import nace_code, naics_code, uk_sic_code, us_sic_code
from cascade.registries.models import IndustryScheme


def test_us_sic_joined_as_integer() -> None:
    code = us_sic_code("0100")
    assert code.scheme is IndustryScheme.US_SIC
    assert code.code == "0100"
    assert code.description == "AGRICULTURAL PRODUCTION-CROPS"


def test_us_sic_apple() -> None:
    assert us_sic_code("3571").description == "ELECTRONIC COMPUTERS"
    assert us_sic_code(7370).description == "SERVICES-COMPUTER PROGRAMMING, DATA PROCESSING, ETC."


def test_us_sic_unlisted() -> None:
    code = us_sic_code("9998")
    assert code.description is None
    assert code.note == "code not in the SEC SIC code list"


def test_uk_sic_2007() -> None:
    code = uk_sic_code("47110")
    assert code.scheme is IndustryScheme.UK_SIC_2007
    assert code.description is not None
    assert code.description.startswith("Retail sale in non-specialised stores")


def test_uk_sic_legacy_2003() -> None:
    code = uk_sic_code("7220")
    assert code.scheme is IndustryScheme.UK_SIC_2003
    assert code.code == "7220"
    assert code.description is None
    assert code.note is not None
    assert "SIC 2003" in code.note


def test_uk_sic_unlisted() -> None:
    code = uk_sic_code("99998")
    assert code.scheme is IndustryScheme.UK_SIC_2007
    assert code.description is None
    assert code.note == "code not in the Companies House SIC 2007 list"


def test_naics() -> None:
    assert naics_code("11").description == "Agriculture, Forestry, Fishing and Hunting"
    assert naics_code(11111).description == "Soybean Farming"
    assert naics_code("999999").note == "code not in the 2022 NAICS list"


def test_nace_keeps_registry_description() -> None:
    code = nace_code("06.100", "Utvinning av råolje")
    assert code.scheme is IndustryScheme.NACE_SN2007
    assert code.code == "06.100"
    assert code.description == "Utvinning av råolje"
