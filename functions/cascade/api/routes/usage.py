"""``GET /v1/usage?month=YYYY-MM``: the calling key's billed matches and amount in one UTC calendar month."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from cascade.api.caller import Caller, current_caller
from cascade.api.problems import INTERNAL_ERROR, INVALID_INPUT, STORAGE_BUSY, UNAUTHENTICATED, problem_responses
from cascade.api.services import ApiServices, get_services
from cascade.domain.models import RequestedField
from cascade.domain.money import CENT, MICROS_PER_DOLLAR, SignedMoney
from cascade.storage.usage import FieldUsage, MonthUsage

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


def _check_month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise ValueError(f"month {value!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
    return value


Month = Annotated[
    str,
    AfterValidator(_check_month),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2026-03"]}),
]


class FieldTotals(BaseModel):
    """Net billed matches of one field and their amount. A refund subtracts one match and its price."""

    count: int
    amount: SignedMoney


class UsageTotals(BaseModel):
    email: FieldTotals
    phone: FieldTotals


class Usage(BaseModel):
    """A key's usage in one calendar month (UTC), computed from the ledger's counters."""

    month: str = Field(examples=["2026-03"])
    totals: UsageTotals
    amount: SignedMoney


@router.get(
    "/v1/usage",
    summary="Get the calling key's usage in a month",
    description="Billed matches per field and the amount billed in one UTC calendar month, refunds subtracted.",
    tags=["usage"],
    responses={
        200: {"description": "The month's usage; a month without charges has zero totals."},
        **problem_responses(UNAUTHENTICATED, INVALID_INPUT, INTERNAL_ERROR, STORAGE_BUSY),
    },
)
def get_usage(
    month: Annotated[Month, Query(description="The UTC calendar month, as YYYY-MM.")],
    caller: Annotated[Caller, Depends(current_caller)],
    services: Annotated[ApiServices, Depends(get_services)],
) -> Usage:
    return usage_reply(services.usage.month_usage(caller.key_id, month))


def usage_reply(usage: MonthUsage) -> Usage:
    """Convert counters in micro-dollars to the reply, in dollars with two decimal places."""
    return Usage(
        month=usage.month,
        totals=UsageTotals(
            email=_field_totals(usage.by_field[RequestedField.EMAIL]),
            phone=_field_totals(usage.by_field[RequestedField.PHONE]),
        ),
        amount=dollars(usage.amount_micros),
    )


def dollars(micros: int) -> Decimal:
    """Convert micro-dollars to dollars exactly, raising ``ValueError`` rather than rounding a fraction of a cent.

    Prices are whole cents, so every sum of charges and refunds is too. A remainder means a corrupt counter.
    """
    amount = Decimal(micros) / MICROS_PER_DOLLAR
    if amount != amount.quantize(CENT):
        raise ValueError(f"usage amount of {micros} micro-dollars is not a whole number of cents")
    return amount.quantize(CENT)


def _field_totals(usage: FieldUsage) -> FieldTotals:
    return FieldTotals(count=usage.count, amount=dollars(usage.amount_micros))
