"""The collaborators of the HTTP API, built once per cold start on first use.

Routes take ``get_services()`` through ``Depends``. It builds ``ApiServices`` from the settings on
the first request that needs it, so a cold start that only serves ``GET /v1/openapi.json`` builds
nothing. Tests and the local stack build their own (moto tables, a fake or polling runner) and
hand it over with ``install_services``. The collaborators are typed by the protocols below, which
the real repositories and runners satisfy.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cascade.domain.models import EnrichmentResult
from cascade.settings import Settings, get_settings
from cascade.storage.dynamo import client_factory
from cascade.storage.enrichments import EnrichmentRepository
from cascade.storage.idempotency import IdempotencyBegin, IdempotencyStore
from cascade.storage.usage import MonthUsage, UsageRepository
from cascade.waterfall.runner import WaterfallRunner, build_runner

# The Step Functions call stays open for the whole execution, which ends by the sync deadline;
# the margin covers the settle step and the network.
_EXECUTION_MARGIN_SECONDS = 5


class EnrichmentStore(Protocol):
    """The part of ``EnrichmentRepository`` that the routes use."""

    def put(self, result: EnrichmentResult, *, key_id: str, account_id: str, expires_at: datetime) -> None: ...

    def get(self, enrichment_id: str, key_id: str) -> EnrichmentResult | None: ...


class IdempotencyRecords(Protocol):
    """The part of ``IdempotencyStore`` that the routes use."""

    def begin(self, key_id: str, idempotency_key: str, body_hash: str, now: datetime) -> IdempotencyBegin: ...

    def complete(
        self, key_id: str, idempotency_key: str, token: str, *, status: int, body: str, now: datetime
    ) -> bool: ...

    def release(self, key_id: str, idempotency_key: str, token: str) -> bool: ...


class UsageReader(Protocol):
    """The part of ``UsageRepository`` that the routes use."""

    def month_usage(self, key_id: str, month: str) -> MonthUsage: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class ApiServices:
    """The settings and collaborators of the API routes.

    ``clock`` returns the current time (time zone aware); ``new_request_id`` names a request sent
    without an Idempotency-Key.
    """

    settings: Settings
    runner: WaterfallRunner
    enrichments: EnrichmentStore
    idempotency: IdempotencyRecords
    usage: UsageReader
    clock: Callable[[], datetime] = utc_now
    new_request_id: Callable[[], str] = new_request_id


def build_services(settings: Settings) -> ApiServices:
    """Build the production collaborators from ``settings``; no client connects before its first use.

    Raises ``ValueError`` when ``waterfall_state_machine_arn`` is not set, because no enrichment can run.
    """
    dynamodb = client_factory()
    return ApiServices(
        settings=settings,
        runner=_runner(settings),
        enrichments=EnrichmentRepository(dynamodb, table=settings.enrichments_table),
        idempotency=IdempotencyStore(
            dynamodb, table=settings.idempotency_table, ttl=timedelta(hours=settings.idempotency_hours)
        ),
        usage=UsageRepository(dynamodb, usage_table=settings.usage_table),
    )


_installed: list[ApiServices] = []
_installed_lock = threading.Lock()


def install_services(services: ApiServices | None) -> None:
    """Make ``get_services`` return ``services`` from now on; ``None`` goes back to the settings."""
    with _installed_lock:
        _installed.clear()
        if services is not None:
            _installed.append(services)


def get_services() -> ApiServices:
    """Return the installed services, or the ones built from ``get_settings()`` on first use."""
    with _installed_lock:
        if _installed:
            return _installed[0]
    return _from_settings()


@functools.cache
def _from_settings() -> ApiServices:
    return build_services(get_settings())


def _runner(settings: Settings) -> WaterfallRunner:
    return build_runner(settings, longest_execution_seconds=settings.sync_deadline_seconds + _EXECUTION_MARGIN_SECONDS)
