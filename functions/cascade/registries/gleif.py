"""GLEIF LEI API: LEI records, searches by local registration number or name, and parent relationships.

Base URL https://api.gleif.org/api/v1, JSON:API documents (``application/vnd.api+json``), no key.
``data`` is one resource for a single record and an array for a list; lists carry
``meta.pagination`` and ``links.next`` while a further page exists.

A record's ``relationships.direct-parent`` (and ``ultimate-parent``) links show which kind of
parent information exists: a ``relationship-record`` when a parent is reported, or a
``reporting-exception`` with the reason when none is. The adapter reads only the kind that exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from cascade.registries import parsing
from cascade.registries.client import RegistryClient
from cascade.registries.errors import RegistryBadResponseError, RegistryNotFoundError
from cascade.registries.models import (
    Address,
    Company,
    CompanyIdentifiers,
    CompanyStatus,
    FormerName,
    Jurisdiction,
    ParentLevel,
    ParentLink,
    Registry,
    Sourced,
    canonical_lei,
    canonical_no_org_number,
    canonical_uk_company_number,
)

BASE_URL = "https://api.gleif.org/api/v1"
# GLEIF's code for Companies House in its registration authorities list.
COMPANIES_HOUSE_AUTHORITY = "RA000585"
MAX_PAGE_SIZE = 200
_REGISTRY = Registry.GLEIF
_HEADERS = {"Accept": "application/vnd.api+json"}
_HALF_DAY = timedelta(hours=12)

ParentInfo = Literal["relationship", "exception"]


def gleif_status(entity_status: str | None, registration_status: str | None) -> CompanyStatus:
    """Map ``entity.status`` and ``registration.status`` to Cascade's status.

    An ACTIVE entity is active whatever the status of its LEI registration, because a LAPSED registration
    only means the LEI was not renewed. An INACTIVE entity whose LEI was retired for a merger is
    ``converted_closed``; one whose LEI was retired otherwise is ``dissolved``.
    """
    entity = (entity_status or "").upper()
    registration = (registration_status or "").upper()
    if entity == "ACTIVE":
        return CompanyStatus.ACTIVE
    if entity == "INACTIVE":
        if registration == "MERGED":
            return CompanyStatus.CONVERTED_CLOSED
        if registration == "RETIRED":
            return CompanyStatus.DISSOLVED
        return CompanyStatus.INACTIVE
    return CompanyStatus.UNKNOWN


def _creation_day(value: Any) -> date | None:
    """Read ``entity.creationDate``, rounding to the nearest day.

    Some records write local midnight in UTC ("1952-10-16T23:00:00Z" for 17 October in Germany).
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parsing.day(value)
    return (moment + _HALF_DAY).date()


def parse_lei_record(resource: Any, fetched_at: datetime) -> Company:
    """Read one ``lei-records`` resource object (the ``data`` of a single record) into a ``Company``."""
    attributes = parsing.mapping(resource, "attributes")
    entity = parsing.mapping(attributes, "entity")
    registration = parsing.mapping(attributes, "registration")
    name = parsing.text(parsing.mapping(entity, "legalName"), "name")
    raw_lei = parsing.text(attributes, "lei") or parsing.text(resource, "id")
    if name is None or raw_lei is None:
        raise RegistryBadResponseError(_REGISTRY.value, "gleif record has no legal name or LEI")
    try:
        lei = canonical_lei(raw_lei)
    except ValueError:
        raise RegistryBadResponseError(_REGISTRY.value, "gleif record has an invalid LEI") from None

    def sourced(value: Any) -> Any:
        return Sourced(value=value, source=_REGISTRY, fetched_at=fetched_at)

    entity_status = parsing.text(entity, "status")
    registration_status = parsing.text(registration, "status")
    jurisdiction = parsing.text(entity, "jurisdiction")
    legal_form = parsing.mapping(entity, "legalForm")
    form = parsing.text(legal_form, "other") or parsing.text(legal_form, "id")
    address = _address(parsing.mapping(entity, "legalAddress"))
    created = _creation_day(entity.get("creationDate"))
    former_names = [
        FormerName(name=other)
        for entry in parsing.items(entity, "otherNames")
        if parsing.text(entry, "type") == "PREVIOUS_LEGAL_NAME" and (other := parsing.text(entry, "name"))
    ]
    return Company(
        legal_name=sourced(name),
        identifiers=_identifiers(lei, entity),
        status=sourced(gleif_status(entity_status, registration_status)),
        registry_status=sourced(f"entity {entity_status or 'unknown'}, LEI {registration_status or 'unknown'}"),
        incorporation_date=sourced(created) if created else None,
        jurisdiction=sourced(Jurisdiction(code=jurisdiction)) if jurisdiction else None,
        # An ISO 20275 Entity Legal Form code such as "B6ES", or the registrant's own text when no code fits.
        legal_form=sourced(form) if form else None,
        registered_address=sourced(address) if address else None,
        former_names=sourced(former_names) if former_names else None,
    )


def _identifiers(lei: str, entity: dict[str, Any]) -> CompanyIdentifiers:
    """Return the LEI and the local register number when GLEIF names a register Cascade reads."""
    registered_as = parsing.text(entity, "registeredAs")
    authority = parsing.text(parsing.mapping(entity, "registeredAt"), "id")
    uk_number: str | None = None
    no_number: str | None = None
    if registered_as is not None and authority == COMPANIES_HOUSE_AUTHORITY:
        try:
            uk_number = canonical_uk_company_number(registered_as)
        except ValueError:
            uk_number = None
    elif registered_as is not None and parsing.text(entity, "jurisdiction") == "NO":
        try:
            no_number = canonical_no_org_number(registered_as)
        except ValueError:
            no_number = None
    return CompanyIdentifiers(lei=lei, uk_company_number=uk_number, no_org_number=no_number)


def _address(raw: dict[str, Any]) -> Address | None:
    lines = [line.strip() for line in parsing.items(raw, "addressLines") if isinstance(line, str) and line.strip()]
    city = parsing.text(raw, "city")
    if not lines and city is None:
        return None
    country = parsing.text(raw, "country")
    return Address(
        lines=lines,
        locality=city,
        region=parsing.text(raw, "region"),
        postal_code=parsing.text(raw, "postalCode"),
        country=country.upper() if country else None,
    )


def parent_info(resource: Any) -> dict[ParentLevel, ParentInfo]:
    """Return, per parent level, whether the record links a parent relationship or a reporting exception."""
    relationships = parsing.mapping(resource, "relationships")
    found: dict[ParentLevel, ParentInfo] = {}
    for level in ParentLevel:
        links = parsing.mapping(parsing.mapping(relationships, f"{level.value}-parent"), "links")
        if "relationship-record" in links:
            found[level] = "relationship"
        elif "reporting-exception" in links:
            found[level] = "exception"
    return found


def parse_relationship(body: Any, level: ParentLevel) -> ParentLink:
    """Read a ``direct-parent-relationship`` or ``ultimate-parent-relationship`` document."""
    relationship = parsing.mapping(parsing.mapping(parsing.mapping(body, "data"), "attributes"), "relationship")
    parent = parsing.text(parsing.mapping(relationship, "endNode"), "id")
    if parent is None:
        raise RegistryBadResponseError(_REGISTRY.value, "gleif relationship record has no parent LEI")
    return ParentLink(level=level, lei=parent, relationship_type=parsing.text(relationship, "type"))


def parse_reporting_exception(body: Any, level: ParentLevel) -> ParentLink:
    """Read a reporting-exception document: the reason, such as NON_CONSOLIDATING, that no parent is reported."""
    attributes = parsing.mapping(parsing.mapping(body, "data"), "attributes")
    reason = parsing.text(attributes, "reason")
    if reason is None:
        raise RegistryBadResponseError(_REGISTRY.value, "gleif reporting exception has no reason")
    return ParentLink(level=level, exception_reason=reason)


@dataclass(frozen=True, slots=True)
class LeiPage:
    """One page of a list of LEI records; ``next_page`` is ``None`` on the last page."""

    companies: list[Company]
    current_page: int
    last_page: int
    total: int
    next_page: int | None


def parse_record_page(body: Any, fetched_at: datetime) -> LeiPage:
    """Read a list document; records that cannot be read are skipped."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise RegistryBadResponseError(_REGISTRY.value, "gleif list document has no data array")
    companies: list[Company] = []
    for resource in data:
        try:
            companies.append(parse_lei_record(resource, fetched_at))
        except RegistryBadResponseError:
            continue
    pagination = parsing.mapping(parsing.mapping(body, "meta"), "pagination")
    current = parsing.integer(pagination, "currentPage") or 1
    last = parsing.integer(pagination, "lastPage") or current
    return LeiPage(
        companies=companies,
        current_page=current,
        last_page=last,
        total=parsing.integer(pagination, "total") or len(companies),
        next_page=_next_page(parsing.mapping(body, "links"), current, last),
    )


def _next_page(links: dict[str, Any], current: int, last: int) -> int | None:
    next_url = parsing.text(links, "next")
    if next_url is not None:
        numbers = parse_qs(urlsplit(next_url).query).get("page[number]")
        if numbers and numbers[0].isdigit():
            return int(numbers[0])
    return current + 1 if current < last else None


class Gleif:
    """The GLEIF adapter; each method makes one request except ``company``, which also reads the parents."""

    registry = _REGISTRY

    def __init__(self, client: RegistryClient, *, clock: Callable[[], datetime] | None = None) -> None:
        self._client = client
        self._clock = clock or (lambda: datetime.now(UTC))

    def _get(self, path: str, params: dict[str, str | int] | None = None, max_wait: float | None = None) -> Any:
        return self._client.get_json(path, params=params, headers=_HEADERS, max_wait=max_wait)

    def record(self, lei: str, *, max_wait: float | None = None) -> tuple[Company, dict[ParentLevel, ParentInfo]]:
        """Fetch one LEI record; return the company and which parent information the record links."""
        body = self._get(f"/lei-records/{canonical_lei(lei)}", max_wait=max_wait)
        resource = parsing.mapping(body, "data")
        return parse_lei_record(resource, self._clock()), parent_info(resource)

    def company(self, lei: str, *, max_wait: float | None = None) -> Company:
        """Fetch one LEI record with its direct and ultimate parents (up to 5 requests)."""
        company, info = self.record(lei, max_wait=max_wait)
        links = self.parents(lei, info, max_wait=max_wait)
        if not links:
            return company
        fetched_at = self._clock()
        return company.model_copy(update={"parents": Sourced(value=links, source=_REGISTRY, fetched_at=fetched_at)})

    def parents(
        self, lei: str, info: dict[ParentLevel, ParentInfo], *, max_wait: float | None = None
    ) -> list[ParentLink]:
        """Read each level's relationship (with the parent's legal name) or reporting exception."""
        canonical = canonical_lei(lei)
        links: list[ParentLink] = []
        for level, kind in info.items():
            try:
                if kind == "exception":
                    body = self._get(
                        f"/lei-records/{canonical}/{level.value}-parent-reporting-exception", max_wait=max_wait
                    )
                    links.append(parse_reporting_exception(body, level))
                    continue
                body = self._get(f"/lei-records/{canonical}/{level.value}-parent-relationship", max_wait=max_wait)
                link = parse_relationship(body, level)
                parent = self._get(f"/lei-records/{canonical}/{level.value}-parent", max_wait=max_wait)
                entity = parsing.mapping(parsing.mapping(parsing.mapping(parent, "data"), "attributes"), "entity")
                legal_name = parsing.text(parsing.mapping(entity, "legalName"), "name")
                links.append(link.model_copy(update={"legal_name": legal_name}))
            except RegistryNotFoundError:
                # The record linked the document, but it is gone: the golden copy changed between requests.
                continue
        return links

    def by_registration(
        self, registered_as: str, *, jurisdiction: str | None = None, max_wait: float | None = None
    ) -> list[Company]:
        """Find LEI records by local register number, such as a Companies House number with jurisdiction GB."""
        params: dict[str, str | int] = {"filter[entity.registeredAs]": registered_as}
        if jurisdiction:
            params["filter[entity.jurisdiction]"] = jurisdiction
        return parse_record_page(self._get("/lei-records", params, max_wait), self._clock()).companies

    def search_name(
        self,
        name: str,
        *,
        jurisdiction: str | None = None,
        page_size: int = 10,
        page_number: int = 1,
        max_wait: float | None = None,
    ) -> LeiPage:
        """Search LEI records by legal name with GLEIF's full-text filter, in one jurisdiction when given."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size is {page_size}; send 1 to {MAX_PAGE_SIZE}")
        params: dict[str, str | int] = {"filter[fulltext]": name, "page[size]": page_size, "page[number]": page_number}
        if jurisdiction:
            params["filter[entity.jurisdiction]"] = jurisdiction
        return parse_record_page(self._get("/lei-records", params, max_wait), self._clock())

    def direct_children(
        self, lei: str, *, page_size: int = 15, page_number: int = 1, max_wait: float | None = None
    ) -> LeiPage:
        params: dict[str, str | int] = {"page[size]": page_size, "page[number]": page_number}
        return parse_record_page(
            self._get(f"/lei-records/{canonical_lei(lei)}/direct-children", params, max_wait), self._clock()
        )

    def close(self) -> None:
        self._client.close()
