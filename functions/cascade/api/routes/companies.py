"""``POST /v1/companies/enrich``: company facts from government registries, free of charge.

The body names a company by registry identifiers, a domain, or a name with a country. Powertools
validates it against ``CompanyQuery`` (422, naming the field, for an identifier that fails its
check digits). The enricher reads its cache or queries SEC EDGAR, Companies House, GLEIF and
Brønnøysund. No ledger line is written, whatever the outcome.
"""

from __future__ import annotations

import math
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from cascade.api.caller import Caller, current_caller
from cascade.api.company_services import CompanyFacts, get_company_facts
from cascade.api.problems import (
    INTERNAL_ERROR,
    INVALID_INPUT,
    MALFORMED_REQUEST,
    REGISTRIES_UNAVAILABLE,
    REQUEST_TOO_LARGE,
    STORAGE_BUSY,
    UNAUTHENTICATED,
    UNSUPPORTED_MEDIA_TYPE,
    RegistriesUnavailableError,
    problem_responses,
)
from cascade.registries.errors import RegistryError, RegistryThrottledError
from cascade.registries.models import CompanyMatch, CompanyQuery

JSON_CONTENT_TYPE = "application/json"
_OK = 200

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.post(
    "/v1/companies/enrich",
    summary="Look up a company in government registries",
    description=(
        "Return a company's facts from SEC EDGAR, Companies House, GLEIF and the Brønnøysund Register Centre: "
        "legal name, registry identifiers in canonical form, status, incorporation date, industry codes with "
        "descriptions, registered address, parents and latest filings, each with its source registry and "
        "fetch time. Send identifiers, a domain, or a name with a country. The call is free: it is never "
        "billed and writes no ledger line. When no record is clearly the company, status is ambiguous and "
        "candidates lists the registry records that may be it, best first, each with a score from 0 to 1 "
        "and the reason for it; send one candidate's identifiers to get its facts."
    ),
    tags=["companies"],
    responses={
        200: {
            "description": "The match: resolved (with company), ambiguous (with candidates) or not_found.",
            "content": {JSON_CONTENT_TYPE: {"model": CompanyMatch}},
        },
        **problem_responses(
            MALFORMED_REQUEST,
            UNAUTHENTICATED,
            REQUEST_TOO_LARGE,
            UNSUPPORTED_MEDIA_TYPE,
            INVALID_INPUT,
            INTERNAL_ERROR,
            REGISTRIES_UNAVAILABLE,
            STORAGE_BUSY,
        ),
    },
)
def post_companies_enrich(
    query: Annotated[
        CompanyQuery, Body(description="Registry identifiers, a domain, or a name with an optional country.")
    ],
    caller: Annotated[Caller, Depends(current_caller)],  # noqa: ARG001 - the dependency checks the API key context
    facts: Annotated[CompanyFacts, Depends(get_company_facts)],
) -> Response[str]:
    match = enrich_company(query, facts)
    return Response(status_code=_OK, content_type=JSON_CONTENT_TYPE, body=match.model_dump_json())


def enrich_company(query: CompanyQuery, facts: CompanyFacts) -> CompanyMatch:
    """Return the company ``query`` names.

    Raises ``RegistriesUnavailableError`` (503) when every registry that was asked failed, with
    Retry-After when a registry sent how long to wait.
    """
    try:
        return facts.enrich(query)
    except RegistryThrottledError as error:
        retry_after = math.ceil(error.retry_after) if error.retry_after is not None else None
        raise RegistriesUnavailableError(_unavailable_detail(error), retry_after=retry_after) from error
    except RegistryError as error:
        raise RegistriesUnavailableError(_unavailable_detail(error)) from error


def _unavailable_detail(error: RegistryError) -> str:
    return f"every company registry asked failed, first {error.registry}: {error}; nothing was charged, retry later"
