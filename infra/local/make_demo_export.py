"""Generate the demo CRM export, a HubSpot-style "all contacts" CSV of the sandbox directory's people.

``python -m infra.local.make_demo_export`` writes ``infra/local/data/hubspot_contacts_export.csv``;
``--check`` only compares the file with what would be written and exits 1 when they differ. The
output depends only on the seed below and the sandbox's default directory, so it is the same on
every run.

Every person of the directory appears once, in a shuffled order, with the messiness of real exports:
ALL-CAPS names, blank emails, phones in assorted formats (national, international, ``00`` prefix,
Apollo's guard apostrophe, Excel's scientific notation), websites as full URLs, a few exact duplicate
rows, rows with too little to identify anyone, formula-like company names, a multi-line note,
non-ASCII names and a free-mail website. Further rows are invented people at directory companies,
whom no provider knows, so a demo job has rows that come back ``not_found``. The file is UTF-8 with a
byte-order mark and CRLF row ends, as HubSpot writes it.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
import pycountry

from infra.sandbox.directory import Directory, SandboxCompany, SandboxPerson, default_directory

SEED = 20260301
OUTPUT = Path(__file__).parent / "data" / "hubspot_contacts_export.csv"
HEADER = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Job Title",
    "Company Name",
    "Website URL",
    "Country/Region",
    "City",
    "Contact owner",
    "Lifecycle Stage",
    "Create Date",
    "Notes",
)
INVENTED_PEOPLE = 560
DUPLICATE_ROWS = 8
OWNERS = ("Priya Raman", "Tomasz Wierzbicki", "Grace Okafor", "Ben Hartley", "")
STAGES = ("lead", "subscriber", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
CITIES = {
    "US": ("New York", "Austin", "Chicago", "Seattle"),
    "GB": ("London", "Manchester", "Leeds", "Bristol"),
    "DE": ("Berlin", "München", "Köln", "Hamburg"),
    "NO": ("Oslo", "Bergen", "Trondheim"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht"),
    "JP": ("Tokyo", "Osaka", "Nagoya"),
    "FR": ("Paris", "Lyon", "Toulouse"),
    "AU": ("Sydney", "Melbourne", "Brisbane"),
    "CA": ("Toronto", "Montréal", "Vancouver"),
    "IT": ("Milano", "Roma", "Torino"),
    "SE": ("Stockholm", "Göteborg", "Malmö"),
    "ES": ("Madrid", "Barcelona", "Sevilla"),
    "IE": ("Dublin", "Cork", "Galway"),
}
NOTES = (
    "Met at the trade fair.\nAsked for pricing; follow up next quarter.",
    'Prefers email. Said: "call only after 3pm"',
    "Intro via partner, see thread\n- budget approved\n- needs security review",
)
# Rows that cannot identify anyone: a first name only, or an email on a free-mail domain only.
TOO_LITTLE = (
    ("Sam", "", "", "", ""),
    ("", "", "", "", "Quillon Widgets"),
    ("", "", "sam.farrowby@gmail.com", "", ""),
    ("Morgan", "", "", "+44 20 7946 0321", ""),
    ("", "Quill", "", "", ""),
    ("", "", "", "", ""),
    ("J.", "", "j@hotmail.com", "", ""),
    ("", "", "", "(201) 555-0143", ""),
    ("Alex", "", "", "", ""),
    ("", "", "info@yahoo.co.uk", "", ""),
)
# Invented people with non-ASCII names at directory companies. No provider has a record of them.
NON_ASCII_NAMES = (("Åsa", "Lindqvist"), ("Jürgen", "Müller"), ("Zoë", "Farrowby"), ("Siobhán", "Ó Briain"))
FORMULA_COMPANIES = ('=HYPERLINK("https://example.com/offer","Quillon Widgets")', "=1+2")


def build_export(directory: Directory | None = None) -> bytes:
    """Return the bytes of the demo export for the default directory (or ``directory``)."""
    source = directory or default_directory()
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not a secret
    rows = [_person_row(rng, person) for person in source.people]
    rows.extend(_invented_rows(rng, source))
    rows.extend(_odd_rows(rng, source))
    rng.shuffle(rows)

    created = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    numbered: list[list[str]] = []
    record_id = 51_203_000_000
    for row in rows:
        record_id += rng.randint(1, 9_000)
        created += timedelta(minutes=rng.randint(5, 600))
        owner, stage = rng.choice(OWNERS), rng.choice(STAGES)
        numbered.append([str(record_id), *row[:9], owner, stage, _hubspot_date(created), row[9]])
    for _ in range(DUPLICATE_ROWS):
        original = numbered[rng.randrange(len(numbered))]
        numbered.insert(rng.randrange(len(numbered) + 1), list(original))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(numbered)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _hubspot_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _person_row(rng: random.Random, person: SandboxPerson) -> list[str]:
    """Return the cells of one person, from First Name to Notes, without the record id and HubSpot columns."""
    first, last = person.first_name, person.last_name
    if rng.random() < 0.05:
        first, last = first.upper(), last.upper()
    email = person.email if rng.random() < 0.7 else ""
    phone = _phone(rng, person.phone_e164, person.country) if person.phone_e164 and rng.random() < 0.8 else ""
    note = rng.choice(NOTES) if rng.random() < 0.02 else ""
    return [
        first,
        last,
        email,
        phone,
        person.title,
        person.company.name,
        _website(rng, person.company),
        _country_name(rng, person.country),
        rng.choice(CITIES.get(person.country, ("",))),
        note,
    ]


def _invented_rows(rng: random.Random, directory: Directory) -> list[list[str]]:
    first_names = sorted({person.first_name for person in directory.people if person.first_name.isascii()})
    last_names = sorted({person.last_name for person in directory.people if person.last_name.isascii()})
    known = {(person.first_name, person.last_name, person.company.domain) for person in directory.people}
    rows: list[list[str]] = []
    names = list(NON_ASCII_NAMES)
    while len(rows) < INVENTED_PEOPLE:
        company = rng.choice(directory.companies)
        first, last = names.pop(0) if names else (rng.choice(first_names), rng.choice(last_names))
        if (first, last, company.domain) in known:
            continue
        known.add((first, last, company.domain))
        rows.append(
            [
                first,
                last,
                "",
                "",
                rng.choice(("Account Executive", "Office Manager", "Head of Growth", "Engineer")),
                company.name,
                _website(rng, company),
                _country_name(rng, company.country),
                rng.choice(CITIES.get(company.country, ("",))),
                "",
            ]
        )
    return rows


def _odd_rows(rng: random.Random, directory: Directory) -> list[list[str]]:
    """Rows with too little to identify anyone, formula-like company names and a free-mail website."""
    rows = [
        [first, last, email, phone, "", company, "", "", "", ""] for first, last, email, phone, company in TOO_LITTLE
    ]
    for company_name in FORMULA_COMPANIES:
        rows.append(["Ada", "Quill", "", "", "Director", company_name, "", "United Kingdom", "London", ""])
    company = rng.choice(directory.companies)
    rows.append(["Ada", "Quill", "ada.quill@gmail.com", "", "Founder", company.name, "gmail.com", "", "", ""])
    return rows


def _website(rng: random.Random, company: SandboxCompany) -> str:
    form = rng.randrange(6)
    if form == 0:
        return ""
    if form == 1:
        return company.domain
    if form == 2:
        return f"https://www.{company.domain}/"
    if form == 3:
        return f"https://www.{company.domain}/about-us/team?utm_source=hubspot"
    if form == 4:
        return f"http://{company.domain}/contact"
    return f"www.{company.domain}"


def _country_name(rng: random.Random, code: str) -> str:
    if rng.random() < 0.15:
        return ""
    if rng.random() < 0.2:
        return code
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


def _phone(rng: random.Random, e164: str, country: str) -> str:
    """Write ``e164`` the way exports mangle it."""
    number = phonenumbers.parse(e164)
    form = rng.randrange(20)
    if form == 0:
        # Excel's scientific notation: the digits after the fifth are gone for good.
        digits = e164[1:]
        return f"{digits[0]}.{digits[1:6]}E+{len(digits) - 1}"
    if form in (1, 2):
        return "'" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if form in (3, 4):
        return "00" + e164[1:]
    if form in (5, 6, 7, 8, 9) and phonenumbers.region_code_for_number(number) == country:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if form in (10, 11):
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare the file with a fresh build; write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="file to write (default: %(default)s)")
    arguments = parser.parse_args(argv)
    content = build_export()
    if arguments.check:
        current = arguments.output.read_bytes() if arguments.output.exists() else b""
        if current != content:
            print(f"{arguments.output} differs from a fresh build; run python -m infra.local.make_demo_export")
            return 1
        return 0
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_bytes(content)
    print(f"wrote {arguments.output} ({len(content)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
