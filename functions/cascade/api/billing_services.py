"""The collaborators of the billing routes, built once per cold start on first use.

``get_billing_services()`` builds ``BillingServices`` on the first billing request from the settings,
the API's services (stored results, clock) and the waterfall's dependencies (the verifiers and the MX
resolver that the waterfall verifies emails with). Tests and the local stack can hand over their own
with ``install_billing_services``. Without one, the local stack's installed API services and waterfall
dependencies are used, so bounce reports there reach the provider sandbox.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cascade.api.services import ApiServices, get_services
from cascade.billing.bounces import BounceReports
from cascade.billing.exports import LedgerLines
from cascade.settings import Settings, get_settings
from cascade.storage.billing import BillingItems
from cascade.storage.dynamo import client_factory
from cascade.storage.freshness import FreshnessStore
from cascade.storage.ledger import LedgerRepository

if TYPE_CHECKING:
    from cascade.waterfall.dependencies import WaterfallDependencies


@dataclass(frozen=True, slots=True)
class BillingServices:
    """The ledger that exports read, and the bounce report handler."""

    ledger: LedgerLines
    bounces: BounceReports


def build_billing_services(
    settings: Settings, services: ApiServices, dependencies: WaterfallDependencies
) -> BillingServices:
    """Build the production collaborators; no client connects before its first use."""
    from cascade.verification.email import EmailVerification, verify_email  # noqa: PLC0415

    dynamodb = client_factory()
    ledger = LedgerRepository(
        dynamodb,
        ledger_table=settings.ledger_table,
        usage_table=settings.usage_table,
        shards=settings.usage_counter_shards,
    )

    def verify(address: str) -> EmailVerification:
        return verify_email(address, mx_resolver=dependencies.mx_resolver, verifiers=dependencies.registry.verifiers())

    bounces = BounceReports(
        ledger=ledger,
        results=services.enrichments,
        freshness=FreshnessStore(dynamodb, table=settings.freshness_table, retention_days=settings.retention_days),
        counters=BillingItems(dynamodb, usage_table=settings.usage_table),
        verify=verify,
        clock=services.clock,
    )
    return BillingServices(ledger=ledger, bounces=bounces)


_installed: list[BillingServices] = []
_installed_lock = threading.Lock()


def install_billing_services(services: BillingServices | None) -> None:
    """Make ``get_billing_services`` return ``services`` from now on; ``None`` goes back to building them."""
    with _installed_lock:
        _installed.clear()
        if services is not None:
            _installed.append(services)


def get_billing_services() -> BillingServices:
    """Return the installed billing services, or the ones built on first use."""
    with _installed_lock:
        if _installed:
            return _installed[0]
    return _from_settings()


_built: list[tuple[ApiServices, WaterfallDependencies, BillingServices]] = []


def _from_settings() -> BillingServices:
    # The waterfall's dependencies import every provider adapter, so only the first billing request pays for it.
    from cascade.waterfall.dependencies import get_dependencies  # noqa: PLC0415

    services = get_services()
    dependencies = get_dependencies()
    with _installed_lock:
        # Rebuilt when the installed API services or waterfall dependencies change, as when a local stack restarts.
        if _built and _built[0][0] is services and _built[0][1] is dependencies:
            return _built[0][2]
        billing = build_billing_services(get_settings(), services, dependencies)
        _built[:] = [(services, dependencies, billing)]
        return billing
