"""The sandbox's government registries over real HTTP: SEC EDGAR, Companies House, GLEIF and brreg."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.sandbox.app import registry_apis, vendor_apis
from infra.sandbox.directory import DEFAULT_SEED, Directory, default_directory
from infra.sandbox.faults import FaultKind
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.registry_records import DATA_DIR
from infra.sandbox.server import RunningSandbox, VendorApi, running
from infra.sandbox.vendors.brreg import BrregSandbox
from infra.sandbox.vendors.companies_house import CompaniesHouseSandbox
from infra.sandbox.vendors.gleif import GleifSandbox
from infra.sandbox.vendors.sec_edgar import SecEdgarSandbox

SEC_HEADERS = {"User-Agent": "Cascade tests ops@cascade.invalid"}
CH_KEY = SANDBOX_CREDENTIALS["companies_house"]["api_key"]
CH_AUTH = (CH_KEY, "")
GLEIF_NOT_FOUND = {"errors": [{"status": "404", "title": "Not Found"}]}


class FakeClock:
    """A clock that moves only when a test advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def registry_vendors(directory: Directory, clock: FakeClock | None = None) -> list[VendorApi]:
    frozen = clock or FakeClock()
    return [
        SecEdgarSandbox(directory, clock=frozen),
        CompaniesHouseSandbox(directory, clock=frozen),
        GleifSandbox(directory),
        BrregSandbox(directory),
    ]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # A fake clock that never moves would throttle SEC after 10 calls, so this one advances on every read.
    class TickingClock(FakeClock):
        def __call__(self) -> float:
            self.now += 1.0
            return self.now

    with running(registry_vendors(default_directory(), TickingClock())) as started:
        yield started


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    sandbox.state.faults.reset()
    with httpx.Client(base_url=sandbox.url, timeout=10) as http:
        yield http
    sandbox.state.faults.reset()


# Recorded files ------------------------------------------------------------------------------------------------


def recorded_request(path: Path) -> tuple[str, dict[str, str]]:
    """Return the sandbox path and query whose response the recorded file is."""
    registry = path.relative_to(DATA_DIR).parts[0]
    kind, _, rest = path.stem.partition("_")
    key = rest.split("_")[0]
    if registry == "sec":
        if path.name == "company_tickers.json":
            return "/sec_edgar/files/company_tickers.json", {}
        return f"/sec_edgar/submissions/{path.name}", {}
    if registry == "brreg":
        return f"/brreg/enheter/{key}", {}
    if registry == "gleif":
        if kind == "lei-record":
            return f"/gleif/lei-records/{key}", {}
        if kind == "lei-records":
            number = key.rsplit("-", 1)[1]
            return "/gleif/lei-records", {"filter[entity.jurisdiction]": "GB", "filter[entity.registeredAs]": number}
        return f"/gleif/lei-records/{key}/{kind}", {}
    ch_paths = {
        "company-profile": "",
        "officers": "/officers",
        "psc": "/persons-with-significant-control",
        "psc-statements": "/persons-with-significant-control-statements",
        "exemptions": "/exemptions",
    }
    if kind == "search-companies":
        query = "tesco" if key == "q-tesco" else "zzqx-no-such-company"
        return "/companies_house/search/companies", {"q": query, "items_per_page": "3"}
    return f"/companies_house/company/{key}{ch_paths[kind]}", {}


SERVED_FILES = sorted(
    path
    for path in DATA_DIR.rglob("*.json")
    if path.name != "company_tickers.json" and not path.name.startswith("error-")
)


@pytest.mark.parametrize("path", SERVED_FILES, ids=lambda path: str(path.relative_to(DATA_DIR)))
def test_recorded_file_served_verbatim(client: httpx.Client, path: Path) -> None:
    url, query = recorded_request(path)
    reply = client.get(url, params=query, headers=SEC_HEADERS, auth=CH_AUTH)
    assert reply.status_code == 200
    assert reply.json() == json.loads(path.read_bytes())
    if "no-results" not in path.name:
        assert reply.content == path.read_bytes()


def test_company_tickers_keep_recorded_rows(client: httpx.Client) -> None:
    recorded_bytes = (DATA_DIR / "sec" / "company_tickers.json").read_bytes()
    recorded = json.loads(recorded_bytes)
    reply = client.get("/sec_edgar/files/company_tickers.json", headers=SEC_HEADERS)
    served = reply.json()
    assert reply.status_code == 200
    assert reply.content[: len(recorded_bytes.rstrip()) - 1] == recorded_bytes.rstrip()[:-1]
    assert {key: served[key] for key in recorded} == recorded
    assert len(served) > len(recorded)


# Authentication -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_agent", ["", "python-httpx/0.28", "Cascade contact enrichment"])
def test_sec_undeclared_tool_gets_403(client: httpx.Client, user_agent: str) -> None:
    reply = client.get("/sec_edgar/submissions/CIK0000320193.json", headers={"User-Agent": user_agent})
    assert reply.status_code == 403
    assert "Undeclared Automated Tool" in reply.text


@pytest.mark.parametrize(
    "auth",
    [None, ("wrong-key", ""), (CH_KEY, "a-password"), ("", "")],
    ids=["missing", "wrong-key", "with-password", "empty"],
)
def test_companies_house_bad_key_gets_recorded_401(client: httpx.Client, auth: tuple[str, str] | None) -> None:
    recorded = (DATA_DIR / "companies_house" / "error-401_invalid-authorization.json").read_bytes()
    reply = client.get("/companies_house/company/00445790", auth=auth)
    assert reply.status_code == 401
    assert reply.content == recorded


def test_companies_house_bearer_token_rejected(client: httpx.Client) -> None:
    reply = client.get("/companies_house/company/00445790", headers={"Authorization": f"Bearer {CH_KEY}"})
    assert reply.status_code == 401


def test_companies_house_lower_case_number_found(client: httpx.Client) -> None:
    reply = client.get("/companies_house/company/sc090312", auth=CH_AUTH)
    assert reply.status_code == 200
    assert reply.json()["company_number"] == "SC090312"


# Unknown ids --------------------------------------------------------------------------------------------------


def test_sec_unknown_cik_gets_no_such_key(client: httpx.Client) -> None:
    reply = client.get("/sec_edgar/submissions/CIK0000000001.json", headers=SEC_HEADERS)
    assert reply.status_code == 404
    assert "<Code>NoSuchKey</Code>" in reply.text
    assert reply.headers["content-type"] == "application/xml"


def test_sec_unpadded_cik_not_found(client: httpx.Client) -> None:
    reply = client.get("/sec_edgar/submissions/CIK320193.json", headers=SEC_HEADERS)
    assert reply.status_code == 404


def test_companies_house_unknown_number_404_shape(client: httpx.Client) -> None:
    recorded = json.loads((DATA_DIR / "companies_house" / "error-404_company-profile-not-found.json").read_bytes())
    reply = client.get("/companies_house/company/99999999", auth=CH_AUTH)
    body = reply.json()
    assert reply.status_code == 404
    assert set(body) == set(recorded)
    assert body["message"] == recorded["message"]


def test_companies_house_unrecorded_officers_404(client: httpx.Client) -> None:
    reply = client.get("/companies_house/company/99999999/officers", auth=CH_AUTH)
    assert reply.status_code == 404
    assert "company officers 99999999" in reply.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/gleif/lei-records/ZZZZ00000000000000XX",
        "/gleif/lei-records/ZZZZ00000000000000XX/direct-parent",
        "/gleif/lei-records/ZZZZ00000000000000XX/direct-children",
        "/gleif/lei-records/INR2EJN1ERAN0W5ZP974/direct-parent",
    ],
)
def test_gleif_unknown_gets_json_api_404(client: httpx.Client, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 404
    assert reply.json() == GLEIF_NOT_FOUND
    assert reply.headers["content-type"] == "application/vnd.api+json"


def test_brreg_unknown_number_404_shape(client: httpx.Client) -> None:
    reply = client.get("/brreg/enheter/123456789")
    body = reply.json()
    assert reply.status_code == 404
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert body["status"] == 404
    assert body["path"] == "/enhetsregisteret/api/enheter/123456789"


# Search -------------------------------------------------------------------------------------------------------


def test_companies_house_search_finds_synthetic(client: httpx.Client) -> None:
    reply = client.get("/companies_house/search/companies", params={"q": "farrowby"}, auth=CH_AUTH)
    body = reply.json()
    assert reply.status_code == 200
    assert [item["company_number"] for item in body["items"]] == ["99031625"]
    assert body["items"][0]["title"] == "FARROWBY LOGISTICS LTD"
    assert body["total_results"] == 1


def test_companies_house_search_finds_recorded(client: httpx.Client) -> None:
    reply = client.get("/companies_house/search/companies", params={"q": "Deloitte"}, auth=CH_AUTH)
    assert [item["company_number"] for item in reply.json()["items"]] == ["OC303675"]


def test_companies_house_search_pages(client: httpx.Client) -> None:
    pages = [
        client.get(
            "/companies_house/search/companies",
            params={"q": "limited", "items_per_page": "1", "start_index": str(start)},
            auth=CH_AUTH,
        ).json()
        for start in range(3)
    ]
    numbers = [page["items"][0]["company_number"] for page in pages]
    assert pages[0]["total_results"] >= 3
    assert len(set(numbers)) == 3
    assert [page["page_number"] for page in pages] == [1, 2, 3]


def test_companies_house_search_zero_hits(client: httpx.Client) -> None:
    reply = client.get("/companies_house/search/companies", params={"q": "zzqx"}, auth=CH_AUTH)
    body = reply.json()
    assert reply.status_code == 200
    assert body["items"] == []
    assert body["total_results"] == 0


def test_companies_house_search_requires_q(client: httpx.Client) -> None:
    reply = client.get("/companies_house/search/companies", auth=CH_AUTH)
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["location"] == "q"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[entity.legalName]": "lindmoor"}, "Lindmoor Software AG"),
        ({"filter[fulltext]": "royal dutch"}, "SHELL PLC"),
        ({"filter[entity.registeredAs]": "04366849"}, "SHELL PLC"),
        ({"filter[entity.registeredAs]": "600413485"}, "MICROSOFT CORPORATION"),
        ({"filter[entity.registeredAs]": "00445790", "page[size]": "5"}, "TESCO PLC"),
    ],
)
def test_gleif_filter_finds_record(client: httpx.Client, params: dict[str, str], expected: str) -> None:
    reply = client.get("/gleif/lei-records", params=params)
    names = [record["attributes"]["entity"]["legalName"]["name"] for record in reply.json()["data"]]
    assert reply.status_code == 200
    assert expected in names


def test_gleif_filter_zero_hits(client: httpx.Client) -> None:
    reply = client.get("/gleif/lei-records", params={"filter[entity.legalName]": "zzqx"})
    body = reply.json()
    assert reply.status_code == 200
    assert body["data"] == []
    assert body["meta"]["pagination"]["total"] == 0
    assert "next" not in body["links"]


def test_gleif_unknown_filter_rejected(client: httpx.Client) -> None:
    reply = client.get("/gleif/lei-records", params={"filter[entity.name]": "x"})
    assert reply.status_code == 400
    assert "filter[entity.name]" in reply.json()["errors"][0]["detail"]


def test_brreg_search_hits(client: httpx.Client) -> None:
    reply = client.get("/brreg/enheter", params={"navn": "equinor"})
    body = reply.json()
    assert reply.status_code == 200
    assert [entity["organisasjonsnummer"] for entity in body["_embedded"]["enheter"]] == ["923609016"]
    assert body["page"] == {"size": 20, "totalElements": 1, "totalPages": 1, "number": 0}


def test_brreg_search_finds_synthetic(client: httpx.Client) -> None:
    reply = client.get("/brreg/enheter", params={"navn": "skarholt"})
    assert [entity["navn"] for entity in reply.json()["_embedded"]["enheter"]] == ["SKARHOLT DATA AS"]


def test_brreg_search_zero_hits(client: httpx.Client) -> None:
    reply = client.get("/brreg/enheter", params={"navn": "zzqx"})
    body = reply.json()
    assert reply.status_code == 200
    assert "_embedded" not in body
    assert body["page"]["totalElements"] == 0


def test_brreg_search_pages_follow_links(client: httpx.Client) -> None:
    first = client.get("/brreg/enheter", params={"navn": "as", "size": "2"}).json()
    second = client.get(first["_links"]["next"]["href"]).json()
    first_numbers = {entity["organisasjonsnummer"] for entity in first["_embedded"]["enheter"]}
    second_numbers = {entity["organisasjonsnummer"] for entity in second["_embedded"]["enheter"]}
    assert second["page"]["number"] == 1
    assert first_numbers.isdisjoint(second_numbers)


# GLEIF pagination ---------------------------------------------------------------------------------------------


def test_gleif_pagination_links_walk_all_pages(sandbox: RunningSandbox, client: httpx.Client) -> None:
    first = client.get("/gleif/lei-records", params={"filter[entity.jurisdiction]": "DE", "page[size]": "2"}).json()
    pagination = first["meta"]["pagination"]
    assert pagination["currentPage"] == 1
    assert pagination["perPage"] == 2
    assert pagination["lastPage"] == -(-pagination["total"] // 2)
    assert "prev" not in first["links"]
    seen = [record["id"] for record in first["data"]]
    page = first
    while "next" in page["links"]:
        assert page["links"]["next"].startswith(f"{sandbox.url}/gleif/lei-records?")
        page = client.get(page["links"]["next"]).json()
        assert "prev" in page["links"]
        seen.extend(record["id"] for record in page["data"])
    assert page["meta"]["pagination"]["currentPage"] == pagination["lastPage"]
    assert page["links"]["last"] == first["links"]["last"]
    assert len(seen) == pagination["total"]
    assert len(set(seen)) == len(seen)


def test_gleif_bad_page_size_rejected(client: httpx.Client) -> None:
    reply = client.get("/gleif/lei-records", params={"page[size]": "0"})
    assert reply.status_code == 400


def test_gleif_recorded_children_other_page_missing(client: httpx.Client) -> None:
    reply = client.get("/gleif/lei-records/21380068P1DRHMJ8KU70/direct-children", params={"page[number]": "2"})
    assert reply.status_code == 404


# Synthetic entries against the directory ---------------------------------------------------------------------


def test_every_sec_cik_served(client: httpx.Client) -> None:
    tickers = client.get("/sec_edgar/files/company_tickers.json", headers=SEC_HEADERS).json()
    listed = {row["cik_str"] for row in tickers.values()}
    for company in default_directory().companies:
        cik = company.registry_ids.get("sec_cik")
        if cik is None:
            continue
        reply = client.get(f"/sec_edgar/submissions/CIK{cik}.json", headers=SEC_HEADERS)
        body = reply.json()
        assert reply.status_code == 200, company.name
        assert body["cik"] == cik
        if company.synthetic:
            assert body["name"] == company.legal_name
            assert (int(cik) in listed) == bool(body["tickers"]), company.name
            recent = body["filings"]["recent"]
            assert len({len(column) for column in recent.values()}) == 1, company.name


def test_every_uk_number_served(client: httpx.Client) -> None:
    directory = default_directory()
    for company in directory.companies:
        number = company.registry_ids.get("uk_company_number")
        if number is None:
            continue
        reply = client.get(f"/companies_house/company/{number}", auth=CH_AUTH)
        body = reply.json()
        assert reply.status_code == 200, company.name
        assert body["company_number"] == number
        assert (body["company_status"] == "dissolved") == directory.is_dissolved(company), company.name
        if company.synthetic:
            assert body["company_name"] == company.legal_name.upper()


def test_synthetic_officers_are_directory_people(client: httpx.Client) -> None:
    directory = default_directory()
    company = next(
        company for company in directory.companies if company.registry_ids.get("uk_company_number") == "99891624"
    )
    reply = client.get("/companies_house/company/99891624/officers", auth=CH_AUTH)
    names = {item["name"] for item in reply.json()["items"]}
    expected = {
        f"{person.last_name.upper()}, {person.first_name}"
        for person in directory.people
        if person.company.id == company.id and person.seniority == "c_level"
    }
    assert reply.status_code == 200
    assert names
    assert names <= expected


def test_every_lei_served(client: httpx.Client) -> None:
    for company in default_directory().companies:
        lei = company.registry_ids.get("lei")
        if lei is None:
            continue
        reply = client.get(f"/gleif/lei-records/{lei}")
        body = reply.json()
        assert reply.status_code == 200, company.name
        assert body["data"]["id"] == lei
        if company.synthetic:
            entity = body["data"]["attributes"]["entity"]
            assert entity["legalName"]["name"] == company.legal_name
            assert entity["jurisdiction"] == company.country
            assert entity["registeredAs"]


def test_gleif_synthetic_parents_and_exceptions(client: httpx.Client) -> None:
    leis = {company.registry_ids["lei"] for company in default_directory().companies if "lei" in company.registry_ids}
    synthetic = sorted(lei for lei in leis if lei.startswith("ZZZZ"))
    parents: dict[str, str] = {}
    exceptions = 0
    for lei in synthetic:
        relationship = client.get(f"/gleif/lei-records/{lei}/direct-parent-relationship")
        exception = client.get(f"/gleif/lei-records/{lei}/direct-parent-reporting-exception")
        assert (relationship.status_code == 200) != (exception.status_code == 200), lei
        if relationship.status_code == 200:
            parent = relationship.json()["data"]["attributes"]["relationship"]["endNode"]["id"]
            parents[lei] = parent
            parent_record = client.get(f"/gleif/lei-records/{lei}/direct-parent").json()
            assert parent_record["data"]["id"] == parent
        else:
            exceptions += 1
            assert exception.json()["data"]["attributes"]["reason"]
    assert parents
    assert exceptions
    assert set(parents.values()) <= leis
    for parent in set(parents.values()):
        children = client.get(f"/gleif/lei-records/{parent}/direct-children", params={"page[size]": "200"}).json()
        assert {record["id"] for record in children["data"]} == {child for child, of in parents.items() if of == parent}


def test_every_norwegian_number_served(client: httpx.Client) -> None:
    for company in default_directory().companies:
        number = company.registry_ids.get("no_org_number")
        if number is None:
            continue
        reply = client.get(f"/brreg/enheter/{number}")
        body = reply.json()
        assert reply.status_code == 200, company.name
        assert body["organisasjonsnummer"] == number
        if company.synthetic:
            assert body["navn"] == company.legal_name.upper()
            assert body["organisasjonsform"]["kode"] in {"AS", "ASA"}
            assert body["naeringskode1"]["beskrivelse"]


# Pacing -------------------------------------------------------------------------------------------------------


def test_sec_eleventh_request_in_second_gets_429() -> None:
    clock = FakeClock()
    with running([SecEdgarSandbox(default_directory(), clock=clock)]) as sandbox, httpx.Client() as http:
        url = f"{sandbox.base_url('sec_edgar')}/submissions/CIK0000320193.json"
        statuses = [http.get(url, headers=SEC_HEADERS).status_code for _ in range(11)]
        throttled = http.get(url, headers=SEC_HEADERS)
        clock.now += 1.0
        recovered = http.get(url, headers=SEC_HEADERS)
    assert statuses == [200] * 10 + [429]
    assert throttled.headers["retry-after"] == "1"
    assert recovered.status_code == 200


def test_companies_house_request_past_window_gets_429() -> None:
    # The default of 600 requests per 5 minutes is checked in-process in the unit tests; HTTP uses a smaller limit.
    clock = FakeClock()
    vendor = CompaniesHouseSandbox(default_directory(), clock=clock, requests_per_window=4)
    with running([vendor]) as sandbox, httpx.Client() as http:
        url = f"{sandbox.base_url('companies_house')}/company/00445790"
        statuses = [http.get(url, auth=CH_AUTH).status_code for _ in range(4)]
        clock.now += 100
        throttled = http.get(url, auth=CH_AUTH)
        clock.now += 200
        recovered = http.get(url, auth=CH_AUTH)
    assert statuses == [200] * 4
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "200"
    assert throttled.json()["type"] == "ch:service"
    assert recovered.status_code == 200


def test_companies_house_bad_keys_not_counted() -> None:
    clock = FakeClock()
    vendor = CompaniesHouseSandbox(default_directory(), clock=clock, requests_per_window=2)
    with running([vendor]) as sandbox, httpx.Client() as http:
        url = f"{sandbox.base_url('companies_house')}/company/00445790"
        rejected = [http.get(url, auth=("wrong-key", "")).status_code for _ in range(3)]
        accepted = [http.get(url, auth=CH_AUTH).status_code for _ in range(3)]
    assert rejected == [401, 401, 401]
    assert accepted == [200, 200, 429]


# Faults and determinism ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("sec_edgar", "/submissions/CIK0000320193.json"),
        ("companies_house", "/company/00445790"),
        ("gleif", "/lei-records/INR2EJN1ERAN0W5ZP974"),
        ("brreg", "/enheter/923609016"),
    ],
)
def test_registry_fault_switches_apply(sandbox: RunningSandbox, client: httpx.Client, provider: str, path: str) -> None:
    sandbox.state.faults.force(provider, FaultKind.THROTTLED, FaultKind.UNAVAILABLE, FaultKind.MALFORMED)
    throttled = client.get(f"/{provider}{path}", headers=SEC_HEADERS, auth=CH_AUTH)
    unavailable = client.get(f"/{provider}{path}", headers=SEC_HEADERS, auth=CH_AUTH)
    malformed = client.get(f"/{provider}{path}", headers=SEC_HEADERS, auth=CH_AUTH)
    normal = client.get(f"/{provider}{path}", headers=SEC_HEADERS, auth=CH_AUTH)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert unavailable.status_code == 503
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.content)
    assert normal.status_code == 200


def synthetic_paths(directory: Directory) -> list[str]:
    """Return one path per synthetic entry kind; the unit tests compare every synthetic entry."""
    companies = [company for company in directory.companies if company.synthetic]
    cik = next(company.registry_ids["sec_cik"] for company in companies if "sec_cik" in company.registry_ids)
    uk = next(
        company.registry_ids["uk_company_number"]
        for company in companies
        if "uk_company_number" in company.registry_ids
    )
    lei = next(company.registry_ids["lei"] for company in companies if "lei" in company.registry_ids)
    norwegian = next(
        company.registry_ids["no_org_number"] for company in companies if "no_org_number" in company.registry_ids
    )
    return [
        "/sec_edgar/files/company_tickers.json",
        f"/sec_edgar/submissions/CIK{cik}.json",
        f"/companies_house/company/{uk}",
        f"/companies_house/company/{uk}/officers",
        "/companies_house/search/companies?q=ltd",
        f"/gleif/lei-records/{lei}",
        "/gleif/lei-records?filter[entity.jurisdiction]=FR",
        f"/brreg/enheter/{norwegian}",
    ]


def test_synthetic_entries_same_across_starts() -> None:
    bodies: list[dict[str, tuple[int, bytes]]] = []
    for _ in range(2):
        directory = Directory.generate(DEFAULT_SEED)
        with running(registry_vendors(directory)) as sandbox, httpx.Client(base_url=sandbox.url) as http:
            replies = {path: http.get(path, headers=SEC_HEADERS, auth=CH_AUTH) for path in synthetic_paths(directory)}
            # Pagination links name the sandbox's own address, and each start picks a new port.
            own_address = sandbox.url.encode()
            bodies.append(
                {path: (reply.status_code, reply.content.replace(own_address, b"")) for path, reply in replies.items()}
            )
    assert bodies[0] == bodies[1]
    assert {status for status, _ in bodies[0].values()} == {200}


def test_full_sandbox_mounts_registries() -> None:
    directory = default_directory()
    registries = {vendor.provider for vendor in registry_apis(directory)}
    mounted = {vendor.provider for vendor in vendor_apis(directory)}
    assert registries == {"sec_edgar", "companies_house", "gleif", "brreg"}
    assert registries <= mounted
