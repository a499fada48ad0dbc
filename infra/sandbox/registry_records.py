"""Recorded and synthetic government-registry responses that the sandbox registries serve.

Recorded responses are loaded from ``infra/sandbox/data/registries`` and kept as the file's bytes, so a
vendor can serve them byte for byte. Every directory company that has a registry id but no recorded
response gets a synthetic entry in that registry's wire format. Synthetic values are drawn from SHA-256
digests of the registry id, so two loads of the same directory give identical bytes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson

DATA_DIR: Final = Path(__file__).resolve().parent / "data" / "registries"
CODE_LIST_DIR: Final = Path(__file__).resolve().parents[2] / "functions" / "cascade" / "registries" / "data"

GLEIF_BASE_URL: Final = "https://api.gleif.org/api/v1"
BRREG_BASE_URL: Final = "https://data.brreg.no/enhetsregisteret/api"
# The golden-copy date that synthetic GLEIF records carry, equal to most of the recorded ones.
GLEIF_PUBLISH_DATE: Final = "2025-05-15T00:00:00Z"

Json = dict[str, Any]
_T = TypeVar("_T")


def draw(*parts: object) -> int:
    """Return a stable non-negative integer for ``parts``, the same in every process (unlike ``hash``)."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _pick(options: Sequence[_T], *parts: object) -> _T:
    return options[draw(*parts) % len(options)]


def _day(first: date, last: date, *parts: object) -> date:
    return first + timedelta(days=draw(*parts) % ((last - first).days + 1))


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _read(path: Path) -> bytes:
    return path.read_bytes()


# ----------------------------------------------------------------------------------------------------------------
# SEC EDGAR
# ----------------------------------------------------------------------------------------------------------------

# SEC SIC codes (from sec_sic_codes.csv) for the directory's industries.
_SEC_SIC_BY_INDUSTRY: Final = {
    "software": "7372",
    "logistics": "4731",
    "healthcare": "8000",
    "fintech": "6199",
    "manufacturing": "3540",
    "hardware": "3571",
}
# Synthetic filers with at least this many employees are listed on an exchange and have a ticker.
_LISTED_MIN_EMPLOYEES: Final = 200
_US_PLACES: Final = (
    ("DE", "WILMINGTON", "198"),
    ("CA", "SAN JOSE", "951"),
    ("NY", "ROCHESTER", "146"),
    ("TX", "AUSTIN", "787"),
    ("WA", "SPOKANE", "992"),
    ("MA", "WORCESTER", "016"),
    ("OH", "COLUMBUS", "432"),
)
_STREETS: Final = ("Larkspur", "Quarry", "Mill", "Harbour", "Foundry", "Orchard", "Chapel", "Meadow", "Tanner")


@dataclass(frozen=True)
class SecRecords:
    """EDGAR responses: the ticker list body and submissions bodies by 10-digit CIK."""

    tickers_body: bytes
    submissions: Mapping[str, bytes]
    synthetic_ciks: frozenset[str]
    tickers: Mapping[str, tuple[str, ...]]  # 10-digit CIK -> tickers of the synthetic filers


def load_sec_records(directory: Directory, data_dir: Path = DATA_DIR) -> SecRecords:
    """Load the recorded EDGAR files and add a synthetic filer for every directory CIK without one."""
    sec_dir = data_dir / "sec"
    recorded_tickers = _read(sec_dir / "company_tickers.json")
    rows: Mapping[str, Json] = json.loads(recorded_tickers)
    used_tickers = {str(row["ticker"]) for row in rows.values()}
    submissions = {path.stem.removeprefix("CIK"): _read(path) for path in sorted(sec_dir.glob("submissions/*.json"))}
    owner_orgs = _owner_orgs(submissions.values())
    sic_codes = _sec_sic_codes()

    synthetic: set[str] = set()
    tickers: dict[str, tuple[str, ...]] = {}
    appended: list[Json] = []
    for company in directory.companies:
        cik = company.registry_ids.get("sec_cik")
        if cik is None or cik in submissions:
            continue
        ticker = _ticker(company, used_tickers) if company.employees >= _LISTED_MIN_EMPLOYEES else None
        if ticker is not None:
            used_tickers.add(ticker)
            appended.append({"cik_str": int(cik), "ticker": ticker, "title": company.legal_name})
        tickers[cik] = (ticker,) if ticker else ()
        submissions[cik] = _dumps(_sec_submission(company, cik, ticker, sic_codes, owner_orgs))
        synthetic.add(cik)
    return SecRecords(
        _append_ticker_rows(recorded_tickers, len(rows), appended), submissions, frozenset(synthetic), tickers
    )


def _append_ticker_rows(recorded: bytes, count: int, appended: Sequence[Json]) -> bytes:
    """Append rows after the recorded ones, so the recorded text stays a byte-for-byte prefix."""
    if not appended:
        return recorded
    body = recorded.rstrip()
    if not body.endswith(b"}"):
        raise ValueError("company_tickers.json must be a JSON object; restore the recorded file")
    extra = b"".join(b',"%d":%s' % (count + index, _dumps(row)) for index, row in enumerate(appended))
    return body[:-1] + extra + b"}"


def _sec_sic_codes() -> dict[str, tuple[str, str]]:
    """Return SIC code -> (office, industry title) from SEC's list."""
    with (CODE_LIST_DIR / "sec_sic_codes.csv").open(newline="", encoding="utf-8") as handle:
        return {row["SIC Code"]: (row["Office"], row["Industry Title"]) for row in csv.DictReader(handle)}


def _owner_orgs(bodies: Iterable[bytes]) -> dict[str, str]:
    """Map SEC office names to EDGAR's ``ownerOrg`` values, as the recorded submissions pair them."""
    sic_codes = _sec_sic_codes()
    owner_orgs: dict[str, str] = {}
    for body in bodies:
        payload = json.loads(body)
        office = sic_codes.get(payload["sic"], ("", ""))[0]
        if office and payload.get("ownerOrg"):
            owner_orgs[office] = payload["ownerOrg"]
    return owner_orgs


def _ticker(company: SandboxCompany, used: set[str]) -> str:
    letters = re.sub(r"[^A-Z]", "", company.name.upper())
    words = [re.sub(r"[^A-Z]", "", word) for word in company.name.upper().split()]
    stem = (words[0][:2] + (words[1][:1] if len(words) > 1 else words[0][2:3])) or letters[:3]
    extras: list[str] = ["", *letters[3:], *"XYZQ"]
    for extra in extras:
        candidate = f"{stem}{extra}"
        if candidate not in used:
            return candidate
    raise ValueError(f"no unused ticker for {company.name}; extend the candidate letters")


def _sec_submission(
    company: SandboxCompany,
    cik: str,
    ticker: str | None,
    sic_codes: Mapping[str, tuple[str, str]],
    owner_orgs: Mapping[str, str],
) -> Json:
    sic = _SEC_SIC_BY_INDUSTRY.get(company.industry, "7372")
    office, title = sic_codes[sic]
    state, city, zip_prefix = _pick(_US_PLACES, "sec-place", cik)
    address = {
        "street1": f"{100 + draw('sec-street', cik) % 900} {_pick(_STREETS, 'sec-street-name', cik).upper()} AVENUE",
        "street2": None,
        "city": city,
        "stateOrCountry": state,
        "zipCode": f"{zip_prefix}{draw('sec-zip', cik) % 100:02d}",
        "stateOrCountryDescription": state,
        "isForeignLocation": 0,
        "foreignStateTerritory": None,
        "country": None,
        "countryCode": None,
    }
    if ticker is None:
        category = ""
    elif company.employees > 1000:
        category = "Accelerated filer"
    else:
        category = "Non-accelerated filer"
    return {
        "cik": cik,
        "entityType": "operating",
        "sic": sic,
        "sicDescription": title.title(),
        # None when no recorded submission shows EDGAR's numbered name for this office.
        "ownerOrg": owner_orgs.get(office),
        "insiderTransactionForOwnerExists": 0,
        "insiderTransactionForIssuerExists": 1 if ticker else 0,
        "name": company.legal_name,
        "tickers": [ticker] if ticker else [],
        "exchanges": [_pick(("Nasdaq", "NYSE"), "sec-exchange", cik)] if ticker else [],
        "ein": f"{10 + draw('sec-ein', cik) % 89}{draw('sec-ein-tail', cik) % 10_000_000:07d}",
        "lei": None,
        "description": "",
        "website": "",
        "investorWebsite": "",
        "category": category,
        "fiscalYearEnd": "1231",
        "stateOfIncorporation": "DE",
        "stateOfIncorporationDescription": "DE",
        "addresses": {"mailing": address, "business": {**address, "isForeignLocation": None}},
        # 555-01xx numbers are reserved for fiction in the North American Numbering Plan.
        "phone": f"(302) 555-01{draw('sec-phone', cik) % 100:02d}",
        "flags": "",
        "formerNames": [],
        "filings": {"recent": _sec_filings(cik, listed=ticker is not None), "files": []},
    }


def _sec_filings(cik: str, *, listed: bool) -> dict[str, list[Any]]:
    """Build ``filings.recent``: column-oriented parallel arrays, newest filing first."""
    if listed:
        plan = [
            ("8-K", "2025-07-30", "2025-07-30", "2.02,9.01"),
            ("10-Q", "2025-07-30", "2025-06-30", ""),
            ("10-Q", "2025-04-29", "2025-03-31", ""),
            ("10-K", "2025-02-26", "2024-12-31", ""),
            ("8-K", "2025-01-15", "2025-01-15", "5.02"),
        ]
    else:
        plan = [("D/A", "2025-05-12", "", ""), ("D", "2024-11-04", "", "")]
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "accessionNumber filingDate reportDate acceptanceDateTime act form fileNumber filmNumber items "
            "core_type size isXBRL isInlineXBRL primaryDocument primaryDocDescription"
        ).split()
    }
    short_cik = cik.lstrip("0")
    for index, (form, filed, period, items) in enumerate(plan):
        periodic = form in {"10-K", "10-Q", "8-K"}
        columns["accessionNumber"].append(f"{cik}-{filed[2:4]}-{len(plan) - index:06d}")
        columns["filingDate"].append(filed)
        columns["reportDate"].append(period)
        columns["acceptanceDateTime"].append(
            f"{filed}T{16 + index % 5:02d}:{draw('sec-minute', cik, index) % 60:02d}:00.000Z"
        )
        columns["act"].append("34" if periodic else "33")
        columns["form"].append(form)
        columns["fileNumber"].append(
            f"001-{30000 + draw('sec-file', cik) % 9000}" if periodic else f"021-{short_cik[-6:]}"
        )
        columns["filmNumber"].append(f"25{draw('sec-film', cik, index) % 10_000_000:07d}")
        columns["items"].append(items)
        columns["core_type"].append("XBRL" if periodic else form)
        columns["size"].append(20_000 + draw("sec-size", cik, index) % 5_000_000)
        columns["isXBRL"].append(1 if periodic else 0)
        columns["isInlineXBRL"].append(1 if periodic else 0)
        columns["primaryDocument"].append(
            f"{form.lower().replace('-', '')}-{filed.replace('-', '')}.htm" if periodic else "primary_doc.xml"
        )
        columns["primaryDocDescription"].append(form)
    return columns


# ----------------------------------------------------------------------------------------------------------------
# Companies House
# ----------------------------------------------------------------------------------------------------------------

# UK SIC 2007 codes (from uk_sic_2007_ch_condensed.csv) for the directory's industries.
_UK_SIC_BY_INDUSTRY: Final = {
    "logistics": ("49410", "52290"),
    "software": ("62012", "62020"),
    "insurance": ("66220",),
    "food": ("10890",),
    "consulting": ("70229",),
    "energy": ("06100", "35110"),
    "internet": ("47910",),
}
_UK_PLACES: Final = (
    ("Leeds", "LS1"),
    ("Manchester", "M2"),
    ("Bristol", "BS1"),
    ("Reading", "RG1"),
    ("Nottingham", "NG1"),
    ("Cambridge", "CB2"),
    ("Sheffield", "S1"),
)
_CH_TYPE_BY_SUFFIX: Final = (("llp", "llp"), ("plc", "plc"), ("limited", "ltd"), ("ltd", "ltd"))
_MAX_OFFICERS: Final = 5


@dataclass(frozen=True)
class CompaniesHouseRecords:
    """Companies House responses by company number, and the items the search endpoint looks through."""

    profiles: Mapping[str, bytes]
    officers: Mapping[str, bytes]
    psc: Mapping[str, bytes]
    psc_statements: Mapping[str, bytes]
    exemptions: Mapping[str, bytes]
    recorded_searches: Mapping[tuple[str, str], bytes]  # (q, items_per_page) -> recorded search body
    search_items: tuple[Json, ...]
    unauthorized_body: bytes
    synthetic_numbers: frozenset[str]


def load_companies_house_records(directory: Directory, data_dir: Path = DATA_DIR) -> CompaniesHouseRecords:
    """Load the recorded Companies House files and add a profile for every directory number without one."""
    ch_dir = data_dir / "companies_house"

    def by_number(prefix: str) -> dict[str, bytes]:
        return {path.stem.split("_")[1]: _read(path) for path in sorted(ch_dir.glob(f"{prefix}_*.json"))}

    profiles = by_number("company-profile")
    officers = by_number("officers")
    recorded_searches = {("tesco", "3"): _read(ch_dir / "search-companies_q-tesco.json")}
    gleif_entities = _recorded_gleif_entities_by_uk_number(data_dir / "gleif")
    sic_descriptions = _uk_sic_descriptions()

    synthetic: set[str] = set()
    for company in directory.companies:
        number = company.registry_ids.get("uk_company_number")
        if number is None or number in profiles:
            continue
        profile = _ch_profile(company, number, directory.is_dissolved(company), gleif_entities.get(number))
        for code in profile.get("sic_codes", ()):
            if code not in sic_descriptions:
                raise ValueError(f"SIC code {code} for {number} is not in the UK SIC 2007 list; pick a listed code")
        profiles[number] = _dumps(profile)
        synthetic.add(number)
        if company.synthetic:
            officers[number] = _dumps(_ch_officers(number, profile, _directors(directory, company)))

    search_items = _ch_search_items(profiles, recorded_searches.values())
    return CompaniesHouseRecords(
        profiles=profiles,
        officers=officers,
        psc=by_number("psc"),
        psc_statements=by_number("psc-statements"),
        exemptions=by_number("exemptions"),
        recorded_searches=recorded_searches,
        search_items=search_items,
        unauthorized_body=_read(ch_dir / "error-401_invalid-authorization.json"),
        synthetic_numbers=frozenset(synthetic),
    )


def _uk_sic_descriptions() -> dict[str, str]:
    with (CODE_LIST_DIR / "uk_sic_2007_ch_condensed.csv").open(newline="", encoding="utf-8") as handle:
        return {row["SIC Code"]: row["Description"] for row in csv.DictReader(handle)}


def _recorded_gleif_entities_by_uk_number(gleif_dir: Path) -> dict[str, Json]:
    """Return the recorded GLEIF entities registered at Companies House (RA000585), by company number."""
    entities: dict[str, Json] = {}
    for path in sorted(gleif_dir.glob("lei-record_*.json")):
        entity = json.loads(_read(path))["data"]["attributes"]["entity"]
        if entity["registeredAt"]["id"] == "RA000585" and entity.get("registeredAs"):
            entities[entity["registeredAs"]] = entity
    return entities


def _ch_type(legal_name: str) -> str:
    last_word = re.sub(r"[^a-z]", "", legal_name.lower().split()[-1])
    for suffix, company_type in _CH_TYPE_BY_SUFFIX:
        if last_word == suffix:
            return company_type
    return "ltd"


def _ch_address(number: str, gleif_entity: Json | None) -> Json:
    if gleif_entity is not None:
        legal = gleif_entity["legalAddress"]
        return {
            "address_line_1": ", ".join(legal["addressLines"]).title(),
            "country": "United Kingdom",
            "locality": legal["city"].title(),
            "postal_code": legal["postalCode"],
        }
    locality, outward = _pick(_UK_PLACES, "ch-place", number)
    # Royal Mail leaves C, I, K, M, O and V out of the inward code's letters.
    inward_letters = _pick("ABDEFGHJLNPQRSTUWXYZ", "ch-pc", number) + _pick("ABDEFGHJLNPQRSTUWXYZ", "ch-pc2", number)
    return {
        "premises": str(1 + draw("ch-premises", number) % 120),
        "address_line_1": f"{_pick(_STREETS, 'ch-street', number)} Street",
        "country": "England",
        "locality": locality,
        "postal_code": f"{outward} {1 + draw('ch-postcode', number) % 9}{inward_letters}",
    }


def _ch_profile(company: SandboxCompany, number: str, dissolved: bool, gleif_entity: Json | None) -> Json:
    """Build a company profile in the shape of ``GET /company/{number}``.

    A real company without a recorded profile takes its name, address and creation date from its recorded
    GLEIF record. Its SIC codes come from the directory's industry, not from the register.
    """
    company_type = _ch_type(company.legal_name)
    if gleif_entity is not None:
        created = date.fromisoformat(gleif_entity["creationDate"][:10])
        name = gleif_entity["legalName"]["name"]
    else:
        created = _day(date(1988, 1, 1), date(2019, 12, 31), "ch-created", number)
        name = company.legal_name.upper()
    address = _ch_address(number, gleif_entity)
    profile_address = {key: value for key, value in address.items() if key != "premises"}
    if "premises" in address:
        profile_address["address_line_1"] = f"{address['premises']} {address['address_line_1']}"
    year_end = date(2025, 3, 31) if draw("ch-year-end", number) % 2 else date(2024, 12, 31)
    next_end = year_end.replace(year=year_end.year + 1)
    # A private company files its accounts within 9 months of the period end.
    next_due = (next_end + timedelta(days=275)).isoformat()
    links = {
        "self": f"/company/{number}",
        "filing_history": f"/company/{number}/filing-history",
        "officers": f"/company/{number}/officers",
    }
    profile: Json = {
        "accounts": {
            "accounting_reference_date": {"day": f"{year_end.day:02d}", "month": f"{year_end.month:02d}"},
            "last_accounts": {
                "made_up_to": year_end.isoformat(),
                "period_end_on": year_end.isoformat(),
                "period_start_on": (year_end.replace(year=year_end.year - 1) + timedelta(days=1)).isoformat(),
                "type": "full" if company.employees > 250 else "small",
            },
            "next_accounts": {
                "due_on": next_due,
                "overdue": False,
                "period_end_on": next_end.isoformat(),
                "period_start_on": (year_end + timedelta(days=1)).isoformat(),
            },
            "next_due": next_due,
            "next_made_up_to": next_end.isoformat(),
            "overdue": False,
        },
        "can_file": not dissolved,
        "company_name": name,
        "company_number": number,
        "company_status": "dissolved" if dissolved else "active",
        "confirmation_statement": {
            "last_made_up_to": "2025-05-14",
            "next_due": "2026-05-28",
            "next_made_up_to": "2026-05-14",
            "overdue": False,
        },
        "date_of_creation": created.isoformat(),
        "etag": hashlib.sha1(f"ch-etag:{number}".encode(), usedforsecurity=False).hexdigest(),
        "has_been_liquidated": False,
        "has_charges": False,
        "has_insolvency_history": False,
        "jurisdiction": "england-wales",
        "links": links,
        "registered_office_address": profile_address,
        "registered_office_is_in_dispute": False,
        "type": company_type,
        "undeliverable_registered_office_address": False,
        "has_super_secure_pscs": False,
    }
    if dissolved:
        profile["date_of_cessation"] = _day(date(2020, 1, 1), date(2024, 12, 31), "ch-ceased", number).isoformat()
        del profile["confirmation_statement"]
    # LLPs carry no SIC codes on their profile, like the recorded Deloitte LLP.
    if company_type != "llp":
        codes = _UK_SIC_BY_INDUSTRY.get(company.industry, ("70229",))
        profile["sic_codes"] = list(codes[: 1 + draw("ch-sic-count", number) % len(codes)])
    return profile


def _directors(directory: Directory, company: SandboxCompany) -> list[SandboxPerson]:
    senior = [
        person for person in directory.people if person.company.id == company.id and person.seniority == "c_level"
    ]
    return senior[:_MAX_OFFICERS]


def _ch_officers(number: str, profile: Json, directors: Sequence[SandboxPerson]) -> Json:
    items = []
    for person in directors:
        officer_id = hashlib.sha256(f"ch-officer:{person.id}".encode()).hexdigest()[:27]
        items.append(
            {
                "address": profile["registered_office_address"],
                "appointed_on": _day(date(2015, 1, 1), date(2025, 6, 30), "ch-appointed", person.id).isoformat(),
                "is_pre_1992_appointment": False,
                "country_of_residence": "United Kingdom",
                "links": {
                    "self": f"/company/{number}/appointments/{officer_id}",
                    "officer": {"appointments": f"/officers/{officer_id[::-1]}/appointments"},
                },
                "name": f"{person.last_name.upper()}, {person.first_name}",
                "officer_role": "director",
                "occupation": person.title,
            }
        )
    return {
        "active_count": len(items),
        "etag": hashlib.sha1(f"ch-officers:{number}".encode(), usedforsecurity=False).hexdigest(),
        "items": items,
        "items_per_page": 35,
        "kind": "officer-list",
        "links": {"self": f"/company/{number}/officers"},
        "resigned_count": 0,
        "inactive_count": 0,
        "start_index": 0,
        "total_results": len(items),
    }


def _ch_search_items(profiles: Mapping[str, bytes], recorded_searches: Iterable[bytes]) -> tuple[Json, ...]:
    """Build search result items from every profile, plus the recorded items of companies without one."""
    items: dict[str, Json] = {}
    for body in recorded_searches:
        for item in json.loads(body)["items"]:
            items[item["company_number"]] = item
    for number, body in profiles.items():
        if number not in items:
            items[number] = _ch_search_item(json.loads(body))
    return tuple(items[number] for number in sorted(items))


def _ch_search_item(profile: Json) -> Json:
    number = profile["company_number"]
    created = date.fromisoformat(profile["date_of_creation"])
    dissolved = profile.get("company_status") == "dissolved" and "date_of_cessation" in profile
    address = dict(profile.get("registered_office_address", {}))
    item: Json = {
        "kind": "searchresults#company",
        "description_identifier": ["dissolved-on" if dissolved else "incorporated-on"],
        "company_status": profile.get("company_status"),
        "date_of_creation": profile["date_of_creation"],
        "company_type": profile["type"],
        "company_number": number,
        "address": address,
        "title": profile["company_name"],
        "address_snippet": ", ".join(
            str(address[key])
            for key in ("premises", "address_line_1", "address_line_2", "locality", "country", "postal_code")
            if address.get(key)
        ),
        "description": f"{number} - Incorporated on {created.day} {created:%B %Y}",
        "links": {"self": f"/company/{number}"},
        "snippet": "",
        "matches": {"snippet": []},
    }
    if dissolved:
        ceased = date.fromisoformat(profile["date_of_cessation"])
        item["date_of_cessation"] = profile["date_of_cessation"]
        item["description"] = f"{number} - Dissolved on {ceased.day} {ceased:%B %Y}"
    if item["company_status"] is None:
        del item["company_status"]
    return item


# ----------------------------------------------------------------------------------------------------------------
# GLEIF
# ----------------------------------------------------------------------------------------------------------------

# Endpoints below /lei-records/{lei} that return one record or relationship.
GLEIF_RELATIONS: Final = (
    "direct-parent",
    "ultimate-parent",
    "direct-parent-relationship",
    "ultimate-parent-relationship",
    "direct-parent-reporting-exception",
    "ultimate-parent-reporting-exception",
)
# Reporting-exception reasons from the GLEIF Relationship Record (RR-CDF) format.
_EXCEPTION_REASONS: Final = ("NATURAL_PERSONS", "NON_CONSOLIDATING", "NO_KNOWN_PERSON", "NON_PUBLIC")
# Synthetic national register numbers, as "registeredAs" for each country's register.
_REGISTER_FORMATS: Final = {
    "DE": lambda value: f"HRB {10000 + value % 90000}",
    "FR": lambda value: f"9{value % 100_000_000:08d}",
    "SE": lambda value: f"559{value % 1000:03d}-{value // 1000 % 10000:04d}",
    "ES": lambda value: f"B9{value % 10_000_000:07d}",
    "NL": lambda value: f"9{value % 10_000_000:07d}",
    "IT": lambda value: f"MI-{2_000_000 + value % 900_000}",
    "AU": lambda value: f"69{value % 10_000_000:07d}",
    "CA": lambda value: f"9{value % 100_000_000:08d}",
    "JP": lambda value: f"9{value % 1_000_000_000_000:012d}",
}
_LOCAL_CITIES: Final = {
    "DE": ("Stuttgart", "DE-BW", "70173"),
    "FR": ("Lyon", "FR-ARA", "69002"),
    "SE": ("Göteborg", "SE-O", "411 05"),
    "ES": ("Valencia", "ES-VC", "46002"),
    "NL": ("Utrecht", "NL-UT", "3511 AB"),
    "IT": ("Milano", "IT-MI", "20121"),
    "AU": ("Brisbane", "AU-QLD", "4000"),
    "CA": ("Toronto", "CA-ON", "M5H 2N2"),
    "JP": ("Nagoya", "JP-23", "450-0002"),
}
# One in this many synthetic LEI entities reports a parent; the others report exceptions.
_PARENT_ONE_IN: Final = 3


@dataclass(frozen=True)
class GleifRecords:
    """LEI records and relationship responses, recorded where available and synthetic otherwise."""

    record_bodies: Mapping[str, bytes]  # LEI -> body of GET /lei-records/{lei}
    resources: Mapping[str, Json]  # LEI -> the record's "data" resource object, for list endpoints
    related: Mapping[tuple[str, str], bytes]  # (LEI, relation in GLEIF_RELATIONS) -> body
    children: Mapping[str, tuple[str, ...]]  # synthetic parent LEI -> its direct children
    recorded_children_pages: Mapping[str, bytes]  # LEI -> recorded page 1 of /direct-children
    recorded_lists: Mapping[frozenset[tuple[str, str]], bytes]  # query of a recorded list response -> body
    synthetic_leis: frozenset[str]


def load_gleif_records(directory: Directory, data_dir: Path = DATA_DIR) -> GleifRecords:
    """Load the recorded GLEIF responses and add a record for every directory LEI without one."""
    gleif_dir = data_dir / "gleif"
    bodies: dict[str, bytes] = {}
    resources: dict[str, Json] = {}
    related: dict[tuple[str, str], bytes] = {}
    for path in sorted(gleif_dir.glob("*.json")):
        kind, _, rest = path.stem.partition("_")
        lei = rest.split("_")[0]
        body = _read(path)
        payload = json.loads(body)
        if kind == "lei-record":
            bodies[lei] = body
            resources[lei] = payload["data"]
        elif kind in GLEIF_RELATIONS:
            related[(lei, kind)] = body
            if kind in {"direct-parent", "ultimate-parent"}:
                # The parent endpoints return the parent's own LEI record, which is also its lookup response.
                parent = payload["data"]["id"]
                bodies.setdefault(parent, body)
                resources.setdefault(parent, payload["data"])
        elif kind in {"direct-children", "lei-records"}:
            for item in payload["data"]:
                resources.setdefault(item["id"], item)
                bodies.setdefault(
                    item["id"], _dumps({"meta": {"goldenCopy": payload["meta"]["goldenCopy"]}, "data": item})
                )
    recorded_children_pages = {
        "21380068P1DRHMJ8KU70": _read(gleif_dir / "direct-children_21380068P1DRHMJ8KU70_shell_page1.json")
    }
    recorded_lists = {
        frozenset({("filter[entity.jurisdiction]", "GB"), ("filter[entity.registeredAs]", "00445790")}): _read(
            gleif_dir / "lei-records_filter-registeredAs-00445790_tesco-plc.json"
        )
    }

    synthetic = [
        company
        for company in directory.companies
        if company.registry_ids.get("lei") is not None and company.registry_ids["lei"] not in bodies
    ]
    parents = _gleif_parents(synthetic)
    children: dict[str, list[str]] = {}
    for company in synthetic:
        lei = company.registry_ids["lei"]
        parent = parents.get(lei)
        resource = _gleif_resource(company, lei, parent is not None)
        resources[lei] = resource
        bodies[lei] = _dumps(_gleif_envelope(resource))
        if parent is None:
            for level, category in (("direct", "DIRECT"), ("ultimate", "ULTIMATE")):
                exception = _gleif_exception(lei, level, category)
                related[(lei, f"{level}-parent-reporting-exception")] = _dumps(exception)
        else:
            children.setdefault(parent, []).append(lei)
    for child, parent in parents.items():
        for level in ("direct", "ultimate"):
            related[(child, f"{level}-parent")] = bodies[parent]
            related[(child, f"{level}-parent-relationship")] = _dumps(_gleif_relationship(child, parent, level))
    return GleifRecords(
        record_bodies=bodies,
        resources=resources,
        related=related,
        children={parent: tuple(leis) for parent, leis in children.items()},
        recorded_children_pages=recorded_children_pages,
        recorded_lists=recorded_lists,
        synthetic_leis=frozenset(company.registry_ids["lei"] for company in synthetic),
    )


def _gleif_parents(companies: Sequence[SandboxCompany]) -> dict[str, str]:
    """Pick child LEI -> parent LEI: every third company by LEI order is owned by the largest of the group."""
    if len(companies) < 2:
        return {}
    group_parent = max(companies, key=lambda company: (company.employees, company.registry_ids["lei"]))
    ordered = sorted(
        (company for company in companies if company is not group_parent),
        key=lambda company: company.registry_ids["lei"],
    )
    return {
        company.registry_ids["lei"]: group_parent.registry_ids["lei"]
        for index, company in enumerate(ordered)
        if index % _PARENT_ONE_IN == 0
    }


def _gleif_link(lei: str, path: str = "") -> str:
    return f"{GLEIF_BASE_URL}/lei-records/{lei}{path}"


def _gleif_envelope(data: Json) -> Json:
    return {"meta": {"goldenCopy": {"publishDate": GLEIF_PUBLISH_DATE}}, "data": data}


def _gleif_resource(company: SandboxCompany, lei: str, has_parent: bool) -> Json:
    """Build a ``lei-records`` resource object with the field names of GLEIF's API."""
    country = company.country
    city, region, postal_code = _LOCAL_CITIES.get(country, ("Capital", None, "00000"))
    address = {
        "language": "en",
        "addressLines": [f"{_pick(_STREETS, 'gleif-street', lei)} {1 + draw('gleif-number', lei) % 80}"],
        "addressNumber": None,
        "addressNumberWithinBuilding": None,
        "mailRouting": None,
        "city": city,
        "region": region,
        "country": country,
        "postalCode": postal_code,
    }
    register_format = _REGISTER_FORMATS.get(country)
    registered_as = register_format(draw("gleif-register", lei)) if register_format else None
    created = _day(date(1975, 1, 1), date(2018, 12, 31), "gleif-created", lei)
    registered = _day(date(2013, 1, 1), date(2022, 12, 31), "gleif-registered", lei)
    parent_links: dict[str, Json] = {}
    for level in ("direct", "ultimate"):
        if has_parent:
            links = {
                "relationship-record": _gleif_link(lei, f"/{level}-parent-relationship"),
                "lei-record": _gleif_link(lei, f"/{level}-parent"),
            }
        else:
            links = {"reporting-exception": _gleif_link(lei, f"/{level}-parent-reporting-exception")}
        parent_links[f"{level}-parent"] = {"links": links}
    return {
        "type": "lei-records",
        "id": lei,
        "attributes": {
            "lei": lei,
            "entity": {
                "legalName": {"name": company.legal_name, "language": "en"},
                "otherNames": [],
                "transliteratedOtherNames": [],
                "legalAddress": address,
                "headquartersAddress": address,
                # NOTE: RA888888 (an authority missing from GLEIF's list) and ELF code 8888 (a legal form missing
                # from ISO 20275, named in "other") are recalled codes, not checked against the current lists.
                "registeredAt": {"id": "RA888888", "other": None},
                "registeredAs": registered_as,
                "jurisdiction": country,
                "category": "GENERAL",
                "legalForm": {"id": "8888", "other": company.legal_name.rsplit(" ", 1)[-1]},
                "associatedEntity": {"lei": None, "name": None},
                "status": "ACTIVE",
                "expiration": {"date": None, "reason": None},
                "successorEntity": {"lei": None, "name": None},
                "successorEntities": [],
                "creationDate": f"{created.isoformat()}T00:00:00Z",
                "subCategory": None,
                "otherAddresses": [],
                "eventGroups": [],
            },
            "registration": {
                "initialRegistrationDate": f"{registered.isoformat()}T00:00:00Z",
                "lastUpdateDate": "2025-04-30T09:12:44Z",
                "status": "ISSUED",
                "nextRenewalDate": f"2026-{registered.month:02d}-{min(registered.day, 28):02d}T00:00:00Z",
                "managingLou": "ZZZZ00SANDBOXLOU0000",
                "corroborationLevel": "FULLY_CORROBORATED",
                "validatedAt": {"id": "RA888888", "other": None},
                "validatedAs": registered_as,
                "otherValidationAuthorities": [],
            },
            "bic": None,
            "mic": None,
            "ocid": None,
            "qcc": None,
            "spglobal": [],
            "conformityFlag": "CONFORMING",
        },
        "relationships": {
            **parent_links,
            "direct-children": {
                "links": {
                    "relationship-records": _gleif_link(lei, "/direct-child-relationships"),
                    "related": _gleif_link(lei, "/direct-children"),
                }
            },
        },
        "links": {"self": _gleif_link(lei)},
    }


def _gleif_exception(lei: str, level: str, category: str) -> Json:
    reason = _pick(_EXCEPTION_REASONS, "gleif-exception", lei, level)
    digest = hashlib.sha256(f"gleif-exception:{lei}:{level}".encode()).hexdigest()
    return {
        "meta": {"goldenCopy": {"publishDate": GLEIF_PUBLISH_DATE}},
        "data": {
            "type": "reporting-exceptions",
            "id": f"{lei}|0|{digest}|{category}_ACCOUNTING_CONSOLIDATION_PARENT|",
            "attributes": {
                "validFrom": None,
                "validTo": None,
                "lei": lei,
                "category": f"{category}_ACCOUNTING_CONSOLIDATION_PARENT",
                "reason": reason,
                "reference": None,
            },
            "relationships": {"lei-record": {"links": {"related": _gleif_link(lei)}}},
        },
    }


def _gleif_relationship(child: str, parent: str, level: str) -> Json:
    kind = "IS_DIRECTLY_CONSOLIDATED_BY" if level == "direct" else "IS_ULTIMATELY_CONSOLIDATED_BY"
    digest = hashlib.sha256(f"gleif-relationship:{child}:{parent}:{level}".encode()).hexdigest()
    started = _day(date(2012, 1, 1), date(2022, 12, 31), "gleif-relationship", child)
    return {
        "meta": {"goldenCopy": {"publishDate": GLEIF_PUBLISH_DATE}},
        "data": {
            "type": "relationship-records",
            "id": f"{child}|LEI|{kind}|52|{digest}|",
            "attributes": {
                "validFrom": "2025-01-06T00:00:00Z",
                "validTo": None,
                "relationship": {
                    "startNode": {"id": child, "type": "LEI"},
                    "endNode": {"id": parent, "type": "LEI"},
                    "type": kind,
                    "status": "ACTIVE",
                    "periods": [
                        {"startDate": f"{started.isoformat()}T00:00:00Z", "type": "RELATIONSHIP_PERIOD"},
                        {
                            "startDate": "2024-01-01T00:00:00Z",
                            "endDate": "2024-12-31T00:00:00Z",
                            "type": "ACCOUNTING_PERIOD",
                        },
                    ],
                },
                "registration": {
                    "initialRegistrationDate": f"{started.isoformat()}T09:00:00Z",
                    "lastUpdateDate": "2025-01-06T09:00:00Z",
                    "status": "PUBLISHED",
                    "nextRenewalDate": "2026-01-06T09:00:00Z",
                    "managingLou": "ZZZZ00SANDBOXLOU0000",
                    "corroborationLevel": "FULLY_CORROBORATED",
                    "corroborationDocuments": "ACCOUNTS_FILING",
                    "corroborationReference": None,
                },
                "extension": {"deletedAt": None},
            },
            "relationships": {
                "start-node": {"links": {"related": _gleif_link(child)}},
                "end-node": {"links": {"related": _gleif_link(parent)}},
            },
        },
    }


# ----------------------------------------------------------------------------------------------------------------
# Brønnøysund
# ----------------------------------------------------------------------------------------------------------------

# SN2007 (the Norwegian NACE Rev. 2) codes with their Norwegian titles, written from Statistics Norway's list
# as recalled, for the directory's industries.
_NACE_BY_INDUSTRY: Final = {
    "food": ("03.211", "Produksjon av matfisk og skalldyr i hav- og kystbasert akvakultur"),
    "energy": ("35.111", "Produksjon av elektrisitet fra vannkraft"),
    "software": ("62.010", "Programmeringstjenester"),
}
# (municipality, municipality number, postcode, post town) of Norwegian cities.
_NO_PLACES: Final = (
    ("BERGEN", "4601", "5003", "BERGEN"),
    ("OSLO", "0301", "0150", "OSLO"),
    ("TRONDHEIM", "5001", "7011", "TRONDHEIM"),
    ("TROMSØ", "5501", "9008", "TROMSØ"),
)
_ORGANISATION_FORMS: Final = {"AS": "Aksjeselskap", "ASA": "Allmennaksjeselskap"}
# Marks a JSON number that must keep two decimals in the output, as brreg writes kapital.belop.
_DECIMAL_MARK: Final = "\u0000decimal:"


@dataclass(frozen=True)
class BrregRecords:
    """Enhetsregisteret entities by organisation number, with their parsed payloads for search."""

    bodies: Mapping[str, bytes]
    entities: tuple[Json, ...]
    synthetic_numbers: frozenset[str]


def load_brreg_records(directory: Directory, data_dir: Path = DATA_DIR) -> BrregRecords:
    """Load the recorded brreg entities and add one for every directory organisation number without one."""
    bodies = {path.stem.split("_")[1]: _read(path) for path in sorted((data_dir / "brreg").glob("enhet_*.json"))}
    synthetic: set[str] = set()
    for company in directory.companies:
        number = company.registry_ids.get("no_org_number")
        if number is None or number in bodies:
            continue
        bodies[number] = _dumps_with_decimals(_brreg_entity(company, number))
        synthetic.add(number)
    entities = tuple(json.loads(bodies[number]) for number in sorted(bodies))
    return BrregRecords(bodies, entities, frozenset(synthetic))


def _dumps_with_decimals(payload: Json) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return re.sub(r'"\\u0000decimal:([0-9.]+)"', r"\1", text).encode()


def _brreg_entity(company: SandboxCompany, number: str) -> Json:
    form = "ASA" if company.legal_name.upper().endswith(" ASA") else "AS"
    code, description = _NACE_BY_INDUSTRY.get(company.industry, ("62.010", "Programmeringstjenester"))
    municipality, municipality_number, postcode, post_town = _pick(_NO_PLACES, "brreg-place", number)
    founded = _day(date(1995, 1, 1), date(2019, 12, 31), "brreg-founded", number)
    registered = founded + timedelta(days=7 + draw("brreg-registered", number) % 40)
    shares = 100 * (1 + draw("brreg-shares", number) % 50)
    return {
        "organisasjonsnummer": number,
        "navn": company.legal_name.upper(),
        "organisasjonsform": {
            "kode": form,
            "beskrivelse": _ORGANISATION_FORMS[form],
            "_links": {"self": {"href": f"{BRREG_BASE_URL}/organisasjonsformer/{form}"}},
        },
        "hjemmeside": f"www.{company.domain}",
        "registreringsdatoEnhetsregisteret": registered.isoformat(),
        "registrertIMvaregisteret": True,
        "naeringskode1": {"kode": code, "beskrivelse": description},
        "antallAnsatte": company.employees,
        "harRegistrertAntallAnsatte": True,
        "registreringsdatoMerverdiavgiftsregisteret": registered.isoformat(),
        "forretningsadresse": {
            "land": "Norge",
            "landkode": "NO",
            "postnummer": postcode,
            "poststed": post_town,
            "adresse": [f"{_pick(_STREETS, 'brreg-street', number)}veien {1 + draw('brreg-number', number) % 60}"],
            "kommune": municipality,
            "kommunenummer": municipality_number,
        },
        "stiftelsesdato": founded.isoformat(),
        "institusjonellSektorkode": {"kode": "2100", "beskrivelse": "Private aksjeselskaper mv."},
        "registrertIForetaksregisteret": True,
        "registrertIStiftelsesregisteret": False,
        "registrertIFrivillighetsregisteret": False,
        "konkurs": False,
        "underAvvikling": False,
        "underTvangsavviklingEllerTvangsopplosning": False,
        "maalform": "Bokmål",
        "registreringsdatoForetaksregisteret": registered.isoformat(),
        "registrertIPartiregisteret": False,
        "paategninger": [],
        "erIKonsern": False,
        "kapital": {
            "belop": f"{_DECIMAL_MARK}{shares * 300}.00",
            "antallAksjer": shares,
            "type": "Aksjekapital",
            "valuta": "NOK",
            "innfortDato": founded.isoformat(),
        },
        "_links": {"self": {"href": f"{BRREG_BASE_URL}/enheter/{number}"}},
        "respons_klasse": "Enhet",
    }
