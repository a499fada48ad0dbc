"""Billing routes: the calling key's monthly ledger export, and bounce reports on billed emails.

``GET /v1/usage/export?month=YYYY-MM&format=csv|json`` returns every ledger line of the month,
refunds as negative lines, in the same bytes as the monthly export file in the billing bucket.
``POST /v1/matches/{match_id}/bounce`` re-verifies a billed email and refunds it once if the
address is now invalid.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from cascade.api.billing_services import BillingServices, get_billing_services
from cascade.api.caller import Caller, current_caller
from cascade.api.problems import (
    INTERNAL_ERROR,
    INVALID_INPUT,
    NOT_FOUND,
    STORAGE_BUSY,
    UNAUTHENTICATED,
    problem_responses,
)
from cascade.api.routes.usage import Month
from cascade.billing.bounces import BounceReply
from cascade.billing.exports import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE, export_csv, export_json, month_export
from cascade.observability import get_logger

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@router.get(
    "/v1/usage/export",
    summary="Export the calling key's ledger lines of a month",
    description=(
        "Every charge and refund of the calling key in one UTC calendar month, oldest first. A refund is a "
        "line with a negative amount. CSV has a header row and the line items only; JSON adds totals per "
        "field and overall. The same month returns the same bytes every time."
    ),
    tags=["usage"],
    responses={
        200: {
            "description": "The month's ledger lines; a month without lines has a header row or an empty list.",
            "content": {
                CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                JSON_MEDIA_TYPE: {"schema": {"type": "object"}},
            },
        },
        **problem_responses(UNAUTHENTICATED, INVALID_INPUT, INTERNAL_ERROR, STORAGE_BUSY),
    },
)
def get_usage_export(
    month: Annotated[Month, Query(description="The UTC calendar month, as YYYY-MM.")],
    caller: Annotated[Caller, Depends(current_caller)],
    billing: Annotated[BillingServices, Depends(get_billing_services)],
    format: Annotated[ExportFormat, Query(description="csv (the default) or json.")] = ExportFormat.CSV,
) -> Response[str]:
    export = month_export(billing.ledger, caller.key_id, month)
    get_logger().info("usage exported", month=month, format=format.value, lines=len(export.lines))
    if format is ExportFormat.JSON:
        body, media_type = export_json(export), JSON_MEDIA_TYPE
    else:
        body, media_type = export_csv(export), f"{CSV_MEDIA_TYPE}; charset=utf-8"
    filename = f"cascade-usage-{caller.key_id}-{month}.{format.value}"
    return Response(
        status_code=200,
        content_type=media_type,
        body=body.decode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/v1/matches/<match_id>/bounce",
    summary="Report a hard bounce on a billed email",
    description=(
        "Re-verify the email of a billed match. If the address is now invalid, the charge is refunded once by a "
        "refund line in the ledger and the address is no longer served from stored results. Reporting the "
        "same match again refunds nothing more. A match of another key gets the same 404 as an unknown id."
    ),
    tags=["usage"],
    responses={
        200: {"description": "The decision: refunded, already_refunded or not_refunded, with the verdict and reason."},
        **problem_responses(UNAUTHENTICATED, NOT_FOUND, INTERNAL_ERROR, STORAGE_BUSY),
    },
)
def post_match_bounce(
    match_id: str,
    caller: Annotated[Caller, Depends(current_caller)],
    billing: Annotated[BillingServices, Depends(get_billing_services)],
) -> BounceReply:
    return billing.bounces.report(caller.key_id, match_id)
