"""Canonical forms of registry identifiers, and the errors for invalid ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cascade.registries.models import (
    CompanyIdentifiers,
    CompanyQuery,
    canonical_cik,
    canonical_lei,
    canonical_no_org_number,
    canonical_uk_company_number,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (320193, "0000320193"),
        ("320193", "0000320193"),
        ("0000320193", "0000320193"),
        ("CIK0000320193", "0000320193"),
        ("cik320193", "0000320193"),
        (" 1067983 ", "0001067983"),
        ("9999999999", "9999999999"),
    ],
)
def test_cik_canonical(value: int | str, expected: str) -> None:
    assert canonical_cik(value) == expected


@pytest.mark.parametrize(
    "value", ["", "0", "12345678901", "CIK", "32O193", "-320193", True, "\uff13\uff12\uff10\uff11\uff19\uff13"]
)
def test_cik_invalid(value: int | str) -> None:
    with pytest.raises(ValueError, match="is not a CIK; send up to 10 digits") as raised:
        canonical_cik(value)
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00445790", "00445790"),
        ("445790", "00445790"),
        (445790, "00445790"),
        ("SC090312", "SC090312"),
        ("sc90312", "SC090312"),
        ("OC303675", "OC303675"),
        ("FC032315", "FC032315"),
        ("NI 012345", "NI012345"),
        ("so300001", "SO300001"),
        ("NC1", "NC000001"),
        ("R0000123", "R0000123"),
    ],
)
def test_uk_number_canonical(value: int | str, expected: str) -> None:
    assert canonical_uk_company_number(value) == expected


@pytest.mark.parametrize("value", ["", "00000000", "123456789", "SC1234567", "S1234567", "SC", "12-34567", "R012"])
def test_uk_number_invalid(value: str) -> None:
    with pytest.raises(ValueError, match="is not a Companies House number") as raised:
        canonical_uk_company_number(value)
    assert "SC090312" in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2138002P5RNKC5W2JZ46", "2138002P5RNKC5W2JZ46"),
        ("2138002p5rnkc5w2jz46", "2138002P5RNKC5W2JZ46"),
        ("INR2EJN1ERAN0W5ZP974", "INR2EJN1ERAN0W5ZP974"),
        ("5493 00YX4S1LLSMK2627", "549300YX4S1LLSMK2627"),
        ("HWUPKR0MPOU8FGXBT394", "HWUPKR0MPOU8FGXBT394"),
    ],
)
def test_lei_canonical(value: str, expected: str) -> None:
    assert canonical_lei(value) == expected


def test_lei_wrong_length() -> None:
    with pytest.raises(ValueError, match="is not a Legal Entity Identifier; send 20 letters and digits"):
        canonical_lei("2138002P5RNKC5W2JZ4")


def test_lei_wrong_check_digits() -> None:
    with pytest.raises(ValueError, match="fails the ISO 17442 check digits") as raised:
        canonical_lei("2138002P5RNKC5W2JZ47")
    assert "'2138002P5RNKC5W2JZ47'" in str(raised.value)


def test_lei_transposed_characters() -> None:
    with pytest.raises(ValueError, match="check digits"):
        canonical_lei("2138002P5RNKC5W2ZJ46")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("923609016", "923609016"), ("974 760 673", "974760673"), (923609016, "923609016")],
)
def test_no_org_number_canonical(value: int | str, expected: str) -> None:
    assert canonical_no_org_number(value) == expected


def test_no_org_number_wrong_check_digit() -> None:
    with pytest.raises(ValueError, match="fails the modulus 11 check digit"):
        canonical_no_org_number("923609017")


@pytest.mark.parametrize("value", ["92360901", "9236090161", "92360901A", ""])
def test_no_org_number_invalid_form(value: str) -> None:
    with pytest.raises(ValueError, match="send 9 digits"):
        canonical_no_org_number(value)


def test_identifiers_model_canonicalises() -> None:
    identifiers = CompanyIdentifiers(
        sec_cik="CIK320193", uk_company_number="445790", lei="2138002p5rnkc5w2jz46", no_org_number="923 609 016"
    )
    assert identifiers.sec_cik == "0000320193"
    assert identifiers.uk_company_number == "00445790"
    assert identifiers.lei == "2138002P5RNKC5W2JZ46"
    assert identifiers.no_org_number == "923609016"


def test_identifiers_model_names_field() -> None:
    with pytest.raises(ValidationError) as raised:
        CompanyIdentifiers(lei="2138002P5RNKC5W2JZ47")
    error = raised.value.errors()[0]
    assert error["loc"] == ("lei",)
    assert "check digits" in error["msg"]


def test_identifiers_blank_is_missing() -> None:
    identifiers = CompanyIdentifiers(sec_cik="", lei="  ")
    assert identifiers.is_empty()


def test_query_needs_something() -> None:
    with pytest.raises(ValidationError, match="too little to identify a company"):
        CompanyQuery(country="GB")


def test_query_empty_identifiers_rejected() -> None:
    with pytest.raises(ValidationError, match="too little to identify a company"):
        CompanyQuery(identifiers=CompanyIdentifiers())


def test_query_rejects_unknown_field() -> None:
    with pytest.raises(ValidationError, match="company_domian"):
        CompanyQuery.model_validate({"name": "Tesco", "company_domian": "tesco.com"})


def test_query_country_canonical() -> None:
    assert CompanyQuery(name="Tesco", country="uk").country == "GB"
