"""The company enricher behind ``POST /v1/companies/enrich``, built once per cold start on first use.

``get_company_facts()`` returns the installed enricher, or the one that
``cascade.registries.service.get_company_enricher`` builds from the settings. Tests and the local
stack build their own (the sandbox registries, moto's companies table) and hand it over with
``install_company_facts``.
"""

from __future__ import annotations

import threading
from typing import Protocol

from cascade.registries.models import CompanyMatch, CompanyQuery


class CompanyFacts(Protocol):
    """The part of ``CompanyEnricher`` that the route uses.

    ``enrich`` raises a ``RegistryError`` when every registry it asked failed.
    """

    def enrich(self, query: CompanyQuery, *, budget_seconds: float = ...) -> CompanyMatch: ...


_installed: list[CompanyFacts] = []
_installed_lock = threading.Lock()


def install_company_facts(facts: CompanyFacts | None) -> None:
    """Make ``get_company_facts`` return ``facts`` from now on, or with ``None``, the one built from the settings."""
    with _installed_lock:
        _installed.clear()
        if facts is not None:
            _installed.append(facts)


def get_company_facts() -> CompanyFacts:
    """Return the installed enricher, or the one built from ``get_settings()`` on first use."""
    with _installed_lock:
        if _installed:
            return _installed[0]
    # The registry adapters are imported by the first company request only, never by other routes.
    from cascade.registries.service import get_company_enricher  # noqa: PLC0415

    return get_company_enricher()
