"""Everything the waterfall functions call outside themselves, built once per cold start.

Handlers take ``get_dependencies()``, which builds ``WaterfallDependencies`` from the settings
on first use. Tests and the local stack build their own (fake providers, moto tables, the
sandbox) and hand it over with ``install_dependencies``. The collaborators are typed by the
protocols below, which the real registry and repositories satisfy.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from cascade.domain.billing import LedgerLine
from cascade.domain.models import RequestedField
from cascade.observability import get_logger
from cascade.providers.base import ContactFinder, EmailVerifier, PhoneValidator, ProviderInfo
from cascade.providers.credentials import CredentialStore, SecretsManagerCredentials, StaticCredentials
from cascade.providers.registry import Availability, ProviderRegistry
from cascade.settings import Settings, Stage, get_settings
from cascade.storage.dynamo import client_factory
from cascade.storage.freshness import FreshnessStore, FreshValue
from cascade.storage.ledger import ChargeOutcome, LedgerRepository
from cascade.storage.suppressions import SuppressionStore
from cascade.verification.mx import DnsMxResolver, MxResolver
from cascade.waterfall.companies import CompanyLookup, LazyCompanyLookup

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

_DNS_PORT = 53


class ProviderSource(Protocol):
    """The part of ``ProviderRegistry`` that the waterfall uses."""

    def info(self, name: str) -> ProviderInfo: ...

    def availability(self, name: str) -> Availability: ...

    def finder(self, name: str) -> ContactFinder | None: ...

    def verifiers(self) -> list[EmailVerifier]: ...

    def phone_validator(self) -> PhoneValidator | None: ...


class Ledger(Protocol):
    """The part of ``LedgerRepository`` that settlement uses."""

    def charge_with_retry(self, line: LedgerLine, attempts: int = 5) -> ChargeOutcome: ...

    def get(self, line_id: str) -> LedgerLine | None: ...


class Freshness(Protocol):
    """The part of ``FreshnessStore`` that the plan and settlement use."""

    def get(
        self, key_id: str, identity: str, field: RequestedField, *, max_age_days: int, now: datetime
    ) -> FreshValue | None: ...

    def put(self, key_id: str, identity: str, value: FreshValue, *, now: datetime) -> None: ...


class Suppressions(Protocol):
    """The part of ``SuppressionStore`` that the plan and settlement use."""

    def is_suppressed(self, account_id: str, identities: Iterable[str]) -> bool: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WaterfallDependencies:
    """The settings and collaborators of the waterfall functions.

    ``clock`` returns the current time (time zone aware); ``monotonic`` measures provider latency in seconds.
    ``companies`` looks up each person's employer in the government registries; ``None`` skips the lookup.
    """

    settings: Settings
    registry: ProviderSource
    mx_resolver: MxResolver
    ledger: Ledger
    freshness: Freshness
    suppressions: Suppressions
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic
    companies: CompanyLookup | None = None

    def now_ms(self) -> int:
        """Return the current time in epoch milliseconds, as ``plan.deadline_ms`` counts it."""
        return int(self.clock().timestamp() * 1000)


def build_dependencies(settings: Settings) -> WaterfallDependencies:
    """Build the production collaborators from ``settings``; no client connects before its first use.

    Provider credentials come from ``provider_credentials_json`` when it is set, from Secrets
    Manager on AWS otherwise, and are empty on a local stage without that setting, so every
    provider is then reported as ``skipped_no_credentials``.
    """
    dynamodb = client_factory()
    registry = ProviderRegistry(
        _credentials(settings),
        connect_timeout=settings.provider_connect_timeout_seconds,
        read_timeout=settings.provider_read_timeout_seconds,
        base_url=str(settings.sandbox_url) if settings.sandbox_url is not None else None,
    )
    return WaterfallDependencies(
        settings=settings,
        registry=registry,
        mx_resolver=_mx_resolver(settings.mx_nameserver),
        ledger=LedgerRepository(
            dynamodb,
            ledger_table=settings.ledger_table,
            usage_table=settings.usage_table,
            shards=settings.usage_counter_shards,
        ),
        freshness=FreshnessStore(dynamodb, table=settings.freshness_table, retention_days=settings.retention_days),
        suppressions=SuppressionStore(dynamodb, table=settings.suppressions_table),
        companies=LazyCompanyLookup(functools.partial(_company_enricher, settings)),
    )


def _company_enricher(settings: Settings) -> CompanyLookup:
    # Imported on the first company lookup: the registry adapters are not needed before it.
    from cascade.registries.service import build_company_enricher  # noqa: PLC0415

    return build_company_enricher(settings)


_installed: list[WaterfallDependencies] = []
_installed_lock = threading.Lock()


def install_dependencies(dependencies: WaterfallDependencies | None) -> None:
    """Make ``get_dependencies`` return ``dependencies`` from now on; ``None`` goes back to the settings."""
    with _installed_lock:
        _installed.clear()
        if dependencies is not None:
            _installed.append(dependencies)


def get_dependencies() -> WaterfallDependencies:
    """Return the installed dependencies, or the ones built from ``get_settings()`` on first use."""
    with _installed_lock:
        if _installed:
            return _installed[0]
    return _from_settings()


@functools.cache
def _from_settings() -> WaterfallDependencies:
    return build_dependencies(get_settings())


def parse_provider_credentials(document: str) -> dict[str, dict[str, str]]:
    """Parse ``provider_credentials_json``: a JSON object of provider name to an object of string fields.

    Raises ``ValueError`` naming the setting and the expected shape; the message never repeats a value.
    """
    expected = 'a JSON object such as {"hunter": {"api_key": "..."}}'
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError:
        raise ValueError(f"CASCADE_PROVIDER_CREDENTIALS_JSON is not valid JSON; send {expected}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"CASCADE_PROVIDER_CREDENTIALS_JSON is not a JSON object; send {expected}")
    credentials: dict[str, dict[str, str]] = {}
    for provider, fields in parsed.items():
        if not isinstance(fields, Mapping) or not all(isinstance(value, str) for value in fields.values()):
            raise ValueError(
                f"CASCADE_PROVIDER_CREDENTIALS_JSON entry {provider!r} is not an object of strings; send {expected}"
            )
        credentials[str(provider)] = dict(fields)
    return credentials


def _credentials(settings: Settings) -> CredentialStore:
    if settings.provider_credentials_json is not None:
        return StaticCredentials(parse_provider_credentials(settings.provider_credentials_json.get_secret_value()))
    if settings.stage is Stage.AWS:
        return SecretsManagerCredentials(secrets_manager_client, settings.provider_secret_prefix)
    get_logger().warning("no provider credentials configured", stage=settings.stage.value)
    return StaticCredentials({})


@functools.cache
def secrets_manager_client() -> SecretsManagerClient:
    import boto3  # noqa: PLC0415 - boto3 costs about 100 ms to import; only a cold start on AWS pays it

    return boto3.client("secretsmanager")


def _mx_resolver(nameserver: str | None) -> DnsMxResolver:
    if nameserver is None:
        return DnsMxResolver()
    import dns.resolver  # noqa: PLC0415 - only local runs point MX lookups at their own server

    host, port = _host_and_port(nameserver)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    return DnsMxResolver(resolver)


def _host_and_port(nameserver: str) -> tuple[str, int]:
    """Split ``"host"``, ``"host:port"`` or ``"[ipv6]:port"`` into host and port (53 by default)."""
    text = nameserver.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host or (port_text and not port_text.isdigit()):
        raise ValueError(
            f"CASCADE_MX_NAMESERVER {nameserver!r} is not a host or host:port; send one such as 127.0.0.1:5353"
        )
    return host, int(port_text) if port_text else _DNS_PORT
