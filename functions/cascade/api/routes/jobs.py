"""Bulk job routes: ``POST /v1/jobs``, ``GET /v1/jobs/{job_id}`` and ``POST /v1/jobs/{job_id}/cancel``.

A job belongs to the API key that created it (or whose upload prefix received a direct upload). Any
other key gets the same 404 as for an unknown id.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from cascade.api.caller import Caller, current_caller
from cascade.api.problems import (
    INTERNAL_ERROR,
    INVALID_INPUT,
    JOB_NOT_CANCELABLE,
    MALFORMED_REQUEST,
    NOT_FOUND,
    REQUEST_TOO_LARGE,
    STORAGE_BUSY,
    UNAUTHENTICATED,
    UNSUPPORTED_MEDIA_TYPE,
    JobNotCancelableError,
    ResourceNotFoundError,
    problem_responses,
)
from cascade.bulk.commands import JobNotCancelableError as CancelRejected
from cascade.bulk.commands import cancel_job, create_job, job_view
from cascade.bulk.jobs import Job, JobCreated, JobCreateRequest, JobRecord, is_job_id
from cascade.bulk.services import BulkServices, get_bulk_services
from cascade.domain.models import PersonEnrichmentRequest

JSON_CONTENT_TYPE = "application/json"
_CREATED = 201
# Any valid person lets provider_order check the job's waterfall names before a row runs.
_PLACEHOLDER_PROFILE = "https://www.linkedin.com/in/placeholder"

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.post(
    "/v1/jobs",
    summary="Create a bulk job",
    description=(
        "Create a job and get a pre-signed URL to PUT the CSV file to (no extra headers needed). The job "
        "starts when the upload arrives. Each row is billed like one enrichment, and duplicate rows once."
    ),
    tags=["jobs"],
    responses={
        201: {
            "description": "The job, its upload URL, and the webhook signing secret (shown only here).",
            "content": {JSON_CONTENT_TYPE: {"model": JobCreated}},
        },
        **problem_responses(
            MALFORMED_REQUEST,
            UNAUTHENTICATED,
            REQUEST_TOO_LARGE,
            UNSUPPORTED_MEDIA_TYPE,
            INVALID_INPUT,
            INTERNAL_ERROR,
            STORAGE_BUSY,
        ),
    },
)
def post_job(
    request: Annotated[JobCreateRequest, Body(description="How to enrich the rows of the file uploaded next.")],
    caller: Annotated[Caller, Depends(current_caller)],
    services: Annotated[BulkServices, Depends(get_bulk_services)],
) -> Response[str]:
    _check_provider_names(request, caller)
    created = create_job(
        request, key_id=caller.key_id, account_id=caller.account_id, plan=caller.plan, services=services
    )
    return Response(status_code=_CREATED, content_type=JSON_CONTENT_TYPE, body=created.model_dump_json())


@router.get(
    "/v1/jobs/<job_id>",
    summary="Get a bulk job",
    description="Status, row counts, progress, amount billed, and pre-signed URLs of the files once written.",
    tags=["jobs"],
    responses={
        200: {"description": "The job.", "content": {JSON_CONTENT_TYPE: {"model": Job}}},
        **problem_responses(UNAUTHENTICATED, NOT_FOUND, INTERNAL_ERROR, STORAGE_BUSY),
    },
)
def get_job(
    job_id: str,
    caller: Annotated[Caller, Depends(current_caller)],
    services: Annotated[BulkServices, Depends(get_bulk_services)],
) -> Response[str]:
    record = _owned_job(job_id, caller, services)
    return Response(status_code=200, content_type=JSON_CONTENT_TYPE, body=job_view(record, services).model_dump_json())


@router.post(
    "/v1/jobs/<job_id>/cancel",
    summary="Cancel a bulk job",
    description=(
        "Stop a queued, processing or on-hold job. Rows already enriched stay billed; the others are marked "
        "canceled in the results file. Canceling a canceled job returns it unchanged."
    ),
    tags=["jobs"],
    responses={
        200: {"description": "The canceled job.", "content": {JSON_CONTENT_TYPE: {"model": Job}}},
        **problem_responses(UNAUTHENTICATED, NOT_FOUND, JOB_NOT_CANCELABLE, INTERNAL_ERROR, STORAGE_BUSY),
    },
)
def post_job_cancel(
    job_id: str,
    caller: Annotated[Caller, Depends(current_caller)],
    services: Annotated[BulkServices, Depends(get_bulk_services)],
) -> Response[str]:
    record = _owned_job(job_id, caller, services)
    try:
        job = cancel_job(record, services)
    except CancelRejected as error:
        raise JobNotCancelableError(str(error)) from None
    return Response(status_code=200, content_type=JSON_CONTENT_TYPE, body=job.model_dump_json())


def _owned_job(job_id: str, caller: Caller, services: BulkServices) -> JobRecord:
    record = services.jobs.get_for_key(job_id, caller.key_id) if is_job_id(job_id) else None
    if record is None:
        raise ResourceNotFoundError(f"no job {job_id!r} for this API key; send the id that POST /v1/jobs returned")
    return record


def _check_provider_names(request: JobCreateRequest, caller: Caller) -> None:
    """Raise ``InvalidInputError`` (422) when the job's waterfall names an unknown provider, before any row runs."""
    from cascade.waterfall.plan import provider_order  # noqa: PLC0415 - imports every provider adapter

    probe = PersonEnrichmentRequest(linkedin_url=_PLACEHOLDER_PROFILE, waterfall=request.waterfall)
    provider_order(probe, caller.plan)
