from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import phonenumbers
import pytest
from anyascii import anyascii
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.sandbox.directory import (
    DEFAULT_PEOPLE,
    MAX_PEOPLE,
    PROVIDERS,
    Directory,
    SandboxCompany,
    SandboxPerson,
    default_directory,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
PHONE_PROVIDERS = frozenset({"peopledatalabs", "lusha", "leadmagic", "findymail", "prospeo"})
MAILBOX_STATUSES = frozenset({"valid", "invalid", "catch_all", "disposable", "unknown"})
EMAIL_PATTERNS = frozenset(
    {"{first}.{last}", "{f}{last}", "{first}", "{first}_{last}", "{last}.{first}", "{first}{l}", "{f}.{last}"}
)
LINE_TYPES = ("mobile", "fixed_line", "fixed_line_or_mobile", "voip", "toll_free")
PHONE_TYPE_NAMES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed_line",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
}
SENIORITY_ORDER = ("entry", "senior", "manager", "director", "vp", "c_level")
EU_EEA = frozenset({"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "NO", "PL", "PT", "SE"})

# Prints a digest of a small directory, run in a child process under a chosen PYTHONHASHSEED.
FINGERPRINT_SCRIPT = """
import hashlib, json
from infra.sandbox.directory import Directory
directory = Directory.generate(11, people=300)
rows = [
    [p.id, p.full_name, p.company.domain, p.email, p.email_status, p.linkedin_slug, p.phone_e164,
     p.stale_email, p.role_email, {k: sorted(v) for k, v in p.coverage.items()}]
    for p in directory.people
]
print(hashlib.sha256(json.dumps(rows).encode()).hexdigest())
"""


@pytest.fixture(scope="module")
def directory() -> Directory:
    return default_directory()


@pytest.fixture(scope="module")
def sample(directory: Directory) -> list[SandboxPerson]:
    return list(directory.people[::23])


def _company(directory: Directory, domain: str) -> SandboxCompany:
    company = directory.company_by_domain(domain)
    assert company is not None, f"no company at {domain}"
    return company


def _employee(directory: Directory, domain: str) -> SandboxPerson:
    return next(person for person in directory.people if person.company.domain == domain)


def _email_part(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", anyascii(name).lower())


def _previous_domain(person: SandboxPerson) -> str:
    return person.previous_company.domain if person.previous_company is not None else ""


def _rate(directory: Directory, provider: str, field: str) -> float:
    return sum(directory.knows(provider, person, field) for person in directory.people) / len(directory.people)


def _union_rate(directory: Directory, field: str) -> float:
    covered = sum(any(directory.knows(p, person, field) for p in PROVIDERS) for person in directory.people)
    return covered / len(directory.people)


def _fingerprint(directory: Directory) -> str:
    rows = [
        [
            *(p.id, p.full_name, p.company.domain, p.email, p.email_status, p.linkedin_slug, p.phone_e164),
            *(p.stale_email, p.role_email, {k: sorted(v) for k, v in p.coverage.items()}),
        ]
        for p in directory.people
    ]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _lei_is_valid(lei: str) -> bool:
    numeric = "".join(str(int(character, 36)) for character in lei)
    return int(numeric) % 97 == 1


def _no_org_number_is_valid(number: str) -> bool:
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    remainder = sum(int(digit) * weight for digit, weight in zip(number[:8], weights, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check < 10 and int(number[8]) == check


# Determinism ---------------------------------------------------------------------------------------------------


def test_generate_same_seed_equal(directory: Directory) -> None:
    again = Directory.generate(7)
    assert again.people == directory.people
    assert again.companies == directory.companies


def test_generate_other_seed_differs(directory: Directory) -> None:
    other = Directory.generate(8)
    assert other.people != directory.people
    assert {p.email for p in other.people} != {p.email for p in directory.people}


def test_generate_ignores_hash_seed() -> None:
    digests = set()
    for hash_seed in ("0", "4242"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        completed = subprocess.run(  # noqa: S603 -- fixed script, run by this interpreter
            [sys.executable, "-c", FINGERPRINT_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
            env=environment,
        )
        digests.add(completed.stdout.strip())
    digests.add(_fingerprint(Directory.generate(11, people=300)))
    assert len(digests) == 1


def test_default_directory_cached() -> None:
    assert default_directory() is default_directory()


def test_generate_small_size() -> None:
    small = Directory.generate(3, people=50)
    assert len(small.people) == 50
    assert len({person.id for person in small.people}) == 50


@pytest.mark.parametrize("people", [0, -1, MAX_PEOPLE + 1])
def test_generate_rejects_size(people: int) -> None:
    with pytest.raises(ValueError, match=f"people={people}"):
        Directory.generate(1, people=people)


# Size and spread -----------------------------------------------------------------------------------------------


def test_default_size(directory: Directory) -> None:
    assert len(directory.people) == DEFAULT_PEOPLE
    assert len(directory.people) >= 2000


@pytest.mark.parametrize("attribute", ["id", "email", "linkedin_slug"])
def test_people_unique_values(directory: Directory, attribute: str) -> None:
    values = [getattr(person, attribute) for person in directory.people]
    assert len(set(values)) == len(values)


def test_people_unique_phones(directory: Directory) -> None:
    phones = [person.phone_e164 for person in directory.people if person.phone_e164 is not None]
    assert len(set(phones)) == len(phones)


def test_people_spread_countries(directory: Directory) -> None:
    people_countries = {person.country for person in directory.people}
    synthetic_countries = {company.country for company in directory.companies if company.synthetic}
    assert len(people_countries) >= 8
    assert len(synthetic_countries) >= 8


def test_company_count(directory: Directory) -> None:
    assert 55 <= len(directory.companies) <= 65


def test_company_catch_all_share(directory: Directory) -> None:
    share = sum(company.catch_all for company in directory.companies) / len(directory.companies)
    assert 0.10 <= share <= 0.15


def test_company_some_without_mx(directory: Directory) -> None:
    without_mx = [company for company in directory.companies if not company.mx_hosts]
    assert len(without_mx) >= 3


@pytest.mark.parametrize("legal_form", ["GmbH & Co. KG", "Pty Ltd", "S.p.A.", "B.V.", "K.K."])
def test_company_compound_legal_forms(directory: Directory, legal_form: str) -> None:
    assert any(company.legal_name.endswith(legal_form) for company in directory.companies)


def test_company_fields_consistent(directory: Directory) -> None:
    bands = {"1-10": (1, 10), "11-50": (11, 50), "51-200": (51, 200), "201-1000": (201, 1000)}
    bands |= {"1001-5000": (1001, 5000), "5001+": (5001, 10**9)}
    wrong_band = [
        c.id for c in directory.companies if not bands[c.size_band][0] <= c.employees <= bands[c.size_band][1]
    ]
    wrong_pattern = [c.id for c in directory.companies if c.email_pattern not in EMAIL_PATTERNS]
    wrong_domain = [c.domain for c in directory.companies if not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", c.domain)]
    assert wrong_band == []
    assert wrong_pattern == []
    assert wrong_domain == []
    assert [c.id for c in directory.companies] == [
        f"co-{index:04d}" for index in range(1, len(directory.companies) + 1)
    ]


@pytest.mark.parametrize(
    ("domain", "key", "value", "country"),
    [
        ("apple.com", "sec_cik", "0000320193", "US"),
        ("microsoft.com", "sec_cik", "0000789019", "US"),
        ("microsoft.com", "lei", "INR2EJN1ERAN0W5ZP974", "US"),
        ("amazon.com", "sec_cik", "0001018724", "US"),
        ("meta.com", "sec_cik", "0001326801", "US"),
        ("berkshirehathaway.com", "sec_cik", "0001067983", "US"),
        ("exxonmobil.com", "sec_cik", "0000034088", "US"),
        ("toyota.co.jp", "sec_cik", "0001094517", "JP"),
        ("shell.com", "sec_cik", "0001306965", "GB"),
        ("shell.com", "lei", "21380068P1DRHMJ8KU70", "GB"),
        ("tesco.com", "uk_company_number", "00445790", "GB"),
        ("monzo.com", "uk_company_number", "09446231", "GB"),
        ("deloitte.co.uk", "uk_company_number", "OC303675", "GB"),
        ("natwestmarkets.com", "uk_company_number", "SC090312", "GB"),
        ("cic-privatedebt.fr", "uk_company_number", "FC032315", "FR"),
        ("mgmassurance.co.uk", "uk_company_number", "00000006", "GB"),
        ("intaglio-systems.co.uk", "uk_company_number", "02894655", "GB"),
        ("commerzbank.de", "lei", "851WYGNLUQLFZBSYGB56", "DE"),
        ("amazon.co.uk", "lei", "254900LNRYNOQ9YPU758", "GB"),
        ("equinor.com", "no_org_number", "923609016", "NO"),
        ("brreg.no", "no_org_number", "974760673", "NO"),
    ],
)
def test_real_company_registry_ids(directory: Directory, domain: str, key: str, value: str, country: str) -> None:
    company = _company(directory, domain)
    assert company.registry_ids[key] == value
    assert company.country == country
    assert not company.synthetic


def test_real_lei_checksums(directory: Directory) -> None:
    leis = [c.registry_ids["lei"] for c in directory.companies if "lei" in c.registry_ids]
    assert [lei for lei in leis if not _lei_is_valid(lei)] == []


def test_synthetic_registry_ids_valid(directory: Directory) -> None:
    synthetic = [company for company in directory.companies if company.synthetic]
    real_ids = {v for c in directory.companies if not c.synthetic for v in c.registry_ids.values()}
    kinds = {"US": "sec_cik", "GB": "uk_company_number", "NO": "no_org_number"}
    checks: dict[str, Callable[[str], bool]] = {
        "sec_cik": lambda value: re.fullmatch(r"\d{10}", value) is not None,
        "uk_company_number": lambda value: re.fullmatch(r"\d{8}", value) is not None,
        "no_org_number": lambda value: re.fullmatch(r"\d{9}", value) is not None and _no_org_number_is_valid(value),
        "lei": lambda value: re.fullmatch(r"[0-9A-Z]{18}\d{2}", value) is not None and _lei_is_valid(value),
    }
    wrong_kind = [c.domain for c in synthetic if list(c.registry_ids) != [kinds.get(c.country, "lei")]]
    invalid = [c.domain for c in synthetic for key, value in c.registry_ids.items() if not checks[key](value)]
    clashing = [c.domain for c in synthetic if set(c.registry_ids.values()) & real_ids]
    assert wrong_kind == []
    assert invalid == []
    assert clashing == []


# Dissolved companies -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["mgmassurance.co.uk", "intaglio-systems.co.uk"])
def test_dissolved_company_no_current_staff(directory: Directory, domain: str) -> None:
    company = _company(directory, domain)
    assert directory.is_dissolved(company)
    assert company.mx_hosts == ()
    assert [p.id for p in directory.people if p.company == company] == []


@pytest.mark.parametrize("domain", ["mgmassurance.co.uk", "intaglio-systems.co.uk"])
def test_dissolved_company_alumni_stale(directory: Directory, domain: str) -> None:
    company = _company(directory, domain)
    alumni = [person for person in directory.people if person.previous_company == company]
    assert 1 <= len(alumni) <= 10
    assert all(person.stale_email is not None for person in alumni)
    assert {directory.mailbox_status(person.stale_email or "") for person in alumni} == {"invalid"}


def test_live_company_not_dissolved(directory: Directory) -> None:
    assert not directory.is_dissolved(_company(directory, "tesco.com"))


# Names ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["DE", "FR", "ES", "NO", "SE"])
def test_names_non_ascii_by_country(directory: Directory, country: str) -> None:
    names = [person.full_name for person in directory.people if person.country == country]
    assert any(not name.isascii() for name in names)


@pytest.mark.parametrize(
    ("case", "predicate"),
    [
        ("apostrophe", lambda person: "'" in person.last_name),
        ("hyphenated", lambda person: "-" in person.first_name or "-" in person.last_name),
        ("particle", lambda person: person.last_name.split()[0] in {"van", "von", "de", "zu", "'t", "Le", "De"}),
        ("two family names", lambda person: person.country == "ES" and " " in person.last_name),
    ],
)
def test_names_tricky_forms(directory: Directory, case: str, predicate: Callable[[SandboxPerson], bool]) -> None:
    assert any(predicate(person) for person in directory.people), case


def test_names_full_name_joins_parts(directory: Directory) -> None:
    wrong = [p.id for p in directory.people if p.full_name != f"{p.first_name} {p.last_name}"]
    assert wrong == []


def test_linkedin_slugs_lower_ascii(directory: Directory) -> None:
    wrong = [p.linkedin_slug for p in directory.people if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.linkedin_slug)]
    assert wrong == []


def test_seniority_values(directory: Directory) -> None:
    assert {person.seniority for person in directory.people} == set(SENIORITY_ORDER)


# Emails --------------------------------------------------------------------------------------------------------


def test_emails_ascii_at_company_domain(directory: Directory) -> None:
    not_ascii = [p.email for p in directory.people if not p.email.isascii() or p.email != p.email.lower()]
    wrong_domain = [p.email for p in directory.people if p.email.rpartition("@")[2] != p.company.domain]
    assert not_ascii == []
    assert wrong_domain == []


def test_emails_follow_company_pattern(directory: Directory) -> None:
    wrong = []
    for person in directory.people:
        first, last = _email_part(person.first_name), _email_part(person.last_name)
        expected = person.company.email_pattern.format(first=first, last=last, f=first[:1], l=last[:1])
        local = person.email.partition("@")[0]
        if re.fullmatch(re.escape(expected) + r"\d*", local) is None:
            wrong.append(person.email)
    assert wrong == []


def test_email_status_catch_all_domains(directory: Directory) -> None:
    on_catch_all = {p.email_status for p in directory.people if p.company.catch_all}
    elsewhere = {p.email_status for p in directory.people if not p.company.catch_all}
    assert on_catch_all == {"catch_all"}
    assert "catch_all" not in elsewhere


def test_email_status_rates(directory: Directory) -> None:
    checked = [p for p in directory.people if not p.company.catch_all and p.company.mx_hosts]
    counts = Counter(person.email_status for person in checked)
    assert 0.90 <= counts["valid"] / len(checked) <= 0.96
    assert 0.03 <= counts["invalid"] / len(checked) <= 0.08
    assert 0.005 <= counts["unknown"] / len(checked) <= 0.04


def test_email_status_no_mx_invalid(directory: Directory) -> None:
    assert {p.email_status for p in directory.people if not p.company.mx_hosts} == {"invalid"}


def test_role_emails(directory: Directory) -> None:
    role_emails = [(person, person.role_email) for person in directory.people if person.role_email is not None]
    share = len(role_emails) / len(directory.people)
    statuses = {directory.mailbox_status(address) for _, address in role_emails}
    assert 0.05 <= share <= 0.15
    assert [address for person, address in role_emails if address.partition("@")[2] != person.company.domain] == []
    assert statuses <= {"valid", "catch_all"}


# Stale records -------------------------------------------------------------------------------------------------


def test_moved_share(directory: Directory) -> None:
    share = sum(person.previous_company is not None for person in directory.people) / len(directory.people)
    assert 0.06 <= share <= 0.10


def test_stale_email_invalid(directory: Directory) -> None:
    movers = [person for person in directory.people if person.previous_company is not None]
    assert [p.id for p in movers if p.stale_email is None] == []
    assert [p.id for p in movers if directory.mailbox_status(p.stale_email or "") != "invalid"] == []
    assert [p.id for p in movers if p.previous_company == p.company] == []
    assert [p.id for p in movers if p.previous_company is not None and p.previous_company.catch_all] == []
    assert [p.id for p in movers if (p.stale_email or "").rpartition("@")[2] != _previous_domain(p)] == []


def test_stale_fields_only_for_movers(directory: Directory) -> None:
    stayers = [person for person in directory.people if person.previous_company is None]
    assert [p.id for p in stayers if p.stale_email is not None] == []


def test_match_name_finds_mover_at_previous_company(directory: Directory) -> None:
    movers = [person for person in directory.people if person.previous_company is not None]
    missed = [
        p.id for p in movers if directory.match_name(p.first_name, p.last_name, domain=_previous_domain(p)) is not p
    ]
    assert missed == []


def test_match_email_finds_mover_by_stale_email(directory: Directory) -> None:
    movers = [person for person in directory.people if person.previous_company is not None]
    assert [p.id for p in movers if directory.match_email(p.stale_email or "") is not p] == []


def test_returns_stale_only_for_movers(directory: Directory) -> None:
    stayers = [person for person in directory.people if person.previous_company is None]
    assert not any(directory.returns_stale(provider, person) for provider in PROVIDERS for person in stayers)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_returns_stale_some_movers(directory: Directory, provider: str) -> None:
    movers = [person for person in directory.people if person.previous_company is not None]
    stale = sum(directory.returns_stale(provider, person) for person in movers)
    assert 0 < stale < len(movers)


def test_returns_stale_rejects_unknown_provider(directory: Directory) -> None:
    with pytest.raises(ValueError, match="unknown provider 'clearbit'"):
        directory.returns_stale("clearbit", directory.people[0])


# Phones --------------------------------------------------------------------------------------------------------


def test_phone_share(directory: Directory) -> None:
    share = sum(person.phone_e164 is not None for person in directory.people) / len(directory.people)
    assert 0.65 <= share <= 0.75


def test_phones_valid_with_line_type(directory: Directory) -> None:
    invalid, wrong_type = [], []
    for person in directory.people:
        if person.phone_e164 is None:
            continue
        number = phonenumbers.parse(person.phone_e164, None)
        if not phonenumbers.is_valid_number(number) or not phonenumbers.is_valid_number_for_region(
            number, person.country
        ):
            invalid.append(person.phone_e164)
        if PHONE_TYPE_NAMES.get(phonenumbers.number_type(number)) != person.phone_line_type:
            wrong_type.append(person.phone_e164)
    assert invalid == []
    assert wrong_type == []


def test_phones_e164_form(directory: Directory) -> None:
    wrong = [
        p.phone_e164 for p in directory.people if p.phone_e164 and not re.fullmatch(r"\+[1-9]\d{6,14}", p.phone_e164)
    ]
    assert wrong == []


@pytest.mark.parametrize("line_type", LINE_TYPES)
def test_phones_line_type_present(directory: Directory, line_type: str) -> None:
    assert any(person.phone_line_type == line_type for person in directory.people)


def test_phones_absent_line_type_unknown(directory: Directory) -> None:
    assert {p.phone_line_type for p in directory.people if p.phone_e164 is None} == {"unknown"}


@pytest.mark.parametrize(
    ("country", "line_type", "pattern"),
    [
        ("US", "fixed_line_or_mobile", r"\+1\d{3}55501\d{2}"),
        ("CA", "fixed_line_or_mobile", r"\+1\d{3}55501\d{2}"),
        ("GB", "fixed_line", r"\+44(207946|\d{3}496)0\d{3}"),
        ("GB", "toll_free", r"\+448081570\d{3}"),
        ("AU", "fixed_line", r"\+61[2378]5550\d{4}"),
        ("AU", "mobile", r"\+6149157\d{4}"),
    ],
)
def test_phones_fictional_ranges(directory: Directory, country: str, line_type: str, pattern: str) -> None:
    phones = [p.phone_e164 or "" for p in directory.people if p.country == country and p.phone_line_type == line_type]
    assert phones
    assert [phone for phone in phones if re.fullmatch(pattern, phone) is None] == []


# Lookups -------------------------------------------------------------------------------------------------------

Lookup = Callable[[Directory, SandboxPerson], SandboxPerson | None]

LOOKUPS: list[tuple[str, Lookup]] = [
    ("id", lambda d, p: d.person(p.id)),
    ("name and domain", lambda d, p: d.match_name(p.first_name, p.last_name, domain=p.company.domain)),
    ("name and url", lambda d, p: d.match_name(p.first_name, p.last_name, domain=f"https://www.{p.company.domain}/a")),
    (
        "name folded",
        lambda d, p: d.match_name(
            anyascii(p.first_name).upper(), f"  {anyascii(p.last_name).lower()} ", domain=p.company.domain.upper()
        ),
    ),
    ("name and company", lambda d, p: d.match_name(p.first_name, p.last_name, company_name=p.company.name)),
    ("name and legal name", lambda d, p: d.match_name(p.first_name, p.last_name, company_name=p.company.legal_name)),
    (
        "name and upper legal name",
        lambda d, p: d.match_name(p.first_name, p.last_name, company_name=p.company.legal_name.upper() + "."),
    ),
    (
        "name, unknown domain, company",
        lambda d, p: d.match_name(p.first_name, p.last_name, domain="unknown.example", company_name=p.company.name),
    ),
    ("full name and domain", lambda d, p: d.match_full_name(p.full_name, domain=p.company.domain)),
    ("full name and company", lambda d, p: d.match_full_name(p.full_name, company_name=p.company.legal_name)),
    (
        "full name reversed",
        lambda d, p: d.match_full_name(f"{p.last_name}, {p.first_name}", domain=p.company.domain),
    ),
    (
        "full name family first",
        lambda d, p: d.match_full_name(f"{p.last_name} {p.first_name}", domain=p.company.domain),
    ),
    (
        "full name spaced",
        lambda d, p: d.match_full_name("  " + p.full_name.upper().replace(" ", "   ") + " ", domain=p.company.domain),
    ),
    ("linkedin url", lambda d, p: d.match_linkedin(f"https://www.linkedin.com/in/{p.linkedin_slug}/")),
    ("linkedin bare host", lambda d, p: d.match_linkedin(f"linkedin.com/in/{p.linkedin_slug}")),
    ("linkedin country host", lambda d, p: d.match_linkedin(f"http://uk.linkedin.com/in/{p.linkedin_slug}?trk=x")),
    ("linkedin slug upper", lambda d, p: d.match_linkedin(p.linkedin_slug.upper())),
    ("email", lambda d, p: d.match_email(p.email)),
    ("email upper", lambda d, p: d.match_email(f" {p.email.upper()} ")),
    ("email mailto", lambda d, p: d.match_email(f"mailto:{p.email}")),
]


@pytest.mark.parametrize(("case", "lookup"), LOOKUPS, ids=[case for case, _ in LOOKUPS])
def test_lookup_finds_sample(directory: Directory, sample: list[SandboxPerson], case: str, lookup: Lookup) -> None:
    missed = [person.id for person in sample if lookup(directory, person) is not person]
    assert missed == [], case


@pytest.mark.parametrize(
    "formatting",
    [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL],
)
def test_match_phone_formats(directory: Directory, sample: list[SandboxPerson], formatting: int) -> None:
    with_phone = [(person, person.phone_e164) for person in sample if person.phone_e164 is not None]
    missed = [
        person.id
        for person, e164 in with_phone
        if directory.match_phone(phonenumbers.format_number(phonenumbers.parse(e164), formatting)) is not person
    ]
    assert with_phone
    assert missed == []


def test_match_phone_international_prefix(directory: Directory, sample: list[SandboxPerson]) -> None:
    with_phone = [person for person in sample if person.phone_e164 is not None]
    missed = [p.id for p in with_phone if directory.match_phone("00" + (p.phone_e164 or "")[1:]) is not p]
    assert missed == []


def test_match_name_without_company_unique(directory: Directory, sample: list[SandboxPerson]) -> None:
    counts = Counter(_email_part(p.first_name) + _email_part(p.last_name) for p in directory.people)
    unique = [p for p in sample if counts[_email_part(p.first_name) + _email_part(p.last_name)] == 1]
    assert unique
    assert [p.id for p in unique if directory.match_name(p.first_name, p.last_name) is not p] == []


MISSES: list[tuple[str, Callable[[Directory], object]]] = [
    ("unknown name", lambda d: d.match_name("Zebulon", "Quaxworthy", domain="tesco.com")),
    ("empty name", lambda d: d.match_name("", "", domain="tesco.com")),
    ("empty full name", lambda d: d.match_full_name("", company_name="Tesco")),
    ("company page", lambda d: d.match_linkedin("https://www.linkedin.com/company/tesco")),
    ("unknown slug", lambda d: d.match_linkedin("no-such-profile-000")),
    ("unknown address", lambda d: d.match_email("nobody@tesco.com")),
    ("malformed address", lambda d: d.match_email("not an address")),
    ("unknown phone", lambda d: d.match_phone("+442079460999999")),
    ("malformed phone", lambda d: d.match_phone("not a phone")),
    ("unknown id", lambda d: d.person("p-99999")),
]


@pytest.mark.parametrize(("case", "call"), MISSES, ids=[case for case, _ in MISSES])
def test_lookup_misses(directory: Directory, case: str, call: Callable[[Directory], object]) -> None:
    assert call(directory) is None, case


def test_match_name_other_company_misses(directory: Directory) -> None:
    person = _employee(directory, "tesco.com")
    assert directory.match_name(person.first_name, person.last_name, domain="quillon-widgets.de") is None


@pytest.mark.parametrize(
    ("company_name", "domain"),
    [
        ("TESCO PLC", "tesco.com"),
        ("Tesco", "tesco.com"),
        ("tesco plc.", "tesco.com"),
        ("Microsoft Corporation", "microsoft.com"),
        ("Amazon.com, Inc.", "amazon.com"),
        ("Amazon", "amazon.com"),
        ("Facebook", "meta.com"),
        ("Exxon Mobil Corporation", "exxonmobil.com"),
        ("Commerzbank AG", "commerzbank.de"),
        ("Statoil ASA", "equinor.com"),
        ("Brenntal Maschinenbau", "brenntal-maschinenbau.de"),
        ("brenntal maschinenbau gmbh & co kg", "brenntal-maschinenbau.de"),
        ("Quillon Widgets GmbH", "quillon-widgets.de"),
        ("Sagewerk Ohlendorf", "saegewerk-ohlendorf.de"),
        ("Coorabell Software Pty. Ltd.", "coorabell-software.com.au"),
        ("Takanoha Seimitsu KK", "takanoha-seimitsu.co.jp"),
        ("The Dunmore Tool and Die Company", "dunmore-tooldie.com"),
    ],
)
def test_match_name_company_name_variants(directory: Directory, company_name: str, domain: str) -> None:
    person = _employee(directory, domain)
    assert directory.match_name(person.first_name, person.last_name, company_name=company_name) is person


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.tesco.com/groceries", "tesco.com"),
        ("TESCO.COM.", "tesco.com"),
        ("uk.tesco.com", "tesco.com"),
        ("jane@tesco.com", "tesco.com"),
        ("//quillon-widgets.de/impressum", "quillon-widgets.de"),
        ("  <wattlebrook-mining.com.au>  ", "wattlebrook-mining.com.au"),
        ("http://user@deloitte.co.uk:8080/x", "deloitte.co.uk"),
        ("example.com", None),
        ("co.uk", None),
        ("com", None),
        ("", None),
    ],
)
def test_company_by_domain_variants(directory: Directory, value: str, domain: str | None) -> None:
    company = directory.company_by_domain(value)
    assert (company.domain if company else None) == domain


# Verifier facts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("someone@mailinator.com", "disposable"),
        ("anyone.at.all@quillon-widgets.de", "catch_all"),
        ("sales@quillon-widgets.de", "catch_all"),
        ("person@gmail.com", "unknown"),
        ("person@unknown-company.example", "unknown"),
        ("zz.nobody@tesco.com", "invalid"),
        ("sales@tesco.com", "valid"),
        ("INFO@Tesco.com", "valid"),
        ("anyone@hollin-marsh.co.uk", "invalid"),
        ("info@hollin-marsh.co.uk", "invalid"),
        ("anyone@mgmassurance.co.uk", "invalid"),
        ("not-an-address", "invalid"),
        ("@tesco.com", "invalid"),
        ("", "invalid"),
    ],
)
def test_mailbox_status_cases(directory: Directory, address: str, status: str) -> None:
    assert directory.mailbox_status(address) == status


def test_mailbox_status_current_emails(directory: Directory) -> None:
    wrong = [p.id for p in directory.people if directory.mailbox_status(p.email) != p.email_status]
    assert wrong == []


def _expected_status_for_stranger(company: SandboxCompany) -> str:
    if company.catch_all and company.mx_hosts:
        return "catch_all"
    return "invalid"


def test_mailbox_status_random_at_each_company(directory: Directory) -> None:
    expected = {c.domain: _expected_status_for_stranger(c) for c in directory.companies}
    actual = {c.domain: directory.mailbox_status(f"qq.no.such.person@{c.domain}") for c in directory.companies}
    assert actual == expected


@pytest.mark.parametrize(
    ("domain", "has_hosts"),
    [
        ("tesco.com", True),
        ("Quillon-Widgets.DE", True),
        ("hollin-marsh.co.uk", False),
        ("mgmassurance.co.uk", False),
        ("gmail.com", True),
        ("mailinator.com", True),
        ("unknown-company.example", False),
        ("", False),
    ],
)
def test_mx_hosts_cases(directory: Directory, domain: str, has_hosts: bool) -> None:
    assert bool(directory.mx_hosts(domain)) is has_hosts


def test_mx_hosts_company_own(directory: Directory) -> None:
    company = _company(directory, "quillon-widgets.de")
    assert directory.mx_hosts("quillon-widgets.de") == company.mx_hosts


# Coverage slices -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_email_coverage_band(directory: Directory, provider: str) -> None:
    assert 0.25 <= _rate(directory, provider, "email") <= 0.55


def test_union_email_coverage(directory: Directory) -> None:
    assert 0.80 <= _union_rate(directory, "email") <= 0.90


def test_waterfall_beats_best_single(directory: Directory) -> None:
    best_single = max(_rate(directory, provider, "email") for provider in PROVIDERS)
    assert _union_rate(directory, "email") - best_single >= 0.20


@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - PHONE_PROVIDERS))
def test_phone_coverage_none_for_email_only(directory: Directory, provider: str) -> None:
    assert _rate(directory, provider, "phone") == 0


@pytest.mark.parametrize("provider", sorted(PHONE_PROVIDERS))
def test_phone_coverage_some_for_phone_providers(directory: Directory, provider: str) -> None:
    assert _rate(directory, provider, "phone") > 0.02


def test_phone_coverage_needs_phone(directory: Directory) -> None:
    phoneless = [person for person in directory.people if person.phone_e164 is None]
    assert not any(directory.knows(provider, person, "phone") for provider in PROVIDERS for person in phoneless)


def test_phone_coverage_lusha_strongest(directory: Directory) -> None:
    lusha = _rate(directory, "lusha", "phone")
    assert all(lusha > _rate(directory, provider, "phone") for provider in PROVIDERS if provider != "lusha")


def test_phone_coverage_findymail_manager_and_above(directory: Directory) -> None:
    covered = {p.seniority for p in directory.people if directory.knows("findymail", p, "phone")}
    assert covered <= {"manager", "director", "vp", "c_level"}


def test_phone_coverage_union_beats_lusha(directory: Directory) -> None:
    assert _union_rate(directory, "phone") > _rate(directory, "lusha", "phone") + 0.05


@pytest.mark.parametrize(
    ("provider", "in_slice"),
    [
        ("hunter", lambda p: p.company.country in {"US", "GB", "CA", "AU"} and p.company.employees >= 51),
        ("prospeo", lambda p: p.country in EU_EEA),
        ("apollo", lambda p: p.country == "US"),
        ("leadmagic", lambda p: p.company.industry in {"software", "hardware", "internet", "banking", "fintech"}),
        ("findymail", lambda p: 51 <= p.company.employees <= 5000),
    ],
)
def test_provider_slice_favoured(
    directory: Directory, provider: str, in_slice: Callable[[SandboxPerson], bool]
) -> None:
    inside = [person for person in directory.people if in_slice(person)]
    outside = [person for person in directory.people if not in_slice(person)]
    inside_rate = sum(directory.knows(provider, person, "email") for person in inside) / len(inside)
    outside_rate = sum(directory.knows(provider, person, "email") for person in outside) / len(outside)
    assert inside_rate > 0.45
    assert outside_rate < 0.20


def test_coverage_fields_per_provider(directory: Directory) -> None:
    keys = {tuple(person.coverage) for person in directory.people}
    fields = {field for person in directory.people for fields in person.coverage.values() for field in fields}
    assert keys == {PROVIDERS}
    assert fields == {"email", "phone"}


def test_knows_rejects_unknown_provider(directory: Directory) -> None:
    with pytest.raises(ValueError, match="unknown provider 'clearbit'"):
        directory.knows("clearbit", directory.people[0], "email")


def test_knows_rejects_unknown_field(directory: Directory) -> None:
    with pytest.raises(ValueError, match="unknown field 'fax'"):
        directory.knows("hunter", directory.people[0], "fax")


# Properties ----------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_lookups_arbitrary_text_never_raise(text: str) -> None:
    directory = default_directory()
    directory.person(text)
    directory.match_name(text, text, domain=text, company_name=text)
    directory.match_name(text, text)
    directory.match_full_name(text, domain=text, company_name=text)
    directory.match_linkedin(text)
    directory.match_email(text)
    directory.match_phone(text)
    directory.company_by_domain(text)
    directory.mx_hosts(text)
    assert directory.mailbox_status(text) in MAILBOX_STATUSES


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=DEFAULT_PEOPLE - 1))
def test_lookups_round_trip(index: int) -> None:
    directory = default_directory()
    person = directory.people[index]
    assert directory.match_linkedin(f"https://www.linkedin.com/in/{person.linkedin_slug}") is person
    assert directory.match_email(person.email) is person
    assert directory.company_by_domain(person.company.domain) is person.company
    assert directory.match_name(anyascii(person.first_name), anyascii(person.last_name), domain=person.email) is person
