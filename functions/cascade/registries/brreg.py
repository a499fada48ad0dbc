"""Brønnøysund Register Centre, the Norwegian Central Coordinating Register for Legal Entities (Enhetsregisteret).

Base URL https://data.brreg.no/enhetsregisteret/api, no key. ``GET /enheter/{orgnr}`` returns one
entity and ``GET /enheter?navn=`` searches by name (HAL: ``_embedded.enheter`` and ``page``).
Field names are Norwegian, fields are left out rather than null when empty, industry codes are
SN2007 (NACE) codes with a dot ("06.100") and Brønnøysund's own description, and
``historiskeNavn`` dates carry a time ("1995-03-12 16:23:00").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cascade.registries import parsing
from cascade.registries.client import RegistryClient
from cascade.registries.errors import RegistryBadResponseError
from cascade.registries.industry import nace_code
from cascade.registries.models import (
    Address,
    Company,
    CompanyIdentifiers,
    CompanyStatus,
    FormerName,
    IndustryCode,
    Jurisdiction,
    ParentLevel,
    ParentLink,
    Registry,
    Sourced,
    canonical_no_org_number,
)

BASE_URL = "https://data.brreg.no/enhetsregisteret/api"
MAX_PAGE_SIZE = 100
_REGISTRY = Registry.BRREG
_INDUSTRY_KEYS = ("naeringskode1", "naeringskode2", "naeringskode3")


def brreg_status(body: dict[str, Any]) -> tuple[CompanyStatus, str]:
    """Map the deletion date and the bankruptcy and winding-up flags to a status and the flag that decided it.

    A deleted entity (``slettedato``) is dissolved. Bankruptcy (``konkurs``), voluntary winding-up
    (``underAvvikling``) and compulsory winding-up or dissolution are all liquidations.
    """
    if parsing.text(body, "slettedato"):
        return CompanyStatus.DISSOLVED, "slettet"
    for flag in ("konkurs", "underTvangsavviklingEllerTvangsopplosning", "underAvvikling"):
        if body.get(flag) is True:
            return CompanyStatus.IN_LIQUIDATION, flag
    return CompanyStatus.ACTIVE, "registrert"


def parse_entity(body: Any, fetched_at: datetime) -> Company:
    """Read a ``GET /enheter/{orgnr}`` body into a ``Company``."""
    name = parsing.text(body, "navn")
    raw_number = parsing.text(body, "organisasjonsnummer")
    if name is None or raw_number is None:
        raise RegistryBadResponseError(_REGISTRY.value, "brreg entity has no name or organisation number")
    try:
        number = canonical_no_org_number(raw_number)
    except ValueError:
        raise RegistryBadResponseError(_REGISTRY.value, "brreg entity has an invalid organisation number") from None

    def sourced(value: Any) -> Any:
        return Sourced(value=value, source=_REGISTRY, fetched_at=fetched_at)

    status, flag = brreg_status(body)
    form = parsing.mapping(body, "organisasjonsform")
    form_code = parsing.text(form, "kode")
    founded = parsing.day(body.get("stiftelsesdato"))
    deleted = parsing.day(body.get("slettedato"))
    industry = _industry_codes(body)
    address = _address(parsing.mapping(body, "forretningsadresse")) or _address(parsing.mapping(body, "postadresse"))
    former_names = [
        FormerName(name=former, from_date=parsing.day(entry.get("fraDato")), to_date=parsing.day(entry.get("tilDato")))
        for entry in parsing.items(body, "historiskeNavn")
        if (former := parsing.text(entry, "navn"))
    ]
    website = parsing.text(body, "hjemmeside")
    parents = _parents(body)
    return Company(
        legal_name=sourced(name),
        identifiers=CompanyIdentifiers(no_org_number=number),
        status=sourced(status),
        registry_status=sourced(flag),
        incorporation_date=sourced(founded) if founded else None,
        dissolution_date=sourced(deleted) if deleted else None,
        jurisdiction=sourced(Jurisdiction(code="NO", description="Norway")),
        legal_form=sourced(form_code) if form_code else None,
        website=sourced(website) if website else None,
        industry_codes=sourced(industry) if industry else None,
        registered_address=sourced(address) if address else None,
        former_names=sourced(former_names) if former_names else None,
        parents=sourced(parents) if parents else None,
    )


def _industry_codes(body: dict[str, Any]) -> list[IndustryCode]:
    codes: list[IndustryCode] = []
    for key in _INDUSTRY_KEYS:
        entry = parsing.mapping(body, key)
        code = parsing.text(entry, "kode")
        if code is not None:
            codes.append(nace_code(code, parsing.text(entry, "beskrivelse")))
    return codes


def _address(raw: dict[str, Any]) -> Address | None:
    lines = [line.strip() for line in parsing.items(raw, "adresse") if isinstance(line, str) and line.strip()]
    locality = parsing.text(raw, "poststed")
    if not lines and locality is None:
        return None
    country = parsing.text(raw, "landkode")
    return Address(
        lines=lines,
        locality=locality,
        region=parsing.text(raw, "kommune"),
        postal_code=parsing.text(raw, "postnummer"),
        country=country.upper() if country else None,
    )


def _parents(body: dict[str, Any]) -> list[ParentLink]:
    parent = parsing.text(body, "overordnetEnhet")
    if parent is None:
        return []
    try:
        identifiers = CompanyIdentifiers(no_org_number=parent)
    except ValueError:
        return []
    return [ParentLink(level=ParentLevel.DIRECT, identifiers=identifiers, relationship_type="OVERORDNET_ENHET")]


@dataclass(frozen=True, slots=True)
class BrregPage:
    """One page of a name search; ``number`` counts from 0 as Brønnøysund does."""

    companies: list[Company]
    total_elements: int
    total_pages: int
    number: int


def parse_search(body: Any, fetched_at: datetime) -> BrregPage:
    """Read a search body. A search without hits has no ``_embedded`` object at all."""
    if not isinstance(body, dict):
        raise RegistryBadResponseError(_REGISTRY.value, "brreg search result is not a JSON object")
    companies: list[Company] = []
    for entry in parsing.items(parsing.mapping(body, "_embedded"), "enheter"):
        try:
            companies.append(parse_entity(entry, fetched_at))
        except RegistryBadResponseError:
            continue
    page = parsing.mapping(body, "page")
    return BrregPage(
        companies=companies,
        total_elements=parsing.integer(page, "totalElements") or len(companies),
        total_pages=parsing.integer(page, "totalPages") or (1 if companies else 0),
        number=parsing.integer(page, "number") or 0,
    )


class Brreg:
    """The Brønnøysund adapter; every method makes one request."""

    registry = _REGISTRY

    def __init__(self, client: RegistryClient, *, clock: Callable[[], datetime] | None = None) -> None:
        self._client = client
        self._clock = clock or (lambda: datetime.now(UTC))

    def entity(self, org_number: str, *, max_wait: float | None = None) -> Company:
        """Fetch one entity; raises ``RegistryNotFoundError`` for an unknown number."""
        body = self._client.get_json(f"/enheter/{canonical_no_org_number(org_number)}", max_wait=max_wait)
        return parse_entity(body, self._clock())

    def search(self, name: str, *, size: int = 20, page: int = 0, max_wait: float | None = None) -> BrregPage:
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"size is {size}; send 1 to {MAX_PAGE_SIZE}")
        params: dict[str, str | int] = {"navn": name, "size": size, "page": page}
        return parse_search(self._client.get_json("/enheter", params=params, max_wait=max_wait), self._clock())

    def close(self) -> None:
        self._client.close()
