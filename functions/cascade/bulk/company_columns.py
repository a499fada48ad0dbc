"""The two company columns of a bulk results file: ``cascade_company_name`` and ``cascade_company_registry_id``.

The registry id is written as ``<scheme>:<id>``, taking the first identifier the resolved company
has in ``REGISTRY_ID_ORDER``. The LEI comes first because it is the one global identifier, so a
file with companies from several countries uses one scheme wherever it can. The national numbers
follow for companies without an LEI.
"""

from __future__ import annotations

from cascade.domain.models import CompanySummary

REGISTRY_ID_ORDER = ("lei", "sec_cik", "uk_company_number", "no_org_number")


def company_name_cell(company: CompanySummary | None) -> str | None:
    """Return the registry's legal name of the resolved company, else the company name from the input row."""
    if company is None:
        return None
    if company.registry is not None:
        return company.registry.legal_name.value
    return company.name


def company_registry_id_cell(company: CompanySummary | None) -> str | None:
    """Return ``<scheme>:<id>`` for the resolved company, such as ``lei:2138002P5RNKC5W2JZ46``, else ``None``."""
    if company is None or company.registry is None:
        return None
    identifiers = company.registry.identifiers
    for scheme in REGISTRY_ID_ORDER:
        value = getattr(identifiers, scheme)
        if value:
            return f"{scheme}:{value}"
    return None
