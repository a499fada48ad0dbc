"""Normalise a whole person request: names, company, domain, LinkedIn URL and country together.

Each field goes through its own normaliser; this module decides what the combination means.
A value that is rejected but not needed (an unusable LinkedIn URL next to a name and a
company) is dropped with a note, so the rest of the request is still enriched. A request
left with too little to identify one person, or with a name field that holds two people,
raises ``InvalidInputError`` naming each field and what to send instead (HTTP 422).
"""

from __future__ import annotations

from dataclasses import dataclass

from cascade.domain.errors import FieldError, InvalidInputError
from cascade.domain.models import NormalisedPerson, PersonEnrichmentRequest
from cascade.normalise.companies import CompanyName, parse_company_name
from cascade.normalise.domains import Domain, normalise_company_domain
from cascade.normalise.linkedin import LinkedInUrl, LinkedInUrlKind, parse_linkedin_url
from cascade.normalise.names import PersonName, parse_person_name
from cascade.normalise.notes import Note, NoteKind, has_rejection


@dataclass(frozen=True, slots=True)
class FieldNote:
    """A normaliser's note together with the request field it is about."""

    field: str
    note: Note


@dataclass(frozen=True, slots=True)
class PersonNormalisation:
    person: NormalisedPerson
    name: PersonName | None
    company: CompanyName | None
    domain: Domain | None
    linkedin: LinkedInUrl | None
    notes: tuple[FieldNote, ...]


def normalise_person_request(request: PersonEnrichmentRequest) -> PersonNormalisation:
    """Normalise every identifying field of ``request``; raise ``InvalidInputError`` when it cannot be used."""
    notes: list[FieldNote] = []
    errors: list[FieldError] = []

    name = _parse_name(request, notes, errors)
    linkedin = _parse_linkedin(request, notes)
    domain = _parse_domain(request, notes)
    company = _parse_company(request, notes)

    has_profile = linkedin is not None and linkedin.kind is LinkedInUrlKind.PERSON
    has_name = name is not None and bool(name.first or name.last) and not name.multiple_people
    has_company = domain is not None or company is not None
    if not errors and not has_profile and not (has_name and has_company):
        errors.extend(_identification_errors(request, name=name, linkedin=linkedin, has_company=has_company))
    if errors:
        raise InvalidInputError(errors)

    person = NormalisedPerson(
        first_name=(name.first or None) if name else None,
        last_name=(name.last or None) if name else None,
        full_name=(name.full or None) if name else None,
        company_name=company.display if company else None,
        company_domain=domain.ascii if domain else None,
        linkedin_url=linkedin.canonical_url if has_profile and linkedin else None,
        country=request.country,
        ascii_first=name.ascii_first if name else "",
        ascii_middle=name.ascii_middle if name else "",
        ascii_last=name.ascii_last if name else "",
    )
    return PersonNormalisation(
        person=person,
        name=name,
        company=company,
        domain=domain,
        linkedin=linkedin if has_profile else None,
        notes=tuple(notes),
    )


def _record(notes: list[FieldNote], field: str, found: tuple[Note, ...]) -> None:
    notes.extend(FieldNote(field, note) for note in found)


def _name_field(request: PersonEnrichmentRequest) -> str:
    if request.full_name and not (request.first_name or request.last_name):
        return "full_name"
    return "first_name" if request.first_name else "last_name"


def _parse_name(
    request: PersonEnrichmentRequest, notes: list[FieldNote], errors: list[FieldError]
) -> PersonName | None:
    if not (request.full_name or request.first_name or request.last_name):
        return None
    name = parse_person_name(full_name=request.full_name, first_name=request.first_name, last_name=request.last_name)
    field = _name_field(request)
    _record(notes, field, name.notes)
    if name.multiple_people:
        message = next(
            (note.message for note in name.notes if note.code == "multiple_people"),
            "this field names more than one person; send one person per request",
        )
        errors.append(FieldError(field=field, message=message))
    return name


def _parse_linkedin(request: PersonEnrichmentRequest, notes: list[FieldNote]) -> LinkedInUrl | None:
    if not request.linkedin_url:
        return None
    linkedin = parse_linkedin_url(request.linkedin_url)
    _record(notes, "linkedin_url", linkedin.notes)
    return linkedin


def _parse_domain(request: PersonEnrichmentRequest, notes: list[FieldNote]) -> Domain | None:
    if not request.company_domain:
        return None
    domain = normalise_company_domain(request.company_domain)
    _record(notes, "company_domain", domain.notes)
    return None if has_rejection(domain.notes) or domain.ascii is None else domain


def _parse_company(request: PersonEnrichmentRequest, notes: list[FieldNote]) -> CompanyName | None:
    if not request.company_name:
        return None
    company = parse_company_name(request.company_name)
    _record(notes, "company_name", company.notes)
    return None if has_rejection(company.notes) or not company.base else company


def _identification_errors(
    request: PersonEnrichmentRequest, *, name: PersonName | None, linkedin: LinkedInUrl | None, has_company: bool
) -> list[FieldError]:
    """Explain, field by field, why what is left cannot identify one person."""
    errors: list[FieldError] = []
    if linkedin is not None:
        reason = next((note.message for note in linkedin.notes if note.kind is NoteKind.REJECTED), None)
        errors.append(FieldError("linkedin_url", reason or "this LinkedIn URL is not a public profile URL"))
    name_given = bool(request.full_name or request.first_name or request.last_name)
    if name_given and (name is None or not (name.first or name.last)):
        errors.append(FieldError(_name_field(request), "no usable name was found in this value"))
    if not has_company and request.company_domain:
        errors.append(
            FieldError(
                "company_domain",
                f"{request.company_domain!r} cannot be used as a company domain; send the employer's own "
                "website, such as example.com, or send company_name",
            )
        )
    if not has_company and request.company_name:
        errors.append(FieldError("company_name", "no company name was found in this value"))
    if not errors:
        errors.append(
            FieldError(
                "body",
                "too little to identify a person: send linkedin_url, or a name (full_name, or first_name and "
                "last_name) together with company_domain or company_name",
            )
        )
    return errors
