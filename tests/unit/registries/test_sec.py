"""SEC EDGAR: the ticker list, every recorded submissions file, and the adapter over MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from cascade.registries.errors import RegistryAuthError, RegistryBadResponseError, RegistryNotFoundError
from cascade.registries.models import CompanyStatus, IndustryScheme, Registry
from cascade.registries.sec import (
    DATA_BASE_URL,
    TICKERS_BASE_URL,
    SecEdgar,
    latest_filings,
    parse_company_tickers,
    parse_submissions,
)
from tests.unit.registries.support import FETCHED_AT, RecordedRegistries, fixed_clock, load, recorded_client

Handler = Callable[[httpx.Request], httpx.Response]
USER_AGENT = "Cascade unit tests ops@cascade.invalid"


@pytest.fixture(scope="module")
def tickers_body() -> Any:
    return load("sec/company_tickers.json")


def test_tickers_counts(tickers_body: Any) -> None:
    index = parse_company_tickers(tickers_body)
    assert len(index) == 10_089
    assert len(index.companies()) == 7_878


def test_tickers_berkshire_two_classes(tickers_body: Any) -> None:
    index = parse_company_tickers(tickers_body)
    assert index.tickers_for("1067983") == ["BRK-B", "BRK-A"]
    class_b = index.ticker("BRK-B")
    class_a = index.ticker("brk.a")
    assert class_b is not None
    assert class_a is not None
    assert class_b.cik == "0001067983"
    assert class_a.cik == "0001067983"
    assert class_a.title == "BERKSHIRE HATHAWAY INC"


def test_tickers_lookups(tickers_body: Any) -> None:
    index = parse_company_tickers(tickers_body)
    apple = index.ticker("aapl")
    assert apple is not None
    assert apple.cik == "0000320193"
    assert apple.title == "Apple Inc."
    assert index.ticker("NO-SUCH-TICKER") is None
    assert index.tickers_for("0000789019") == ["MSFT"]


def test_tickers_skip_bad_rows() -> None:
    index = parse_company_tickers(
        {"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, "1": {"ticker": "X"}, "2": "junk"}
    )
    assert len(index) == 1


def test_tickers_not_object() -> None:
    with pytest.raises(RegistryBadResponseError):
        parse_company_tickers([])


# CIK: legal name, SIC code, jurisdiction code, jurisdiction description, former names, latest 10-K/20-F form.
SUBMISSIONS = [
    ("0000320193", "Apple Inc.", "3571", "US-CA", None, ["APPLE INC", "APPLE COMPUTER INC", "APPLE COMPUTER INC/ FA"]),
    ("0000789019", "MICROSOFT CORP", "7372", "US-WA", None, []),
    ("0001018724", "AMAZON COM INC", "5961", "US-DE", None, []),
    ("0001326801", "Meta Platforms, Inc.", "7370", "US-DE", None, ["Facebook Inc"]),
    ("0001067983", "BERKSHIRE HATHAWAY INC", "6331", "US-DE", None, ["NBH INC"]),
    ("0000034088", "EXXON MOBIL CORP", "2911", "US-NJ", None, ["EXXON CORP"]),
    ("0001306965", "Shell plc", "1311", "X0", "United Kingdom", ["Royal Dutch Shell plc"]),
    ("0001094517", "TOYOTA MOTOR CORP/", "3711", "M0", "Japan", []),
]


@pytest.mark.parametrize(("cik", "name", "sic", "jurisdiction", "description", "former"), SUBMISSIONS)
def test_submissions_files(
    *, cik: str, name: str, sic: str, jurisdiction: str, description: str | None, former: list[str]
) -> None:
    company = parse_submissions(load(f"sec/submissions/CIK{cik}.json"), FETCHED_AT)
    assert company.legal_name.value == name
    assert company.legal_name.source is Registry.SEC_EDGAR
    assert company.legal_name.fetched_at == FETCHED_AT
    assert company.identifiers.sec_cik == cik
    assert company.identifiers.lei is None
    assert company.status.value is CompanyStatus.UNKNOWN
    assert company.industry_codes is not None
    [industry] = company.industry_codes.value
    assert industry.scheme is IndustryScheme.US_SIC
    assert industry.code == sic
    assert industry.description is not None
    assert company.jurisdiction is not None
    assert company.jurisdiction.value.code == jurisdiction
    assert company.jurisdiction.value.description == description
    names = [entry.name for entry in company.former_names.value] if company.former_names else []
    assert names == former
    assert company.latest_filings is not None


def test_submissions_apple_details() -> None:
    company = parse_submissions(load("sec/submissions/CIK0000320193.json"), FETCHED_AT)
    assert company.industry_codes is not None
    assert company.industry_codes.value[0].description == "ELECTRONIC COMPUTERS"
    address = company.registered_address
    assert address is not None
    assert address.value.lines == ["ONE APPLE PARK WAY"]
    assert address.value.locality == "CUPERTINO"
    assert address.value.region == "CA"
    assert address.value.postal_code == "95014"
    assert address.value.country == "US"
    assert company.former_names is not None
    first = company.former_names.value[0]
    assert first.from_date == date(2007, 1, 10)
    assert first.to_date == date(2019, 8, 5)
    assert company.latest_filings is not None
    filings = {filing.form: filing for filing in company.latest_filings.value}
    assert set(filings) == {"10-Q", "8-K"}
    assert filings["10-Q"].filing_date == date(2025, 8, 1)
    assert filings["10-Q"].report_date == date(2025, 6, 28)
    assert filings["10-Q"].accession == "0000320193-25-000073"
    assert filings["8-K"].filing_date == date(2025, 7, 31)


def test_submissions_foreign_issuers() -> None:
    toyota = parse_submissions(load("sec/submissions/CIK0001094517.json"), FETCHED_AT)
    assert toyota.latest_filings is not None
    forms = {filing.form: filing.filing_date for filing in toyota.latest_filings.value}
    assert forms == {"6-K": date(2025, 6, 30), "20-F": date(2025, 6, 18)}
    assert toyota.registered_address is not None
    assert toyota.registered_address.value.country is None
    assert toyota.registered_address.value.lines == ["1 TOYOTA CHO TOYOTA CITY", "AICHI PREFECTURE 471-8571"]
    shell = parse_submissions(load("sec/submissions/CIK0001306965.json"), FETCHED_AT)
    assert shell.latest_filings is not None
    assert {filing.form for filing in shell.latest_filings.value} == {"6-K", "20-F/A"}


def test_submissions_microsoft_annual_report() -> None:
    company = parse_submissions(load("sec/submissions/CIK0000789019.json"), FETCHED_AT)
    assert company.latest_filings is not None
    newest = company.latest_filings.value[0]
    assert newest.form in {"10-K", "8-K"}
    forms = {filing.form: filing.filing_date for filing in company.latest_filings.value}
    assert forms["10-K"] == date(2025, 7, 30)


def test_submissions_unpadded_cik() -> None:
    body = load("sec/submissions/CIK0000320193.json")
    body["cik"] = "320193"
    assert parse_submissions(body, FETCHED_AT).identifiers.sec_cik == "0000320193"


def test_submissions_without_name() -> None:
    with pytest.raises(RegistryBadResponseError):
        parse_submissions({"cik": "0000320193"}, FETCHED_AT)


def test_latest_filings_columns() -> None:
    recent = {
        "form": ["8-K", "10-K", "4", "8-K"],
        "filingDate": ["2025-03-01", "2025-02-01", "2025-01-15", "2025-04-01"],
        "reportDate": ["", "2024-12-31", "", ""],
        "accessionNumber": ["a-1", "a-2", "a-3", "a-4"],
    }
    filings = latest_filings(recent)
    assert [(filing.form, filing.accession) for filing in filings] == [("8-K", "a-4"), ("10-K", "a-2")]
    assert filings[0].report_date is None
    assert filings[1].report_date == date(2024, 12, 31)


def _adapter(handler: Handler, user_agent: str = USER_AGENT) -> SecEdgar:
    files = recorded_client(Registry.SEC_EDGAR, TICKERS_BASE_URL, handler)
    data = recorded_client(Registry.SEC_EDGAR, DATA_BASE_URL, handler)
    return SecEdgar(files, data, user_agent=user_agent, clock=fixed_clock)


def test_adapter_company_sends_user_agent() -> None:
    handler = RecordedRegistries()
    company = _adapter(handler).company(1067983)
    assert company.legal_name.value == "BERKSHIRE HATHAWAY INC"
    [request] = handler.requests
    assert str(request.url) == "https://data.sec.gov/submissions/CIK0001067983.json"
    assert request.headers["User-Agent"] == USER_AGENT


def test_adapter_tickers_fetched_once() -> None:
    handler = RecordedRegistries()
    adapter = _adapter(handler)
    first = adapter.ticker_index()
    second = adapter.ticker_index()
    assert first is second
    assert handler.count("www.sec.gov") == 1


def test_adapter_unknown_cik() -> None:
    with pytest.raises(RegistryNotFoundError):
        _adapter(RecordedRegistries()).company("0000000001")


def test_adapter_requires_contact_address() -> None:
    with pytest.raises(ValueError, match="has no contact email address"):
        _adapter(RecordedRegistries(), user_agent="Cascade")


def test_adapter_forbidden_is_auth_error() -> None:
    def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=b"<html>Undeclared Automated Tool</html>")

    with pytest.raises(RegistryAuthError):
        _adapter(forbidden).company("320193")
