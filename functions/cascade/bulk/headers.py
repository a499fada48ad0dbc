"""Map the header row of a CRM or spreadsheet export to Cascade's canonical contact fields.

Headers are compared by a key: case-folded, with every character that is not a letter or a digit
removed, after an object prefix such as ``Person - `` (Pipedrive) or ``primary_contact_`` (Close)
is cut. So ``E-mail Address``, ``email_address`` and ``emailAddress`` share the key
``emailaddress``. Each synonym has a rank; when several columns map to one field, the best-ranked
column comes first, then the leftmost.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class CanonicalField(StrEnum):
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FULL_NAME = "full_name"
    EMAIL = "email"
    COMPANY = "company"
    DOMAIN = "domain"
    LINKEDIN = "linkedin"
    PHONE = "phone"
    TITLE = "title"
    COUNTRY = "country"
    CITY = "city"
    RECORD_ID = "record_id"


class NoUsableColumnsError(ValueError):
    """No column of the header row identifies a person."""


# Written forms per field, best rank first. Each inner tuple is one rank, and header_key derives the lookup keys.
_SYNONYMS: dict[CanonicalField, tuple[tuple[str, ...], ...]] = {
    CanonicalField.FIRST_NAME: (("First Name", "FirstName", "Given Name", "Vorname", "Prénom"),),
    CanonicalField.LAST_NAME: (("Last Name", "LastName", "Family Name", "Surname", "Nachname", "Nom"),),
    CanonicalField.FULL_NAME: (("Full Name", "Contact Name", "Person Name"),),
    CanonicalField.EMAIL: (
        ("Email", "Email Address", "Work Email", "Email - Work", "Business Email", "emailaddress1", "Primary Email"),
        ("Secondary Email", "Tertiary Email", "Other Emails", "Email - Other"),
        ("Private e-mail address", "Personal Email", "Home Email", "Email - Home"),
    ),
    CanonicalField.COMPANY: (
        (
            "Company",
            "Company Name",
            "Account Name",
            "Account.Name",
            "Organization Name",
            "Organisation Name",
            "Organization 1 - Name",
            "Organization",
            "Organisation",
            "lead_name",
            "display_name",
            "Employer",
            "Current Company",
            "Firma",
        ),
        ("Associated Company", "Company Name - Cleaned", "Company Name for Emails"),
    ),
    CanonicalField.DOMAIN: (
        (
            "Website",
            "Website URL",
            "Web site",
            "Web Page",
            "Company Website",
            "Company Website URL",
            "regularCompanyUrl",
            "Company domain name",
            "Company Domain",
            "Domain",
            "Work Website",
        ),
        ("Email Domain",),
    ),
    CanonicalField.LINKEDIN: (
        (
            "Person Linkedin Url",
            "LinkedIn URL",
            "LinkedIn Contact Profile URL",
            "linkedInProfileUrl",
            "LinkedIn Profile URL",
            "LinkedIn Profile",
            "defaultProfileUrl",
            "Contact LI Profile URL",
            "LinkedIn",
            "LinkedIn Page",
        ),
        ("profileUrl", "Profile URL", "Sales Navigator Profile URL"),
    ),
    CanonicalField.PHONE: (
        (
            "Work Direct Phone",
            "Direct Phone Number",
            "Direct Phone",
            "Mobile Phone",
            "Mobile Phone Number",
            "MobilePhone",
            "Mobile",
            "Phone - Mobile",
            "Phone - Work",
            "Phone",
            "Phone Number",
            "Business Phone",
            "Primary Phone",
            "Telephone",
            "telephone1",
        ),
        # Apollo's older "First Phone" is the first number found, which can be the switchboard.
        (
            "First Phone",
            "Home Phone",
            "Other Phone",
            "Other Phones",
            "Phone - Home",
            "Phone - Other",
            "WhatsApp Phone Number",
        ),
    ),
    CanonicalField.TITLE: (
        (
            "Job Title",
            "JobTitle",
            "Position",
            "Organization Title",
            "Organization 1 - Title",
            "Designation",
            "Role",
            "Title",
        ),
        ("Headline",),
    ),
    CanonicalField.COUNTRY: (
        (
            "Country",
            "Country/Region",
            "Mailing Country",
            "Address 1: Country/Region",
            "Address 1 - Country",
            "address_1_country",
            "address1_country",
            "Business Country/Region",
            "Business Country",
            "Person Country",
        ),
    ),
    CanonicalField.CITY: (
        (
            "City",
            "Mailing City",
            "Address 1: City",
            "Address 1 - City",
            "address_1_city",
            "address1_city",
            "Business City",
            "Person City",
        ),
    ),
    CanonicalField.RECORD_ID: (
        (
            "Record ID",
            "Id",
            "Contact ID",
            "Lead ID",
            "hs_object_id",
            "(Do Not Modify) Contact",
            "(Do Not Modify) Lead",
            "contactid",
            "Apollo Contact Id",
            "vmid",
            "LEID",
            "ZoomInfo Contact ID",
            "Copper ID",
        ),
    ),
}

# Object prefixes cut before matching: Pipedrive "Person - Email", Close "primary_contact_title".
_PREFIXES = ("person - ", "person: ", "contact - ", "contact: ", "lead - ", "primary_contact_", "primary contact ")
# Numbered columns: Google "E-mail 1 - Value", Outlook "E-mail 2 Address", Seamless.ai "Email 1".
_NUMBERED = re.compile(r"^(email|phone|website)(\d)(value|address)?$")
_NUMBERED_FIELDS = {"email": CanonicalField.EMAIL, "phone": CanonicalField.PHONE, "website": CanonicalField.DOMAIN}

# Fields that count when deciding whether a row looks like a header.
_IDENTIFYING = frozenset(CanonicalField) - {CanonicalField.RECORD_ID}
_NAME_FIELDS = (CanonicalField.FIRST_NAME, CanonicalField.LAST_NAME, CanonicalField.FULL_NAME)
_COMPANY_FIELDS = (CanonicalField.COMPANY, CanonicalField.DOMAIN, CanonicalField.EMAIL)
# Markers of an Outlook contacts file, where a bare "Title" is the salutation (Mr., Dr.).
_OUTLOOK_MARKERS = frozenset({"suffix", "middlename", "anrede"})


def header_key(header: str) -> str:
    """Return the comparison key of a header: case-folded letters and digits only, object prefix cut."""
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").strip().casefold()
    text = " ".join(text.split()).rstrip("*").strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return "".join(character for character in text if character.isalnum())


def _build_index() -> dict[str, tuple[CanonicalField, int]]:
    index: dict[str, tuple[CanonicalField, int]] = {}
    for canonical, ranks in _SYNONYMS.items():
        for rank, headers in enumerate(ranks):
            for header in headers:
                index.setdefault(header_key(header), (canonical, rank))
    return index


_INDEX = _build_index()


def _lookup(key: str) -> tuple[CanonicalField, int] | None:
    found = _INDEX.get(key)
    if found is not None:
        return found
    numbered = _NUMBERED.match(key)
    if numbered:
        return _NUMBERED_FIELDS[numbered.group(1)], int(numbered.group(2)) - 1
    return None


def count_identifying_fields(cells: Sequence[str]) -> int:
    """Count the distinct contact fields (not record ids) that the cells of a candidate header map to."""
    found = {match[0] for match in (_lookup(header_key(cell)) for cell in cells) if match is not None}
    return len(found & _IDENTIFYING)


@dataclass(frozen=True, slots=True)
class HeaderMapping:
    """The header row's display names and the columns that supply each canonical field.

    ``columns`` has one display name per input column, with duplicates renamed (``Email_2``).
    ``fields`` lists the column indexes for each field, best first. ``warnings`` are sentences for
    the job's ``warnings`` list.
    """

    columns: list[str]
    fields: dict[CanonicalField, list[int]]
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, str]:
        """Map each mapped canonical field to the display name of its best column."""
        return {canonical.value: self.columns[indexes[0]] for canonical, indexes in self.fields.items() if indexes}


def map_headers(header_row: Sequence[str]) -> HeaderMapping:
    """Map ``header_row`` to canonical fields; raise ``NoUsableColumnsError`` when no column identifies a person."""
    columns, warnings = unique_column_names(header_row)
    keys = [header_key(cell) for cell in header_row]
    key_set = set(keys)
    ranked: dict[CanonicalField, list[tuple[int, int]]] = {}
    bare_title: list[int] = []
    bare_name: list[int] = []
    bare_url: list[int] = []
    for index, key in enumerate(keys):
        if key == "title" and _is_bare(header_row[index]):
            bare_title.append(index)
            continue
        if key == "name":
            # "Person - Name" (Pipedrive) and "primary_contact_name" (Close) always name the person.
            if _is_bare(header_row[index]):
                bare_name.append(index)
            else:
                ranked.setdefault(CanonicalField.FULL_NAME, []).append((0, index))
            continue
        if key == "url":
            bare_url.append(index)
            continue
        match = _lookup(key)
        if match is not None:
            ranked.setdefault(match[0], []).append((match[1], index))

    _resolve_title(bare_title, ranked, key_set, columns, warnings)
    _resolve_name(bare_name, ranked, columns, warnings)
    # LinkedIn Connections.csv calls the profile column "URL"; Close calls the lead's website "url".
    url_field = CanonicalField.LINKEDIN if "connectedon" in key_set else CanonicalField.DOMAIN
    for index in bare_url:
        ranked.setdefault(url_field, []).append((1, index))

    fields = {canonical: [index for _, index in sorted(entries)] for canonical, entries in ranked.items()}
    mapping = HeaderMapping(columns=columns, fields=fields, warnings=warnings)
    if not _identifies_person(mapping):
        raise NoUsableColumnsError(_no_usable_columns_message(header_row))
    return mapping


def unique_column_names(header_row: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return display names with duplicates renamed ``<name>_<n>`` so no name repeats, and a warning per rename.

    Names compare case-insensitively, and a new name never equals any header of the row, so
    ``Email,Email,Email_2`` becomes ``Email,Email_3,Email_2``. An empty header is named ``Column_<position>``.
    """
    cleaned = [cell.replace("\ufeff", "").strip() for cell in header_row]
    taken = {name.casefold() for name in cleaned if name}
    used: set[str] = set()
    columns: list[str] = []
    warnings: list[str] = []
    for position, name in enumerate(cleaned, start=1):
        base = name or f"Column_{position}"
        candidate = base
        if candidate.casefold() in used or (not name and candidate.casefold() in taken):
            suffix = 2
            while f"{base}_{suffix}".casefold() in used or f"{base}_{suffix}".casefold() in taken:
                suffix += 1
            candidate = f"{base}_{suffix}"
            if name:
                warnings.append(f"column {position} repeats the header {name!r}, so it is named {candidate!r}")
        used.add(candidate.casefold())
        columns.append(candidate)
    return columns, warnings


def _is_bare(header: str) -> bool:
    """Return whether a header is written without an object prefix such as ``Person - ``."""
    text = " ".join(header.replace("\ufeff", "").strip().casefold().split())
    return not text.startswith(_PREFIXES)


def _resolve_title(
    indexes: list[int],
    ranked: dict[CanonicalField, list[tuple[int, int]]],
    keys: set[str],
    columns: list[str],
    warnings: list[str],
) -> None:
    """Map a bare "Title" to the job title, unless the file is an Outlook export or has a job-title column."""
    for index in indexes:
        if CanonicalField.TITLE in ranked or keys & _OUTLOOK_MARKERS:
            warnings.append(f"column {columns[index]!r} is read as a salutation (Mr., Dr.), not as a job title")
            continue
        ranked.setdefault(CanonicalField.TITLE, []).append((0, index))


def _resolve_name(
    indexes: list[int], ranked: dict[CanonicalField, list[tuple[int, int]]], columns: list[str], warnings: list[str]
) -> None:
    """Map a bare "Name" to the full name, unless first or last name columns exist.

    HubSpot's import template uses "Name" for the company while Salesforce uses it for the person,
    so next to first and last name columns its meaning is unknown and it is not used.
    """
    for index in indexes:
        if CanonicalField.FIRST_NAME in ranked or CanonicalField.LAST_NAME in ranked:
            warnings.append(
                f"column {columns[index]!r} is not used because the file has first and last name columns, "
                "and 'Name' can mean the person or the company"
            )
            continue
        ranked.setdefault(CanonicalField.FULL_NAME, []).append((0, index))


def _identifies_person(mapping: HeaderMapping) -> bool:
    if mapping.fields.get(CanonicalField.LINKEDIN):
        return True
    has_name = any(mapping.fields.get(name) for name in _NAME_FIELDS)
    has_company = any(mapping.fields.get(company) for company in _COMPANY_FIELDS)
    return has_name and has_company


def _no_usable_columns_message(header_row: Sequence[str]) -> str:
    shown = ", ".join(repr(cell) for cell in header_row[:20]) or "(empty)"
    more = f" and {len(header_row) - 20} more" if len(header_row) > 20 else ""
    return (
        f"no column identifies a person; the header row is {shown}{more}. Include a LinkedIn profile column "
        "(such as 'LinkedIn URL' or 'Person Linkedin Url'), or name columns ('First Name' and 'Last Name', or "
        "'Full Name') together with a company column ('Company Name', 'Website' or 'Email'). Headers of HubSpot, "
        "Salesforce, Apollo, Pipedrive, Zoho, Dynamics, Outlook, Google Contacts, Close and Mailchimp exports "
        "are recognised."
    )
