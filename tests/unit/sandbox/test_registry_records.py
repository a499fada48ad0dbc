"""Registry records behind the sandbox registries: recorded files, synthetic entries and request limits."""

from __future__ import annotations

import base64
import csv
import json
import re

import pytest

from infra.sandbox.directory import DEFAULT_SEED, Directory, default_directory
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.rate_limit import SlidingWindowLimit
from infra.sandbox.registry_records import (
    CODE_LIST_DIR,
    DATA_DIR,
    load_brreg_records,
    load_companies_house_records,
    load_gleif_records,
    load_sec_records,
)
from infra.sandbox.server import SandboxRequest, SandboxResponse
from infra.sandbox.vendors.companies_house import REQUESTS_PER_WINDOW, CompaniesHouseSandbox
from infra.sandbox.vendors.sec_edgar import REQUESTS_PER_SECOND, SecEdgarSandbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def code_list(name: str) -> set[str]:
    with (CODE_LIST_DIR / name).open(newline="", encoding="utf-8") as handle:
        return {row["SIC Code"] for row in csv.DictReader(handle)}


# Sliding window --------------------------------------------------------------------------------------------


def test_window_allows_limit_then_waits() -> None:
    clock = FakeClock()
    limit = SlidingWindowLimit(3, 10.0, clock)
    allowed = [limit.acquire("k") for _ in range(3)]
    clock.now += 4.2
    wait = limit.acquire("k")
    assert allowed == [None, None, None]
    assert wait == 6


def test_window_frees_slot_after_window() -> None:
    clock = FakeClock()
    limit = SlidingWindowLimit(1, 10.0, clock)
    assert limit.acquire() is None
    clock.now += 10.0
    assert limit.acquire() is None


def test_window_counts_keys_apart() -> None:
    limit = SlidingWindowLimit(1, 10.0, FakeClock())
    assert limit.acquire("a") is None
    assert limit.acquire("b") is None
    assert limit.acquire("a") == 10


def test_window_rejected_requests_not_counted() -> None:
    clock = FakeClock()
    limit = SlidingWindowLimit(1, 10.0, clock)
    limit.acquire()
    for _ in range(5):
        clock.now += 1.0
        limit.acquire()
    clock.now = 60.0
    assert limit.acquire() is None


@pytest.mark.parametrize(("count", "seconds"), [(0, 1.0), (1, 0.0), (-1, 5.0)])
def test_window_rejects_bad_settings(count: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="must both be positive"):
        SlidingWindowLimit(count, seconds)


# In-process pacing at the real limits ------------------------------------------------------------------------


def call_route(vendor: CompaniesHouseSandbox | SecEdgarSandbox, path: str, headers: dict[str, str]) -> SandboxResponse:
    for route in vendor.routes():
        params = route.match("GET", path)
        if params is not None:
            return route.handler(SandboxRequest("GET", path, {}, headers, b"", params))
    raise AssertionError(f"no route for {path}")


def test_companies_house_default_limit_600() -> None:
    clock = FakeClock()
    vendor = CompaniesHouseSandbox(default_directory(), clock=clock)
    key = SANDBOX_CREDENTIALS["companies_house"]["api_key"]
    headers = {"authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    statuses = [call_route(vendor, "/company/00445790", headers).status for _ in range(REQUESTS_PER_WINDOW)]
    throttled = call_route(vendor, "/company/00445790", headers)
    assert REQUESTS_PER_WINDOW == 600
    assert statuses == [200] * 600
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == "300"


def test_sec_default_limit_10_per_second() -> None:
    clock = FakeClock()
    vendor = SecEdgarSandbox(default_directory(), clock=clock)
    path = "/submissions/CIK0000789019.json"
    statuses = [call_route(vendor, path, {}).status for _ in range(REQUESTS_PER_SECOND + 1)]
    clock.now += 0.5
    still_throttled = call_route(vendor, path, {})
    clock.now += 0.5
    recovered = call_route(vendor, path, {})
    assert statuses == [200] * 10 + [429]
    assert still_throttled.status == 429
    assert recovered.status == 200


# SEC EDGAR --------------------------------------------------------------------------------------------------


def test_tickers_keep_recorded_prefix() -> None:
    recorded = (DATA_DIR / "sec" / "company_tickers.json").read_bytes().rstrip()
    records = load_sec_records(default_directory())
    assert records.tickers_body.startswith(recorded[:-1])
    assert records.tickers_body.endswith(b"}")


def test_tickers_list_only_listed_synthetic() -> None:
    records = load_sec_records(default_directory())
    rows = json.loads(records.tickers_body)
    recorded_count = len(json.loads((DATA_DIR / "sec" / "company_tickers.json").read_bytes()))
    appended = [rows[str(index)] for index in range(recorded_count, len(rows))]
    listed = {cik for cik, tickers in records.tickers.items() if tickers}
    assert {f"{row['cik_str']:010d}" for row in appended} == listed
    assert listed
    assert listed != records.synthetic_ciks
    assert all(isinstance(row["cik_str"], int) for row in appended)


def test_synthetic_tickers_unique() -> None:
    rows = json.loads(load_sec_records(default_directory()).tickers_body)
    tickers = [row["ticker"] for row in rows.values()]
    assert len(tickers) == len(set(tickers))


def test_synthetic_submissions_match_format() -> None:
    directory = default_directory()
    records = load_sec_records(directory)
    sec_codes = code_list("sec_sic_codes.csv")
    companies = {company.registry_ids.get("sec_cik"): company for company in directory.companies}
    for cik in records.synthetic_ciks:
        body = json.loads(records.submissions[cik])
        recent = body["filings"]["recent"]
        assert re.fullmatch(r"\d{10}", body["cik"]), cik
        assert body["name"] == companies[cik].legal_name
        assert body["sic"] in sec_codes, cik
        assert len({len(column) for column in recent.values()}) == 1, cik
        assert all(number.startswith(cik) for number in recent["accessionNumber"]), cik
        assert body["ownerOrg"] in {None, "06 Technology", "01 Energy & Transportation", "02 Finance"}, cik


def test_recorded_submissions_unchanged() -> None:
    records = load_sec_records(default_directory())
    for path in (DATA_DIR / "sec" / "submissions").glob("*.json"):
        assert records.submissions[path.stem.removeprefix("CIK")] == path.read_bytes()


# Companies House --------------------------------------------------------------------------------------------


def test_synthetic_profiles_use_uk_sic_2007() -> None:
    records = load_companies_house_records(default_directory())
    uk_codes = code_list("uk_sic_2007_ch_condensed.csv")
    for number in records.synthetic_numbers:
        profile = json.loads(records.profiles[number])
        if profile["type"] == "llp":
            assert "sic_codes" not in profile, number
        else:
            assert set(profile["sic_codes"]) <= uk_codes, number
            assert profile["sic_codes"], number


def test_synthetic_profile_field_formats() -> None:
    records = load_companies_house_records(default_directory())
    for number in records.synthetic_numbers:
        profile = json.loads(records.profiles[number])
        reference = profile["accounts"]["accounting_reference_date"]
        assert re.fullmatch(r"\d{2}", reference["day"]), number
        assert re.fullmatch(r"\d{2}", reference["month"]), number
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", profile["date_of_creation"]), number
        assert profile["links"]["self"] == f"/company/{number}"


def test_llp_profile_has_no_sic_codes() -> None:
    profile = json.loads(load_companies_house_records(default_directory()).profiles["99792808"])
    assert profile["type"] == "llp"
    assert "sic_codes" not in profile


def test_real_company_profile_from_gleif() -> None:
    profile = json.loads(load_companies_house_records(default_directory()).profiles["04366849"])
    assert profile["company_name"] == "SHELL PLC"
    assert profile["date_of_creation"] == "2002-02-05"
    assert profile["registered_office_address"]["postal_code"] == "SE1 7NA"


def test_dissolved_companies_dissolved() -> None:
    directory = default_directory()
    records = load_companies_house_records(directory)
    dissolved = [company for company in directory.companies if directory.is_dissolved(company)]
    assert dissolved
    for company in dissolved:
        profile = json.loads(records.profiles[company.registry_ids["uk_company_number"]])
        assert profile["company_status"] == "dissolved", company.name
        assert profile["date_of_cessation"], company.name


def test_search_items_cover_every_profile() -> None:
    records = load_companies_house_records(default_directory())
    numbers = {item["company_number"] for item in records.search_items}
    assert set(records.profiles) <= numbers
    assert all(item["kind"] == "searchresults#company" for item in records.search_items)


# GLEIF ------------------------------------------------------------------------------------------------------


def test_parent_files_serve_parent_leis() -> None:
    records = load_gleif_records(default_directory())
    for lei, name in (
        ("HWUPKR0MPOU8FGXBT394", "Apple Inc."),
        ("ZXTILKJKG63JELOEG630", "AMAZON.COM, INC."),
        ("2138002P5RNKC5W2JZ46", "TESCO PLC"),
    ):
        body = json.loads(records.record_bodies[lei])
        assert body["data"]["id"] == lei
        assert body["data"]["attributes"]["entity"]["legalName"]["name"] == name


def test_each_synthetic_lei_reports_both_levels() -> None:
    records = load_gleif_records(default_directory())
    for lei in records.synthetic_leis:
        for level in ("direct", "ultimate"):
            relationship = (lei, f"{level}-parent-relationship") in records.related
            exception = (lei, f"{level}-parent-reporting-exception") in records.related
            assert relationship != exception, (lei, level)


def test_synthetic_parents_are_known_records() -> None:
    records = load_gleif_records(default_directory())
    for parent, children in records.children.items():
        assert parent in records.synthetic_leis
        for child in children:
            relationship = json.loads(records.related[(child, "direct-parent-relationship")])
            assert relationship["data"]["attributes"]["relationship"]["endNode"]["id"] == parent
            assert records.related[(child, "direct-parent")] == records.record_bodies[parent]


def test_synthetic_records_name_register_number() -> None:
    records = load_gleif_records(default_directory())
    for lei in records.synthetic_leis:
        entity = records.resources[lei]["attributes"]["entity"]
        assert entity["registeredAs"], lei
        assert entity["registeredAt"]["id"] == "RA888888"


# Brønnøysund ------------------------------------------------------------------------------------------------


def test_brreg_capital_keeps_two_decimals() -> None:
    records = load_brreg_records(default_directory())
    for number in records.synthetic_numbers:
        assert re.search(rb'"belop":\d+\.\d{2},', records.bodies[number]), number


def test_brreg_recorded_entities_unchanged() -> None:
    records = load_brreg_records(default_directory())
    for path in (DATA_DIR / "brreg").glob("enhet_*.json"):
        assert records.bodies[path.stem.split("_")[1]] == path.read_bytes()


# Determinism ------------------------------------------------------------------------------------------------


def test_loads_equal_for_equal_directories() -> None:
    first, second = default_directory(), Directory.generate(DEFAULT_SEED)
    assert load_sec_records(first) == load_sec_records(second)
    assert load_companies_house_records(first) == load_companies_house_records(second)
    assert load_gleif_records(first) == load_gleif_records(second)
    assert load_brreg_records(first) == load_brreg_records(second)


def test_synthetic_entries_same_for_other_seed() -> None:
    # Companies are the same for every seed, and so are their registry entries; only officers follow the people.
    other = Directory.generate(DEFAULT_SEED + 1, people=200)
    assert load_sec_records(other) == load_sec_records(default_directory())
    assert load_brreg_records(other) == load_brreg_records(default_directory())
    assert load_companies_house_records(other).profiles == load_companies_house_records(default_directory()).profiles
