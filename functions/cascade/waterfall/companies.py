"""The company block of a person result: the registry lookup that the plan step runs, and staleness.

The plan step calls the ``companies`` collaborator once for the person's employer, before any
provider is called. The lookup is fail-soft: a registry outage, a slow registry or a fault in the
lookup itself leaves the block with ``match`` ``not_found`` and a note, and the enrichment goes on.
Its time counts against the enrichment's deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from cascade.domain.models import CompanySummary
from cascade.observability import get_logger
from cascade.registries.models import CompanyMatch, CompanyStatus, MatchStatus, Registry

# Time a person result waits for its company block: a synchronous request has an HTTP client waiting,
# a bulk row does not.
# NOTE: the enricher checks the budget before each registry request, so a request already in flight can
# overrun it by up to the provider connect and read timeouts (10 s by default).
SYNC_LOOKUP_SECONDS = 3.0
BULK_LOOKUP_SECONDS = 10.0
# With less time than this left before the deadline, the lookup is skipped and the time is left to the providers.
MIN_LOOKUP_SECONDS = 1.0

# Statuses under which a company no longer exists, so its people's contact details are out of date.
STALE_STATUSES = frozenset({CompanyStatus.DISSOLVED, CompanyStatus.CONVERTED_CLOSED})
_REGISTRY_NAMES = {
    Registry.SEC_EDGAR: "SEC EDGAR",
    Registry.COMPANIES_HOUSE: "Companies House",
    Registry.GLEIF: "GLEIF",
    Registry.BRREG: "the Brønnøysund Register Centre",
}


class CompanyLookup(Protocol):
    """The part of ``CompanyEnricher`` that the plan step uses. ``for_person`` does not raise for registry faults."""

    def for_person(
        self,
        company_name: str | None,
        company_domain: str | None,
        country: str | None,
        *,
        budget_seconds: float,
    ) -> CompanyMatch: ...


class LazyCompanyLookup:
    """A ``CompanyLookup`` that builds the real one on its first lookup.

    Building the enricher may read the Companies House key from Secrets Manager, so a cold start
    whose enrichment has no company to look up never pays for it. A failed build raises from
    ``for_person`` and is tried again on the next lookup.
    """

    def __init__(self, build: Callable[[], CompanyLookup]) -> None:
        self._build = build
        self._lookup: CompanyLookup | None = None
        self._lock = threading.Lock()

    def for_person(
        self,
        company_name: str | None,
        company_domain: str | None,
        country: str | None,
        *,
        budget_seconds: float,
    ) -> CompanyMatch:
        with self._lock:
            if self._lookup is None:
                self._lookup = self._build()
            lookup = self._lookup
        return lookup.for_person(company_name, company_domain, country, budget_seconds=budget_seconds)

    def close(self) -> None:
        """Close the built lookup's HTTP clients, if it was built and has a ``close`` method."""
        with self._lock:
            lookup, self._lookup = self._lookup, None
        close = getattr(lookup, "close", None)
        if callable(close):
            close()


def lookup_budget_seconds(*, sync: bool, seconds_to_deadline: float, reserved_seconds: float) -> float:
    """Return the time the company lookup may take: its fixed budget, cut to what the deadline leaves.

    ``reserved_seconds`` stays free for the first provider call, because the contact fields matter more
    than the company block.
    """
    budget = SYNC_LOOKUP_SECONDS if sync else BULK_LOOKUP_SECONDS
    return max(0.0, min(budget, seconds_to_deadline - reserved_seconds))


def with_registry_match(
    company: CompanySummary,
    lookup: CompanyLookup,
    *,
    country: str | None,
    budget_seconds: float,
    enrichment_id: str,
) -> CompanySummary:
    """Return ``company`` with the registry lookup's outcome: match status, facts, candidates and notes.

    Never raises: any failure becomes ``match`` ``not_found`` with a note.
    """
    if budget_seconds < MIN_LOOKUP_SECONDS:
        get_logger().warning("company lookup skipped", reason="deadline", enrichment_id=enrichment_id)
        return _not_found(company, "No company lookup ran because the enrichment had too little time left.")
    try:
        match = lookup.for_person(company.name, company.domain, country, budget_seconds=budget_seconds)
    except Exception as error:
        # The company block is secondary to the contact fields, so a fault in the lookup must not fail them.
        get_logger().exception("company lookup raised", error=type(error).__name__, enrichment_id=enrichment_id)
        return _not_found(company, "Company facts are unavailable because the lookup failed unexpectedly.")
    get_logger().info(
        "company looked up",
        match=match.status.value,
        candidates=len(match.candidates),
        enrichment_id=enrichment_id,
    )
    return company.model_copy(
        update={
            "match": match.status,
            "registry": match.company if match.status is MatchStatus.RESOLVED else None,
            "candidates": list(match.candidates) if match.status is MatchStatus.AMBIGUOUS else [],
            "notes": list(match.notes),
        }
    )


def stale_reason(company: CompanySummary | None) -> str | None:
    """Return why a person's contact details are stale, or ``None`` when the resolved company is not closed."""
    if company is None or company.registry is None:
        return None
    status = company.registry.status
    if status.value not in STALE_STATUSES:
        return None
    registry = _REGISTRY_NAMES.get(status.source, status.source.value)
    reason = f"{registry} lists the company as {status.value.replace('_', ' ')}"
    dissolution = company.registry.dissolution_date
    if dissolution is not None:
        reason += f" since {dissolution.value.isoformat()}"
    return reason + "."


def _not_found(company: CompanySummary, note: str) -> CompanySummary:
    return company.model_copy(
        update={"match": MatchStatus.NOT_FOUND, "registry": None, "candidates": [], "notes": [note]}
    )
