"""Turn one CSV record into a person enrichment request, or into a row error that names the column.

Cells are cleaned the way exports need: a spreadsheet guard apostrophe before a phone number
(Apollo writes ``'+91 98113 42484``) is removed, and a cell with several values (Google's
`` ::: ``, HubSpot's ``;``) gives its first value. When no company column has a value, the
domain of a work email address is used as the company domain (never a free-mail domain).
Validation is the same as for ``POST /v1/people/enrich``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pycountry
from pydantic import ValidationError

from cascade.bulk.csv_input import CsvRecord
from cascade.bulk.headers import CanonicalField, HeaderMapping
from cascade.domain.countries import parse_country_code
from cascade.domain.errors import InvalidInputError, field_errors
from cascade.domain.models import NormalisedPerson, PersonEnrichmentRequest, RequestedField, WaterfallOverrides
from cascade.normalise.emails import normalise_email
from cascade.normalise.linkedin import LinkedInUrlKind, parse_linkedin_url
from cascade.normalise.person import normalise_person_request
from cascade.normalise.phones import normalise_phone
from cascade.storage.freshness import contact_identity

# Separators of several values in one cell, tried in this order. ";" and "," are only used in
# fields whose values never contain them (emails, phones, URLs).
_MULTI_VALUE_ANY = " ::: "
_MULTI_VALUE_LIST = (";", ",")
_LIST_FIELDS = frozenset({CanonicalField.EMAIL, CanonicalField.PHONE, CanonicalField.DOMAIN, CanonicalField.LINKEDIN})
_MAX_EXTERNAL_ID = 128
_TOO_LITTLE = (
    "too little to identify a person: fill the LinkedIn profile column, or a name (first and last name, or full "
    "name) together with a company name, a company website or a work email address"
)
# Request fields and the canonical field whose column supplies them, for naming columns in errors.
_REQUEST_SOURCES = {
    "first_name": CanonicalField.FIRST_NAME,
    "last_name": CanonicalField.LAST_NAME,
    "full_name": CanonicalField.FULL_NAME,
    "company_name": CanonicalField.COMPANY,
    "company_domain": CanonicalField.DOMAIN,
    "linkedin_url": CanonicalField.LINKEDIN,
    "country": CanonicalField.COUNTRY,
    "external_id": CanonicalField.RECORD_ID,
}


@dataclass(frozen=True, slots=True)
class RowInput:
    """A valid row: the request to enrich and the key that finds duplicate rows in the same job.

    ``phone`` is the E.164 form of the row's own phone cell when it is a valid number, kept for
    reference. ``notes`` are sentences about values that were repaired or not used.
    """

    number: int
    request: PersonEnrichmentRequest
    dedupe_key: str
    person: NormalisedPerson
    phone: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that cannot be enriched: its record number, a message naming the column and fix, the request field."""

    number: int
    message: str
    field: str


def build_row(
    record: CsvRecord,
    mapping: HeaderMapping,
    *,
    fields: Sequence[RequestedField],
    waterfall: WaterfallOverrides,
    max_age_days: int | None,
    default_country: str | None,
) -> RowInput | RowError:
    """Build the enrichment request of one record, or the ``RowError`` that explains why it cannot be enriched."""
    width = len(mapping.columns)
    extra = [cell for cell in record.cells[width:] if cell.strip()]
    if extra:
        return RowError(
            record.number,
            f"the row has {len(record.cells)} cells but the header has {width} columns; quote values that "
            "contain the delimiter, or add a header for the extra column",
            "row",
        )

    notes: list[str] = []
    values = {canonical: _first_value(record.cells, mapping, canonical) for canonical in CanonicalField}
    linkedin = values[CanonicalField.LINKEDIN]
    domain = values[CanonicalField.DOMAIN]
    if domain and _is_linkedin(domain):
        # Google's "Website 1 - Value" and Close's url can hold a LinkedIn profile instead of a website.
        linkedin = linkedin or domain
        domain = None
    if not domain and not values[CanonicalField.COMPANY]:
        domain = _domain_from_email(values[CanonicalField.EMAIL], mapping, notes)

    country = _country(values[CanonicalField.COUNTRY], mapping, default_country, notes)
    external_id = values[CanonicalField.RECORD_ID]
    if external_id and len(external_id) > _MAX_EXTERNAL_ID:
        notes.append(f"the record id is longer than {_MAX_EXTERNAL_ID} characters, so it is not stored")
        external_id = None

    body: dict[str, Any] = {
        "first_name": values[CanonicalField.FIRST_NAME],
        "last_name": values[CanonicalField.LAST_NAME],
        "full_name": values[CanonicalField.FULL_NAME],
        "company_name": values[CanonicalField.COMPANY],
        "company_domain": domain,
        "linkedin_url": linkedin,
        "country": country,
        "external_id": external_id,
        "fields": list(fields),
        "waterfall": waterfall,
        "max_age_days": max_age_days,
    }
    try:
        request = PersonEnrichmentRequest.model_validate(
            {key: value for key, value in body.items() if value is not None}
        )
    except ValidationError as error:
        found = field_errors(error, PersonEnrichmentRequest)
        first = found[0].field if found else "row"
        message = _join(mapping, [(item.field, item.message) for item in found], notes)
        return RowError(record.number, message, first)
    try:
        normalised = normalise_person_request(request)
    except InvalidInputError as error:
        items = [(item.field, item.message) for item in error.errors]
        return RowError(record.number, _join(mapping, items, notes), items[0][0] if items else "row")

    phone = _phone(values[CanonicalField.PHONE], country, notes)
    return RowInput(
        number=record.number,
        request=request,
        dedupe_key=dedupe_key(normalised.person, request.fields),
        person=normalised.person,
        phone=phone,
        notes=tuple(notes),
    )


def dedupe_key(person: NormalisedPerson, fields: Sequence[RequestedField]) -> str:
    """Return a SHA-256 hex key that two rows share when they identify the same person and request the same fields.

    The identity is ``contact_identity`` (LinkedIn profile, else name and company domain). A row
    with only a name and a company name uses the ASCII name parts and the lower-case company name.
    """
    identity = contact_identity(person)
    if identity is None:
        company = " ".join((person.company_name or "").casefold().split())
        identity = f"nc:{person.ascii_first}|{person.ascii_middle}|{person.ascii_last}|{company}"
    requested = ",".join(sorted(str(requested_field) for requested_field in fields))
    return hashlib.sha256(f"{identity}#{requested}".encode()).hexdigest()


def clean_cell(value: str, canonical: CanonicalField) -> str:
    """Return the first value of a cell, trimmed, with a phone's spreadsheet guard apostrophe removed."""
    text = value.strip()
    if _MULTI_VALUE_ANY in text:
        text = text.split(_MULTI_VALUE_ANY, 1)[0].strip()
    if canonical in _LIST_FIELDS:
        for separator in _MULTI_VALUE_LIST:
            if separator in text:
                text = next((part.strip() for part in text.split(separator) if part.strip()), "")
    if canonical is CanonicalField.PHONE and text.startswith("'"):
        text = text[1:].strip()
    return text


def _first_value(cells: Sequence[str], mapping: HeaderMapping, canonical: CanonicalField) -> str | None:
    for index in mapping.fields.get(canonical, []):
        if index < len(cells):
            text = clean_cell(cells[index], canonical)
            if text:
                return text
    return None


def _is_linkedin(value: str) -> bool:
    return "linkedin." in value.casefold() and parse_linkedin_url(value).kind is LinkedInUrlKind.PERSON


def _domain_from_email(address: str | None, mapping: HeaderMapping, notes: list[str]) -> str | None:
    if not address:
        return None
    email = normalise_email(address)
    column = _column(mapping, CanonicalField.EMAIL)
    if email.ascii_domain is None:
        reason = email.notes[0].message if email.notes else "it is not a valid email address"
        notes.append(f"the {column!r} value was not used: {reason}")
        return None
    if email.is_free_mail:
        notes.append(f"the {column!r} value is a free-mail address, so its domain is not the company's")
        return None
    return email.ascii_domain


def _country(value: str | None, mapping: HeaderMapping, default_country: str | None, notes: list[str]) -> str | None:
    if not value:
        return default_country
    try:
        return parse_country_code(value)
    except ValueError:
        pass
    try:
        found = pycountry.countries.lookup(value)
    except LookupError:
        column = _column(mapping, CanonicalField.COUNTRY)
        fallback = f"the job's country {default_country}" if default_country else "no country"
        notes.append(f"the {column!r} value is not a known country, so {fallback} is used")
        return default_country
    return str(found.alpha_2)


def _phone(value: str | None, country: str | None, notes: list[str]) -> str | None:
    if not value:
        return None
    phone = normalise_phone(value, country)
    if phone.e164 is None or not phone.is_valid:
        reason = phone.notes[-1].message if phone.notes else "it is not a valid phone number"
        notes.append(f"the phone value was not used: {reason}")
        return None
    return phone.e164


def _column(mapping: HeaderMapping, canonical: CanonicalField) -> str:
    indexes = mapping.fields.get(canonical)
    return mapping.columns[indexes[0]] if indexes else canonical.value


def _join(mapping: HeaderMapping, items: list[tuple[str, str]], notes: list[str]) -> str:
    """Join field errors and the row's notes into one message, naming the CSV column of each request field."""
    parts: list[str] = []
    for request_field, message in items:
        canonical = _REQUEST_SOURCES.get(request_field)
        if canonical is not None and mapping.fields.get(canonical):
            parts.append(f"column {_column(mapping, canonical)!r}: {message}")
        elif request_field == "body":
            parts.append(_TOO_LITTLE)
        else:
            parts.append(f"{request_field}: {message}")
    parts.extend(notes)
    return "; ".join(parts) or "the row cannot be enriched"
