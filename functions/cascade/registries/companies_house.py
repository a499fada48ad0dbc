"""UK Companies House Public Data API: company profile, search, officers and persons with significant control.

Base URL https://api.company-information.service.gov.uk. Authentication is HTTP Basic with the
API key as the user name and an empty password; a bad key gets HTTP 401 with
``{"error": "Invalid Authorization", "type": "ch:service"}``. The limit is 600 requests per
5 minutes per key. An unknown company number gets HTTP 404 with a JSON body.

Profiles vary by company type. An LLP has no ``sic_codes``, and an oversea company has
``foreign_company_details``. A company that stopped filing before UK SIC 2007 came into use may
carry a 4-digit SIC 2003 code, and an ``annual_return`` in place of a ``confirmation_statement``.
Any text field may contain the string "null".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cascade.registries import parsing
from cascade.registries.client import RegistryClient
from cascade.registries.errors import RegistryBadResponseError
from cascade.registries.industry import uk_sic_code
from cascade.registries.models import (
    Address,
    Company,
    CompanyIdentifiers,
    CompanyStatus,
    ControllingEntity,
    CorporateOfficer,
    FormerName,
    Jurisdiction,
    OfficerSummary,
    ParentLevel,
    ParentLink,
    Registry,
    Sourced,
    canonical_uk_company_number,
)

BASE_URL = "https://api.company-information.service.gov.uk"
MAX_ITEMS_PER_PAGE = 100
_REGISTRY = Registry.COMPANIES_HOUSE

# Values of ``company_status`` in Companies House's API enumerations. A voluntary arrangement and
# other insolvency proceedings leave the company in existence under an insolvency practitioner,
# which is closest to administration in Cascade's vocabulary.
_STATUSES: dict[str, CompanyStatus] = {
    "active": CompanyStatus.ACTIVE,
    "open": CompanyStatus.ACTIVE,
    "registered": CompanyStatus.ACTIVE,
    "dissolved": CompanyStatus.DISSOLVED,
    "closed": CompanyStatus.DISSOLVED,
    "removed": CompanyStatus.DISSOLVED,
    "liquidation": CompanyStatus.IN_LIQUIDATION,
    "administration": CompanyStatus.IN_ADMINISTRATION,
    "voluntary-arrangement": CompanyStatus.IN_ADMINISTRATION,
    "insolvency-proceedings": CompanyStatus.IN_ADMINISTRATION,
    "receivership": CompanyStatus.RECEIVERSHIP,
    "converted-closed": CompanyStatus.CONVERTED_CLOSED,
}

_JURISDICTIONS: dict[str, str] = {
    "england-wales": "England and Wales",
    "wales": "Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
    "england": "England",
    "united-kingdom": "United Kingdom",
    "european-union": "European Union",
    "noneu": "Outside the European Union",
}

# Country names that Companies House addresses use for the United Kingdom and its parts.
_UK_COUNTRY_NAMES = frozenset(
    {"united kingdom", "uk", "england", "wales", "scotland", "northern ireland", "great britain", "england and wales"}
)

# A corporate person with significant control that owns more than half of the shares is reported as a parent.
_MAJORITY_CONTROL = frozenset({"ownership-of-shares-50-to-75-percent", "ownership-of-shares-75-to-100-percent"})
_CORPORATE_PSC_KINDS = frozenset(
    {"corporate-entity-person-with-significant-control", "legal-person-person-with-significant-control"}
)
_CORPORATE_OFFICER_ROLES = frozenset(
    {"corporate-secretary", "corporate-director", "corporate-llp-member", "corporate-llp-designated-member"}
)


def company_status(value: str | None) -> CompanyStatus:
    """Map a Companies House ``company_status`` to Cascade's status; an unknown or missing value is ``unknown``."""
    return _STATUSES.get((value or "").strip().lower(), CompanyStatus.UNKNOWN)


def parse_profile(body: Any, fetched_at: datetime) -> Company:
    """Read a ``GET /company/{number}`` body into a ``Company``."""
    name = parsing.text(body, "company_name")
    raw_number = parsing.text(body, "company_number")
    if name is None or raw_number is None:
        raise RegistryBadResponseError(_REGISTRY.value, "companies_house profile has no company name or number")
    try:
        number = canonical_uk_company_number(raw_number)
    except ValueError:
        raise RegistryBadResponseError(
            _REGISTRY.value, "companies_house profile has an invalid company number"
        ) from None

    def sourced(value: Any) -> Any:
        return Sourced(value=value, source=_REGISTRY, fetched_at=fetched_at)

    raw_status = parsing.text(body, "company_status")
    jurisdiction = parsing.text(body, "jurisdiction")
    legal_form = parsing.text(body, "type")
    sic_codes = [code for code in parsing.items(body, "sic_codes") if isinstance(code, str) and code.strip()]
    address = parse_address(parsing.mapping(body, "registered_office_address"))
    former_names = _former_names(parsing.items(body, "previous_company_names"))
    created = parsing.day(body.get("date_of_creation"))
    ceased = parsing.day(body.get("date_of_cessation"))
    last_accounts = parsing.day(parsing.mapping(parsing.mapping(body, "accounts"), "last_accounts").get("made_up_to"))
    statement = parsing.mapping(body, "confirmation_statement") or parsing.mapping(body, "annual_return")
    statement_date = parsing.day(statement.get("last_made_up_to"))
    return Company(
        legal_name=sourced(name),
        identifiers=CompanyIdentifiers(uk_company_number=number),
        status=sourced(company_status(raw_status)),
        registry_status=sourced(raw_status) if raw_status else None,
        incorporation_date=sourced(created) if created else None,
        dissolution_date=sourced(ceased) if ceased else None,
        jurisdiction=sourced(Jurisdiction(code=jurisdiction, description=_JURISDICTIONS.get(jurisdiction)))
        if jurisdiction
        else None,
        legal_form=sourced(legal_form) if legal_form else None,
        industry_codes=sourced([uk_sic_code(code) for code in sic_codes]) if sic_codes else None,
        registered_address=sourced(address) if address else None,
        former_names=sourced(former_names) if former_names else None,
        last_accounts_date=sourced(last_accounts) if last_accounts else None,
        confirmation_statement_date=sourced(statement_date) if statement_date else None,
        notes=_profile_notes(body, has_sic_codes=bool(sic_codes)),
    )


def _profile_notes(body: dict[str, Any], *, has_sic_codes: bool) -> list[str]:
    notes: list[str] = []
    if not has_sic_codes:
        notes.append("Companies House lists no SIC codes for this company; LLPs and some company types file none.")
    if parsing.mapping(body, "confirmation_statement").get("overdue") is True:
        notes.append("The confirmation statement is overdue at Companies House.")
    foreign = parsing.mapping(body, "foreign_company_details")
    if foreign:
        registry = parsing.mapping(foreign, "originating_registry")
        origin = ", ".join(part for part in (parsing.text(registry, "name"), parsing.text(registry, "country")) if part)
        foreign_form = parsing.text(foreign, "legal_form")
        number = parsing.text(foreign, "registration_number")
        details = "; ".join(
            part
            for part in (
                f"originating registry {origin}" if origin else None,
                f"registration number {number}" if number else None,
                f"legal form {foreign_form}" if foreign_form else None,
            )
            if part
        )
        notes.append(f"Oversea company registered in the UK as a branch ({details}).")
    return notes


def parse_address(raw: dict[str, Any]) -> Address | None:
    """Read a Companies House address; ``premises`` comes first, as the profile folds it into line 1."""
    lines = [
        line
        for line in (
            parsing.text(raw, "premises"),
            parsing.text(raw, "address_line_1"),
            parsing.text(raw, "address_line_2"),
        )
        if line
    ]
    locality = parsing.text(raw, "locality")
    postal_code = parsing.text(raw, "postal_code")
    if not lines and locality is None and postal_code is None:
        return None
    country_name = parsing.text(raw, "country")
    country = "GB" if country_name and country_name.lower() in _UK_COUNTRY_NAMES else None
    return Address(
        lines=lines, locality=locality, region=parsing.text(raw, "region"), postal_code=postal_code, country=country
    )


def _former_names(raw: list[Any]) -> list[FormerName]:
    return [
        FormerName(
            name=name, from_date=parsing.day(entry.get("effective_from")), to_date=parsing.day(entry.get("ceased_on"))
        )
        for entry in raw
        if (name := parsing.text(entry, "name"))
    ]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result of ``GET /search/companies``; search results name the company in ``title``."""

    legal_name: str
    company_number: str
    status: CompanyStatus
    company_type: str | None
    date_of_creation: date | None
    address: Address | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    total_results: int
    start_index: int
    items_per_page: int


def parse_search(body: Any) -> SearchPage:
    """Read a company search body; hits without a name or a valid number are skipped."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise RegistryBadResponseError(_REGISTRY.value, "companies_house search result has no items array")
    hits: list[SearchHit] = []
    for item in parsing.items(body, "items"):
        title = parsing.text(item, "title")
        raw_number = parsing.text(item, "company_number")
        if title is None or raw_number is None:
            continue
        try:
            number = canonical_uk_company_number(raw_number)
        except ValueError:
            continue
        hits.append(
            SearchHit(
                legal_name=title,
                company_number=number,
                status=company_status(parsing.text(item, "company_status")),
                company_type=parsing.text(item, "company_type"),
                date_of_creation=parsing.day(item.get("date_of_creation")),
                address=parse_address(parsing.mapping(item, "address")),
            )
        )
    return SearchPage(
        hits=hits,
        total_results=parsing.integer(body, "total_results") or 0,
        start_index=parsing.integer(body, "start_index") or 0,
        items_per_page=parsing.integer(body, "items_per_page") or len(hits),
    )


def parse_officers(body: Any) -> OfficerSummary:
    """Read an officer list into counts and the officers that are companies; natural persons are not named."""
    corporate: list[CorporateOfficer] = []
    for item in parsing.items(body, "items"):
        role = parsing.text(item, "officer_role")
        name = parsing.text(item, "name")
        if role not in _CORPORATE_OFFICER_ROLES or name is None or parsing.text(item, "resigned_on"):
            continue
        identification = parsing.mapping(item, "identification")
        corporate.append(
            CorporateOfficer(
                name=name, role=role, registration_number=parsing.text(identification, "registration_number")
            )
        )
    return OfficerSummary(
        active_count=parsing.integer(body, "active_count"),
        resigned_count=parsing.integer(body, "resigned_count"),
        total_results=parsing.integer(body, "total_results"),
        corporate_officers=corporate,
    )


def parse_psc(body: Any) -> list[ControllingEntity]:
    """Read a PSC list into its corporate and legal-person entries; individuals are left out."""
    entities: list[ControllingEntity] = []
    for item in parsing.items(body, "items"):
        name = parsing.text(item, "name")
        if parsing.text(item, "kind") not in _CORPORATE_PSC_KINDS or name is None:
            continue
        identification = parsing.mapping(item, "identification")
        natures = [nature for nature in parsing.items(item, "natures_of_control") if isinstance(nature, str)]
        entities.append(
            ControllingEntity(
                name=name,
                legal_form=parsing.text(identification, "legal_form"),
                country_registered=parsing.text(identification, "country_registered"),
                registration_number=parsing.text(identification, "registration_number"),
                natures_of_control=natures,
                ceased=item.get("ceased") is True or parsing.text(item, "ceased_on") is not None,
            )
        )
    return entities


def parent_links(entities: list[ControllingEntity]) -> list[ParentLink]:
    """Return a direct parent link for each current corporate PSC that owns more than half of the shares."""
    return [
        ParentLink(
            level=ParentLevel.DIRECT, legal_name=entity.name, relationship_type="PERSON_WITH_SIGNIFICANT_CONTROL"
        )
        for entity in entities
        if not entity.ceased and _MAJORITY_CONTROL.intersection(entity.natures_of_control)
    ]


def parse_psc_statements(body: Any) -> list[str]:
    """Return the statement codes, such as ``psc-has-failed-to-confirm-changed-details``, of current statements."""
    return [
        statement
        for item in parsing.items(body, "items")
        if (statement := parsing.text(item, "statement")) and not parsing.text(item, "ceased_on")
    ]


def parse_exemptions(body: Any, *, today: date) -> list[str]:
    """Return the exemption types in force on ``today``, such as ``psc-exempt-as-trading-on-uk-regulated-market``."""
    current: list[str] = []
    for exemption in parsing.mapping(body, "exemptions").values():
        kind = parsing.text(exemption, "exemption_type")
        if kind is None:
            continue
        for period in parsing.items(exemption, "items"):
            start = parsing.day(period.get("exempt_from")) if isinstance(period, dict) else None
            end = parsing.day(period.get("exempt_to")) if isinstance(period, dict) else None
            if start is not None and start <= today and (end is None or end >= today):
                current.append(kind)
                break
    return current


class CompaniesHouse:
    """The Companies House adapter; every method makes one request."""

    registry = _REGISTRY

    def __init__(self, client: RegistryClient, *, api_key: str, clock: Callable[[], datetime] | None = None) -> None:
        if not api_key.strip():
            raise ValueError("the Companies House API key is empty; set CASCADE_COMPANIES_HOUSE_API_KEY")
        self._client = client
        self._auth = (api_key, "")
        self._clock = clock or (lambda: datetime.now(UTC))

    def _get(self, path: str, *, params: dict[str, str | int] | None = None, max_wait: float | None = None) -> Any:
        return self._client.get_json(path, params=params, auth=self._auth, max_wait=max_wait)

    def profile(self, number: str, *, max_wait: float | None = None) -> Company:
        """Fetch the company profile; raises ``RegistryNotFoundError`` for an unknown number."""
        canonical = canonical_uk_company_number(number)
        return parse_profile(self._get(f"/company/{canonical}", max_wait=max_wait), self._clock())

    def search(
        self, query: str, *, items_per_page: int = 20, start_index: int = 0, max_wait: float | None = None
    ) -> SearchPage:
        if not 1 <= items_per_page <= MAX_ITEMS_PER_PAGE:
            raise ValueError(f"items_per_page is {items_per_page}; send 1 to {MAX_ITEMS_PER_PAGE}")
        params: dict[str, str | int] = {"q": query, "items_per_page": items_per_page, "start_index": start_index}
        return parse_search(self._get("/search/companies", params=params, max_wait=max_wait))

    def officers(self, number: str, *, max_wait: float | None = None) -> OfficerSummary:
        canonical = canonical_uk_company_number(number)
        return parse_officers(self._get(f"/company/{canonical}/officers", max_wait=max_wait))

    def persons_with_significant_control(
        self, number: str, *, max_wait: float | None = None
    ) -> list[ControllingEntity]:
        canonical = canonical_uk_company_number(number)
        return parse_psc(self._get(f"/company/{canonical}/persons-with-significant-control", max_wait=max_wait))

    def psc_statements(self, number: str, *, max_wait: float | None = None) -> list[str]:
        canonical = canonical_uk_company_number(number)
        path = f"/company/{canonical}/persons-with-significant-control-statements"
        return parse_psc_statements(self._get(path, max_wait=max_wait))

    def exemptions(self, number: str, *, max_wait: float | None = None) -> list[str]:
        canonical = canonical_uk_company_number(number)
        body = self._get(f"/company/{canonical}/exemptions", max_wait=max_wait)
        return parse_exemptions(body, today=self._clock().date())

    def close(self) -> None:
        self._client.close()
