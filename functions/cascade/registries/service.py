"""Company enrichment: the cache in front of registry resolution, for the API and for person results.

``CompanyEnricher.enrich`` serves ``POST /v1/companies/enrich``: it returns a cached result when
one is fresh and otherwise resolves the query and caches the result (``company_cache_days``).
Registry errors propagate when every registry that was asked failed. ``for_person`` attaches the company
block to a person result: it never raises for a registry or cache failure, and returns
``not_found`` with a note instead.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from pydantic import ValidationError

from cascade.domain.errors import field_errors
from cascade.normalise.domains import normalise_company_domain
from cascade.observability import get_logger
from cascade.providers.credentials import SecretsManagerCredentials, StaticCredentials
from cascade.providers.http import ProviderHttp
from cascade.registries import brreg, companies_house, gleif, sec
from cascade.registries.brreg import Brreg
from cascade.registries.client import RegistryClient
from cascade.registries.companies_house import CompaniesHouse
from cascade.registries.errors import RegistryError
from cascade.registries.gleif import Gleif
from cascade.registries.models import (
    Company,
    CompanyIdentifiers,
    CompanyMatch,
    CompanyQuery,
    MatchStatus,
    Registry,
)
from cascade.registries.pacing import DEFAULT_LIMITS, PaceLimit, Pacer, per_second_limit
from cascade.registries.resolution import CompanyResolver, Deadline, Registries, Trace, name_key
from cascade.registries.sec import SecEdgar
from cascade.settings import Stage, get_settings
from cascade.storage.companies import CompanyCache, fact_key, query_key
from cascade.storage.dynamo import StorageError, client_factory

if TYPE_CHECKING:
    from cascade.settings import Settings
    from cascade.storage.dynamo import ClientSource

# API Gateway ends a request after 29 s, so a company lookup gets less than that.
DEFAULT_ENRICH_BUDGET_SECONDS = 20.0
# A person result waits at most this long for its company block.
DEFAULT_PERSON_BUDGET_SECONDS = 3.0

_IDENTIFIER_REGISTRIES: tuple[tuple[str, Registry], ...] = (
    ("uk_company_number", Registry.COMPANIES_HOUSE),
    ("no_org_number", Registry.BRREG),
    ("lei", Registry.GLEIF),
    ("sec_cik", Registry.SEC_EDGAR),
)


class CompanyCacheStore(Protocol):
    """The part of ``CompanyCache`` that the enricher uses."""

    def get(self, key: str, *, now: datetime) -> dict[str, Any] | None: ...

    def put(self, key: str, document: dict[str, Any], *, now: datetime) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalised_query(query: CompanyQuery) -> str:
    """Return the text that identifies a query for the cache, equal for spellings of one name or domain."""
    name = name_key(query.name) if query.name else None
    domain = normalise_company_domain(query.domain).ascii if query.domain else None
    identifiers = query.identifiers.model_dump() if query.identifiers is not None else {}
    document = {
        "identifiers": identifiers,
        "name": [name.match_key, name.legal_form] if name else None,
        "domain": domain or (query.domain.lower() if query.domain else None),
        "country": query.country,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


class CompanyEnricher:
    """Company lookups with a cache. ``clock`` returns an aware datetime; ``monotonic`` measures budgets."""

    def __init__(
        self,
        registries: Registries,
        cache: CompanyCacheStore | None = None,
        clock: Callable[[], datetime] = utc_now,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registries = registries
        self._resolver = CompanyResolver(registries)
        self._cache = cache
        self._clock = clock
        self._monotonic = monotonic

    def enrich(self, query: CompanyQuery, *, budget_seconds: float = DEFAULT_ENRICH_BUDGET_SECONDS) -> CompanyMatch:
        """Return the company ``query`` names, from the cache when fresh.

        Raises a ``RegistryError`` when every registry that was asked failed. Cache
        failures are logged and do not stop the lookup.
        """
        now = self._clock()
        cache_key = query_key(normalised_query(query))
        cached = self._cached_match(cache_key, query, now)
        if cached is not None:
            return cached

        trace = Trace()
        match = self._resolver.resolve(query, Deadline(budget_seconds, monotonic=self._monotonic), trace)
        if not trace.failures:
            # A result that a failed registry might have changed is not cached.
            self._store(cache_key, match, now)
        get_logger().info(
            "company lookup finished",
            status=match.status.value,
            candidates=len(match.candidates),
            failures=len(trace.failures),
            query_hash=cache_key.removeprefix("query#")[:16],
        )
        return match

    def for_person(
        self,
        company_name: str | None,
        company_domain: str | None,
        country: str | None,
        *,
        budget_seconds: float = DEFAULT_PERSON_BUDGET_SECONDS,
    ) -> CompanyMatch:
        """Return the company of a person's employer, or ``not_found`` with a note on any failure.

        The name is searched when given, and the domain otherwise.
        """
        try:
            query = CompanyQuery(name=company_name, domain=None if company_name else company_domain, country=country)
        except ValidationError as error:
            reasons = "; ".join(problem.message for problem in field_errors(error, CompanyQuery))
            return CompanyMatch(status=MatchStatus.NOT_FOUND, notes=[f"No company lookup: {reasons}."])
        try:
            return self.enrich(query, budget_seconds=budget_seconds)
        except RegistryError as error:
            get_logger().warning("company lookup failed", registry=error.registry, error_type=type(error).__name__)
            return CompanyMatch(
                status=MatchStatus.NOT_FOUND,
                notes=[f"Company facts are unavailable because the {error.registry} lookup failed: {error}"],
            )

    def close(self) -> None:
        self.registries.close()

    def _cached_match(self, cache_key: str, query: CompanyQuery, now: datetime) -> CompanyMatch | None:
        document = self._cache_get(cache_key, now)
        if document is not None:
            return CompanyMatch.model_validate(document)
        identifiers = query.identifiers
        if identifiers is None or identifiers.is_empty():
            return None
        for field_name, registry in _IDENTIFIER_REGISTRIES:
            value = getattr(identifiers, field_name)
            if value is None:
                continue
            facts = self._cache_get(fact_key(registry.value, value), now)
            if facts is not None:
                company = Company.model_validate(facts)
                return CompanyMatch(status=MatchStatus.RESOLVED, company=company, notes=["Served from the cache."])
        return None

    def _store(self, cache_key: str, match: CompanyMatch, now: datetime) -> None:
        self._cache_put(cache_key, match.model_dump(mode="json"), now)
        if match.company is None:
            return
        facts = match.company.model_dump(mode="json")
        for key in _fact_keys(match.company.identifiers):
            self._cache_put(key, facts, now)

    def _cache_get(self, key: str, now: datetime) -> dict[str, Any] | None:
        if self._cache is None:
            return None
        try:
            document = self._cache.get(key, now=now)
        except StorageError as error:
            get_logger().warning("company cache read failed", code=error.code, key_hash=_key_hash(key))
            return None
        return document

    def _cache_put(self, key: str, document: dict[str, Any], now: datetime) -> None:
        if self._cache is None:
            return
        try:
            self._cache.put(key, document, now=now)
        except StorageError as error:
            get_logger().warning("company cache write failed", code=error.code, key_hash=_key_hash(key))


def _fact_keys(identifiers: CompanyIdentifiers) -> list[str]:
    return [
        fact_key(registry.value, value)
        for field_name, registry in _IDENTIFIER_REGISTRIES
        if (value := getattr(identifiers, field_name)) is not None
    ]


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def build_company_enricher(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    dynamodb: ClientSource | None = None,
    clock: Callable[[], datetime] = utc_now,
    pace_limits: Mapping[Registry, PaceLimit] | None = None,
) -> CompanyEnricher:
    """Build the enricher from ``settings``; nothing connects before the first lookup.

    With ``sandbox_url`` set, each registry is called at ``<sandbox_url>/<registry name>``.
    Companies House is skipped, with a note on every result, when no API key is configured in
    ``companies_house_api_key``, under "companies_house" in ``provider_credentials_json``, or (on AWS)
    in the Secrets Manager secret ``<provider_secret_prefix>companies_house``.
    GLEIF and Brønnøysund are paced at ``gleif_requests_per_second`` and ``brreg_requests_per_second``.
    ``transport`` replaces the network and ``pace_limits`` the request rates, for tests.
    """
    limits = {
        **DEFAULT_LIMITS,
        Registry.GLEIF: per_second_limit(settings.gleif_requests_per_second),
        Registry.BRREG: per_second_limit(settings.brreg_requests_per_second),
        **(pace_limits or {}),
    }
    sandbox = str(settings.sandbox_url).rstrip("/") if settings.sandbox_url is not None else None

    def http(registry: Registry, default_base_url: str) -> ProviderHttp:
        base_url = f"{sandbox}/{registry.value}" if sandbox else default_base_url
        return ProviderHttp(
            base_url,
            connect_timeout=settings.provider_connect_timeout_seconds,
            read_timeout=settings.provider_read_timeout_seconds,
            transport=transport,
        )

    skipped: list[str] = []
    sec_pacer = Pacer(Registry.SEC_EDGAR, limits[Registry.SEC_EDGAR])
    sec_adapter: SecEdgar | None = None
    try:
        sec_adapter = SecEdgar(
            RegistryClient(http(Registry.SEC_EDGAR, sec.TICKERS_BASE_URL), sec_pacer),
            RegistryClient(http(Registry.SEC_EDGAR, sec.DATA_BASE_URL), sec_pacer),
            user_agent=settings.sec_user_agent,
            clock=clock,
        )
    except ValueError as error:
        get_logger().warning("sec edgar skipped", reason="invalid user agent")
        skipped.append(f"SEC EDGAR was skipped: {error}")

    ch_adapter: CompaniesHouse | None = None
    api_key = _companies_house_key(settings)
    if api_key:
        ch_client = RegistryClient(
            http(Registry.COMPANIES_HOUSE, companies_house.BASE_URL),
            Pacer(Registry.COMPANIES_HOUSE, limits[Registry.COMPANIES_HOUSE]),
        )
        ch_adapter = CompaniesHouse(ch_client, api_key=api_key, clock=clock)
    else:
        skipped.append(
            "Companies House was skipped because no API key is configured; set CASCADE_COMPANIES_HOUSE_API_KEY, "
            f'or on AWS store {{"api_key": "..."}} in the secret {settings.provider_secret_prefix}companies_house.'
        )

    registries = Registries(
        sec=sec_adapter,
        companies_house=ch_adapter,
        gleif=Gleif(
            RegistryClient(http(Registry.GLEIF, gleif.BASE_URL), Pacer(Registry.GLEIF, limits[Registry.GLEIF])),
            clock=clock,
        ),
        brreg=Brreg(
            RegistryClient(http(Registry.BRREG, brreg.BASE_URL), Pacer(Registry.BRREG, limits[Registry.BRREG])),
            clock=clock,
        ),
        skipped_notes=tuple(skipped),
    )
    cache = CompanyCache(
        dynamodb if dynamodb is not None else client_factory(),
        table=settings.companies_table,
        cache_days=settings.company_cache_days,
    )
    return CompanyEnricher(registries, cache, clock)


def _companies_house_key(settings: Settings) -> str | None:
    if settings.companies_house_api_key is not None:
        key = settings.companies_house_api_key.get_secret_value().strip()
        if key:
            return key
    if settings.provider_credentials_json is not None:
        # Imported here: the waterfall package is needed only when credentials come as JSON.
        from cascade.waterfall.dependencies import parse_provider_credentials  # noqa: PLC0415

        document = settings.provider_credentials_json.get_secret_value()
        credentials = StaticCredentials(parse_provider_credentials(document)).get(Registry.COMPANIES_HOUSE.value)
        if credentials and credentials.get("api_key"):
            return credentials["api_key"]
    if settings.stage is Stage.AWS:
        return _companies_house_secret(settings.provider_secret_prefix)
    return None


def _companies_house_secret(prefix: str) -> str | None:
    """Read the key from the Secrets Manager secret ``<prefix>companies_house``, field ``api_key``.

    A missing secret, or one that cannot be read, skips Companies House instead of failing every lookup.
    """
    # Imported here: only a lookup on AWS without CASCADE_COMPANIES_HOUSE_API_KEY reads the secret.
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from cascade.waterfall.dependencies import secrets_manager_client  # noqa: PLC0415

    store = SecretsManagerCredentials(secrets_manager_client, prefix)
    try:
        credentials = store.get(Registry.COMPANIES_HOUSE.value)
    except (BotoCoreError, ClientError, ValueError) as error:
        get_logger().warning("companies house secret unreadable", error=type(error).__name__)
        return None
    return credentials.get("api_key") if credentials else None


@functools.cache
def get_company_enricher() -> CompanyEnricher:
    """Return the enricher built from ``get_settings()`` on first use, kept for the life of the process."""
    return build_company_enricher(get_settings())
