"""The collaborators of the bulk handlers and the jobs API routes, built once per cold start on first use.

``get_bulk_services()`` builds ``BulkServices`` from the settings when first called. No AWS client is
created before its first request, and the waterfall runner is built only when a row first runs, so
the API's job routes work without ``CASCADE_WATERFALL_STATE_MACHINE_ARN``. Tests and the local stack
build their own (moto, an in-process runner) and hand them over with ``install_bulk_services``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from cascade.domain.billing import LedgerLine
from cascade.domain.keys import ApiKey
from cascade.domain.plans import KeyPlan
from cascade.settings import Settings, get_settings
from cascade.storage.dynamo import client_factory
from cascade.storage.files import FileStore, s3_client_factory
from cascade.storage.jobs import JobRepository, JobRowRepository
from cascade.storage.queues import QueueSender, sqs_client_factory
from cascade.waterfall.runner import WaterfallRunner, build_runner

# An asynchronous row has a longer budget than an API request; the runner waits for the whole execution.
_ROW_EXECUTION_SECONDS = 300


class KeyDirectory(Protocol):
    """The part of ``ApiKeyRepository`` that bulk jobs use: the owner of an upload and its current plan."""

    def get(self, key_id: str) -> ApiKey | None: ...


class LedgerReader(Protocol):
    """The part of ``LedgerRepository`` that the worker uses to report what a row was billed."""

    def get(self, line_id: str) -> LedgerLine | None: ...


class SpendHeadroom(Protocol):
    """The part of ``cascade.billing.caps.SpendCaps`` that the worker uses."""

    def headroom(self, key_id: str, plan: KeyPlan, month: str) -> Decimal | None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BulkServices:
    """The settings and collaborators of bulk jobs. ``clock`` returns the current time (time zone aware)."""

    settings: Settings
    jobs: JobRepository
    rows: JobRowRepository
    files: FileStore
    rows_queue: QueueSender
    webhooks_queue: QueueSender
    keys: KeyDirectory
    caps: SpendHeadroom
    ledger: LedgerReader
    runner: WaterfallRunner
    clock: Callable[[], datetime] = utc_now


def build_bulk_services(settings: Settings) -> BulkServices:
    """Build the production collaborators from ``settings``; no client connects before its first use."""
    from cascade.billing.caps import SpendCaps  # noqa: PLC0415 - only rows that run need the caps
    from cascade.storage.keys import ApiKeyRepository  # noqa: PLC0415
    from cascade.storage.ledger import LedgerRepository  # noqa: PLC0415
    from cascade.storage.usage import UsageRepository  # noqa: PLC0415

    dynamodb = client_factory()
    sqs = sqs_client_factory()
    return BulkServices(
        settings=settings,
        jobs=JobRepository(dynamodb, table=settings.jobs_table),
        rows=JobRowRepository(dynamodb, rows_table=settings.job_rows_table, jobs_table=settings.jobs_table),
        files=FileStore(s3_client_factory(), settings.files_bucket),
        rows_queue=QueueSender(sqs, settings.rows_queue_url, setting="CASCADE_ROWS_QUEUE_URL"),
        webhooks_queue=QueueSender(sqs, settings.webhooks_queue_url, setting="CASCADE_WEBHOOKS_QUEUE_URL"),
        keys=ApiKeyRepository(dynamodb, table=settings.api_keys_table),
        caps=SpendCaps(UsageRepository(dynamodb, usage_table=settings.usage_table)),
        ledger=LedgerRepository(
            dynamodb,
            ledger_table=settings.ledger_table,
            usage_table=settings.usage_table,
            shards=settings.usage_counter_shards,
        ),
        runner=LazyRunner(settings),
    )


class LazyRunner:
    """The waterfall runner of ``settings``, built on the first row: Express on AWS, start-and-poll locally.

    Raises ``ValueError`` on the first run when ``waterfall_state_machine_arn`` is not set.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._runner: WaterfallRunner | None = None
        self._lock = threading.Lock()

    def run(self, state: dict[str, Any], *, name: str) -> dict[str, Any]:
        with self._lock:
            if self._runner is None:
                self._runner = _runner(self._settings)
            runner = self._runner
        return runner.run(state, name=name)


_installed: list[BulkServices] = []
_installed_lock = threading.Lock()


def install_bulk_services(services: BulkServices | None) -> None:
    """Make ``get_bulk_services`` return ``services`` from now on; ``None`` goes back to the settings."""
    with _installed_lock:
        _installed.clear()
        if services is not None:
            _installed.append(services)


def get_bulk_services() -> BulkServices:
    """Return the installed services, or the ones built from ``get_settings()`` on first use."""
    with _installed_lock:
        if _installed:
            return _installed[0]
    return _from_settings()


@functools.cache
def _from_settings() -> BulkServices:
    return build_bulk_services(get_settings())


def _runner(settings: Settings) -> WaterfallRunner:
    return build_runner(settings, longest_execution_seconds=_ROW_EXECUTION_SECONDS)
