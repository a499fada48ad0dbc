"""``GET /v1/enrichments/{enrichment_id}``: a stored enrichment result of the calling key."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.api_gateway import Router

from cascade.api.caller import Caller, current_caller
from cascade.api.problems import (
    INTERNAL_ERROR,
    NOT_FOUND,
    STORAGE_BUSY,
    UNAUTHENTICATED,
    ResourceNotFoundError,
    problem_responses,
)
from cascade.api.services import ApiServices, get_services
from cascade.domain.models import EnrichmentResult

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.get(
    "/v1/enrichments/<enrichment_id>",
    summary="Get a stored enrichment result",
    description=(
        "Return a result that POST /v1/people/enrich produced for the calling key, until the retention "
        "period ends. An id of another key gets the same 404 reply as an unknown id."
    ),
    tags=["people"],
    responses={
        200: {"description": "The stored enrichment result."},
        **problem_responses(UNAUTHENTICATED, NOT_FOUND, INTERNAL_ERROR, STORAGE_BUSY),
    },
)
def get_enrichment(
    enrichment_id: str,
    caller: Annotated[Caller, Depends(current_caller)],
    services: Annotated[ApiServices, Depends(get_services)],
) -> EnrichmentResult:
    result = services.enrichments.get(enrichment_id, caller.key_id)
    if result is None:
        raise ResourceNotFoundError(
            "no enrichment with this id exists for this API key; send an id that POST /v1/people/enrich "
            "returned to this key within the retention period"
        )
    return result
