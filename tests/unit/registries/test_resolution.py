"""Resolution: name scoring with legal forms, search by country, identifiers and cross-links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cascade.registries import brreg, companies_house, gleif
from cascade.registries.brreg import Brreg
from cascade.registries.companies_house import CompaniesHouse, parse_profile
from cascade.registries.errors import RegistryUnavailableError
from cascade.registries.gleif import Gleif, parse_lei_record
from cascade.registries.models import (
    CompanyIdentifiers,
    CompanyQuery,
    CompanyStatus,
    MatchStatus,
    ParentLevel,
    ParentLink,
    Registry,
    Sourced,
)
from cascade.registries.resolution import (
    CompanyResolver,
    Deadline,
    Registries,
    Trace,
    domain_name,
    merge_companies,
    name_key,
    score_names,
)
from cascade.registries.sec import DATA_BASE_URL, TICKERS_BASE_URL, SecEdgar, parse_submissions
from tests.unit.registries.support import (
    CH_KEY,
    FETCHED_AT,
    RecordedRegistries,
    fixed_clock,
    load,
    recorded_client,
)

Handler = Callable[[httpx.Request], httpx.Response]


def _registries(handler: Handler) -> Registries:
    return Registries(
        sec=SecEdgar(
            recorded_client(Registry.SEC_EDGAR, TICKERS_BASE_URL, handler),
            recorded_client(Registry.SEC_EDGAR, DATA_BASE_URL, handler),
            user_agent="Cascade unit tests ops@cascade.invalid",
            clock=fixed_clock,
        ),
        companies_house=CompaniesHouse(
            recorded_client(Registry.COMPANIES_HOUSE, companies_house.BASE_URL, handler),
            api_key=CH_KEY,
            clock=fixed_clock,
        ),
        gleif=Gleif(recorded_client(Registry.GLEIF, gleif.BASE_URL, handler), clock=fixed_clock),
        brreg=Brreg(recorded_client(Registry.BRREG, brreg.BASE_URL, handler), clock=fixed_clock),
    )


def _resolve(query: CompanyQuery, handler: Handler | None = None) -> Any:
    return CompanyResolver(_registries(handler or RecordedRegistries())).resolve(query, Deadline(30))


def _lei(base: str) -> str:
    numeric = "".join(str(int(character, 36)) for character in base)
    return f"{base}{98 - int(numeric + '00') % 97:02d}"


class SyntheticGleif:
    """GLEIF list and record documents for invented companies, for name-matching cases."""

    def __init__(self, names: list[tuple[str, str]]) -> None:
        self.records = {
            _lei(f"ZZZZ00QUILL{index:07d}"): {
                "type": "lei-records",
                "id": _lei(f"ZZZZ00QUILL{index:07d}"),
                "attributes": {
                    "lei": _lei(f"ZZZZ00QUILL{index:07d}"),
                    "entity": {"legalName": {"name": name}, "status": "ACTIVE", "jurisdiction": country},
                    "registration": {"status": "ISSUED"},
                },
                "relationships": {},
            }
            for index, (name, country) in enumerate(names)
        }
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v1")
        if path == "/lei-records":
            return httpx.Response(200, json={"meta": {}, "links": {}, "data": list(self.records.values())})
        record = self.records.get(path.removeprefix("/lei-records/"))
        if record is None:
            return httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found"}]})
        return httpx.Response(200, json={"data": record})


@pytest.mark.parametrize(
    ("name", "match_key", "legal_form"),
    [
        ("Quillon Widgets Pty Limited", "quillon widgets", "Pty Ltd"),
        ("Brenner Fahrzeugteile GmbH & Co. KG", "brenner fahrzeugteile", "GmbH & Co. KG"),
        ("Quillon G M B H", "quillon", "GmbH"),
        ("TOYOTA MOTOR CORP/", "toyota motor", "Corp."),
        ("APPLE COMPUTER INC/ FA", "apple computer", "Inc."),
    ],
)
def test_name_key_legal_forms(name: str, match_key: str, legal_form: str) -> None:
    key = name_key(name)
    assert key.match_key == match_key
    assert key.legal_form == legal_form


@pytest.mark.parametrize("spelling", ["Tesco PLC", "TESCO P.L.C.", "Tesco public limited company", "tesco plc"])
def test_score_plc_spellings(spelling: str) -> None:
    assert score_names(name_key(spelling), name_key("TESCO PLC")) == (1.0, "same name and legal form")


def test_score_compound_form_differs() -> None:
    score, reason = score_names(name_key("Brenner Fahrzeugteile GmbH & Co. KG"), name_key("Brenner Fahrzeugteile GmbH"))
    assert score == 0.8
    assert "GmbH" in reason


def test_score_spaced_gmbh() -> None:
    assert score_names(name_key("Quillon G M B H"), name_key("QUILLON GMBH"))[0] == 1.0


def test_score_pty_limited() -> None:
    assert score_names(name_key("Quillon Widgets Pty Limited"), name_key("QUILLON WIDGETS PTY LTD"))[0] == 1.0


def test_score_missing_form() -> None:
    assert score_names(name_key("Tesco"), name_key("TESCO PLC"))[0] == 0.95


def test_score_fuzzy_below_exact() -> None:
    score, reason = score_names(name_key("Tesco"), name_key("TESCO AQUA (FINCO2) LIMITED"))
    assert 0 < score < 0.75
    assert reason.startswith("similar name")


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("farrowby-logistics.co.uk", ("farrowby logistics", "GB")),
        ("https://www.equinor.no/en", ("equinor", "NO")),
        ("apple.com", ("apple", None)),
        ("gmail.com", None),
    ],
)
def test_domain_name(domain: str, expected: tuple[str, str | None] | None) -> None:
    assert domain_name(domain) == expected


@pytest.mark.parametrize("spelling", ["Tesco PLC", "TESCO P.L.C.", "Tesco public limited company"])
def test_resolve_tesco_spellings(spelling: str) -> None:
    match = _resolve(CompanyQuery(name=spelling, country="GB"))
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.legal_name.value == "TESCO PLC"
    assert match.company.legal_name.source is Registry.COMPANIES_HOUSE
    assert match.company.identifiers.uk_company_number == "00445790"
    assert match.company.identifiers.lei == "2138002P5RNKC5W2JZ46"
    assert match.candidates[0].score == 1.0


def test_resolve_case_three_names() -> None:
    handler = SyntheticGleif(
        [
            ("Quillon Widgets Pty Ltd", "AU"),
            ("Brenner Fahrzeugteile GmbH", "DE"),
            ("Brenner Fahrzeugteile GmbH & Co. KG", "DE"),
            ("Quillon GmbH", "DE"),
        ]
    )
    expected = {
        "Quillon Widgets Pty Limited": "Quillon Widgets Pty Ltd",
        "Brenner Fahrzeugteile GmbH & Co. KG": "Brenner Fahrzeugteile GmbH & Co. KG",
        "Quillon G M B H": "Quillon GmbH",
    }
    for name, legal_name in expected.items():
        match = _resolve(CompanyQuery(name=name), handler)
        assert match.status is MatchStatus.RESOLVED, name
        assert match.company is not None
        assert match.company.legal_name.value == legal_name


def test_resolve_ambiguous_candidates() -> None:
    handler = SyntheticGleif([("Quillon Widgets GmbH", "DE"), ("Quillon Widgets AG", "DE"), ("Farrowby Ltd", "GB")])
    match = _resolve(CompanyQuery(name="Quillon Widgets", country="DE"), handler)
    assert match.status is MatchStatus.AMBIGUOUS
    assert match.company is None
    assert [candidate.legal_name for candidate in match.candidates] == ["Quillon Widgets GmbH", "Quillon Widgets AG"]
    assert all(candidate.score == 0.95 for candidate in match.candidates)
    assert all(candidate.registry is Registry.GLEIF for candidate in match.candidates)
    assert all(candidate.identifiers.lei for candidate in match.candidates)
    params = handler.requests[0].url.params
    assert params["filter[entity.jurisdiction]"] == "DE"


def test_resolve_not_found() -> None:
    match = _resolve(CompanyQuery(name="Kettleby Nowhere Holdings", country="GB"))
    assert match.status is MatchStatus.NOT_FOUND
    assert match.candidates == []


def test_resolve_domain_us() -> None:
    match = _resolve(CompanyQuery(domain="https://www.apple.com", country="US"))
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.identifiers.sec_cik == "0000320193"
    assert match.candidates[0].score == pytest.approx(0.95 * 0.95)
    assert any("derived from the domain" in note for note in match.notes)


def test_resolve_name_norway() -> None:
    match = _resolve(CompanyQuery(name="Equinor ASA", country="NO"))
    assert match.status is MatchStatus.RESOLVED
    assert match.company is not None
    assert match.company.identifiers.no_org_number == "923609016"
    assert match.company.legal_name.source is Registry.BRREG


def test_resolve_free_mail_domain() -> None:
    match = _resolve(CompanyQuery(domain="gmail.com"))
    assert match.status is MatchStatus.NOT_FOUND
    assert any("not a company domain" in note for note in match.notes)


def test_identifier_uk_cross_links_gleif() -> None:
    match = _resolve(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="445790")))
    assert match.status is MatchStatus.RESOLVED
    company = match.company
    assert company is not None
    assert company.legal_name.source is Registry.COMPANIES_HOUSE
    assert company.identifiers.lei == "2138002P5RNKC5W2JZ46"
    assert company.industry_codes is not None
    assert company.industry_codes.source is Registry.COMPANIES_HOUSE
    assert company.officers is not None
    assert company.officers.value.total_results == 74
    assert company.officers.value.active_count == 11


def test_identifier_lei_cross_links_companies_house() -> None:
    handler = RecordedRegistries()
    match = _resolve(CompanyQuery(identifiers=CompanyIdentifiers(lei="254900LNRYNOQ9YPU758")), handler)
    company = match.company
    assert company is not None
    assert company.identifiers.uk_company_number == "06528297"
    # No Companies House record for this number is recorded, so GLEIF's facts stand alone.
    assert company.legal_name.source is Registry.GLEIF
    assert any("companies_house has no record" in note for note in match.notes)
    assert any(request.url.path == "/company/06528297" for request in handler.requests)
    assert company.parents is not None
    assert {link.exception_reason or link.lei for link in company.parents.value} == {
        "NON_PUBLIC",
        "ZXTILKJKG63JELOEG630",
    }


def test_identifier_cik() -> None:
    match = _resolve(CompanyQuery(identifiers=CompanyIdentifiers(sec_cik=1326801)))
    assert match.company is not None
    assert match.company.legal_name.value == "Meta Platforms, Inc."


def test_identifier_unknown() -> None:
    match = _resolve(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="99999998")))
    assert match.status is MatchStatus.NOT_FOUND
    assert any("has no record" in note for note in match.notes)


def test_identifier_psc_parent_without_lei() -> None:
    recorded = RecordedRegistries()

    def handler(request: httpx.Request) -> httpx.Response:
        # The recorded PSC list belongs to 03977902, whose profile is not recorded: serve another
        # recorded profile under that number.
        if request.url.path == "/company/03977902":
            profile = load("companies_house/company-profile_09446231_monzo-bank-ltd.json")
            profile.update(company_number="03977902", company_name="GOOGLE UK LIMITED")
            return httpx.Response(200, json=profile)
        return recorded(request)

    match = _resolve(CompanyQuery(identifiers=CompanyIdentifiers(uk_company_number="03977902")), handler)
    company = match.company
    assert company is not None
    assert company.identifiers.lei is None
    assert company.parents is not None
    assert company.parents.source is Registry.COMPANIES_HOUSE
    [parent] = company.parents.value
    assert parent.legal_name == "Alphabet, Inc."
    assert parent.relationship_type == "PERSON_WITH_SIGNIFICANT_CONTROL"
    assert company.controlling_entities is not None
    assert company.controlling_entities.value[0].registration_number == "5786925"


def test_failures_collected_in_trace() -> None:
    def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    trace = Trace()
    resolver = CompanyResolver(_registries(unavailable))
    with pytest.raises(RegistryUnavailableError, match="HTTP 503"):
        resolver.resolve(CompanyQuery(name="Tesco", country="GB"), Deadline(30), trace)
    assert len(trace.failures) == 2


def test_deadline_exhausted() -> None:
    ticks = iter([0.0, 10.0])
    deadline = Deadline(5, monotonic=lambda: next(ticks))
    with pytest.raises(RegistryUnavailableError, match="time budget ran out"):
        deadline.check(Registry.GLEIF)


def test_merge_prefers_gleif_parents() -> None:
    national = parse_profile(load("companies_house/company-profile_09446231_monzo-bank-ltd.json"), FETCHED_AT)
    psc_parent = ParentLink(level=ParentLevel.DIRECT, legal_name="Holding Ltd", relationship_type="PSC")
    national = national.model_copy(
        update={"parents": Sourced(value=[psc_parent], source=Registry.COMPANIES_HOUSE, fetched_at=FETCHED_AT)}
    )
    gleif_record = parse_lei_record(load("gleif/lei-record_549300YX4S1LLSMK2627_apple-energy.json")["data"], FETCHED_AT)
    gleif_parent = ParentLink(level=ParentLevel.ULTIMATE, lei="HWUPKR0MPOU8FGXBT394")
    gleif_record = gleif_record.model_copy(
        update={"parents": Sourced(value=[gleif_parent], source=Registry.GLEIF, fetched_at=FETCHED_AT)}
    )
    merged = merge_companies(national, gleif_record)
    assert merged.legal_name.value == "MONZO BANK LIMITED"
    assert merged.identifiers.uk_company_number == "09446231"
    assert merged.identifiers.lei == "549300YX4S1LLSMK2627"
    assert merged.parents is not None
    assert merged.parents.value == [gleif_parent]
    assert merged.industry_codes is not None
    assert merged.industry_codes.source is Registry.COMPANIES_HOUSE
    assert merged.legal_form is not None
    assert merged.legal_form.source is Registry.COMPANIES_HOUSE


def test_merge_fills_unknown_status() -> None:
    sec_company = parse_submissions(load("sec/submissions/CIK0001306965.json"), FETCHED_AT)
    gleif_company = parse_lei_record(load("gleif/lei-record_21380068P1DRHMJ8KU70_shell.json")["data"], FETCHED_AT)
    merged = merge_companies(sec_company, gleif_company)
    assert merged.status.value is CompanyStatus.ACTIVE
    assert merged.status.source is Registry.GLEIF
    assert merged.identifiers.sec_cik == "0001306965"
    assert merged.identifiers.uk_company_number == "04366849"
    assert merged.incorporation_date is not None
    assert merged.incorporation_date.source is Registry.GLEIF
