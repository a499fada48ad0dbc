"""The company columns of a bulk results file, from a person result's company block."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cascade.bulk.company_columns import company_name_cell, company_registry_id_cell
from cascade.domain.models import CompanySummary
from cascade.registries.models import Company, CompanyIdentifiers, CompanyStatus, MatchStatus, Registry, Sourced

FETCHED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _resolved(**identifiers: str) -> CompanySummary:
    company = Company(
        legal_name=Sourced(value="TESCO PLC", source=Registry.COMPANIES_HOUSE, fetched_at=FETCHED_AT),
        identifiers=CompanyIdentifiers(**identifiers),
        status=Sourced(value=CompanyStatus.ACTIVE, source=Registry.COMPANIES_HOUSE, fetched_at=FETCHED_AT),
    )
    return CompanySummary(name="Tesco", domain="tesco.com", match=MatchStatus.RESOLVED, registry=company)


def test_name_prefers_registry_legal_name() -> None:
    assert company_name_cell(_resolved(uk_company_number="00445790")) == "TESCO PLC"


def test_name_falls_back_to_input() -> None:
    assert company_name_cell(CompanySummary(name="Tesco", match=MatchStatus.AMBIGUOUS)) == "Tesco"
    assert company_name_cell(CompanySummary(domain="tesco.com")) is None
    assert company_name_cell(None) is None


@pytest.mark.parametrize(
    ("identifiers", "expected"),
    [
        (
            {"uk_company_number": "00445790", "lei": "2138002P5RNKC5W2JZ46", "sec_cik": "1306965"},
            "lei:2138002P5RNKC5W2JZ46",
        ),
        ({"uk_company_number": "445790", "sec_cik": "1306965"}, "sec_cik:0001306965"),
        ({"uk_company_number": "445790", "no_org_number": "923609016"}, "uk_company_number:00445790"),
        ({"no_org_number": "923609016"}, "no_org_number:923609016"),
        ({}, None),
    ],
)
def test_registry_id_order(identifiers: dict[str, str], expected: str | None) -> None:
    assert company_registry_id_cell(_resolved(**identifiers)) == expected


def test_registry_id_empty_unless_resolved() -> None:
    assert company_registry_id_cell(CompanySummary(name="Tesco", match=MatchStatus.NOT_FOUND)) is None
    assert company_registry_id_cell(None) is None
