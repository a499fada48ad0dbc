"""Monthly spend caps: the maximum a request can bill, checked against what is left of its key's cap.

A key's ``monthly_cap`` limits what it is billed in one UTC calendar month. Before a request
calls any provider, its worst case (every requested field found and billed, limited by the
request's ``max_amount``) must fit in the headroom, which is the cap minus the month's spend so
far, refunds subtracted.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from cascade.billing.errors import BillingError
from cascade.domain.models import RequestedField
from cascade.domain.money import CENT, MICROS_PER_DOLLAR, ZERO, format_amount
from cascade.domain.plans import KeyPlan
from cascade.storage.usage import MonthUsage

CAP_UPDATE_COMMAND = "cascade keys update {key_id} --monthly-cap AMOUNT"


class UsageReader(Protocol):
    """Reads a key's usage in one month, as ``cascade.storage.usage.UsageRepository`` does."""

    def month_usage(self, key_id: str, month: str) -> MonthUsage: ...


class SpendCapExceededError(BillingError):
    """A request could bill more than the key's monthly cap has left. The API returns it as HTTP 402."""

    def __init__(
        self, *, key_id: str, month: str, cap: Decimal, spent: Decimal, worst_case: Decimal, headroom: Decimal
    ) -> None:
        self.key_id = key_id
        self.month = month
        self.cap = cap
        self.spent = spent
        self.worst_case = worst_case
        self.headroom = headroom
        super().__init__(
            f"this request could bill up to {format_amount(worst_case)} USD, but the key's monthly cap is "
            f"{format_amount(cap)} USD and {format_amount(spent)} USD is already billed in {month}, "
            f"which leaves {format_amount(headroom)} USD; request fewer fields, set a lower max_amount, "
            f"or raise the cap with `{CAP_UPDATE_COMMAND.format(key_id=key_id)}`"
        )


def worst_case_amount(plan: KeyPlan, fields: Sequence[RequestedField], max_amount: Decimal | None) -> Decimal:
    """Return the maximum a request can bill: the plan's price of each requested field, capped by ``max_amount``."""
    total = sum((plan.price(field) for field in set(fields)), ZERO)
    if max_amount is not None and max_amount < total:
        total = max_amount
    return total.quantize(CENT)


class SpendCaps:
    """Compares a request's worst case with the headroom left under its key's monthly cap."""

    def __init__(self, usage: UsageReader) -> None:
        self._usage = usage

    def headroom(self, key_id: str, plan: KeyPlan, month: str) -> Decimal | None:
        """Return what ``key_id`` may still be billed in ``month`` (YYYY-MM), or ``None`` when the plan has no cap.

        The result is never negative, also when a lowered cap or concurrent requests leave the spend above the cap.
        """
        if plan.monthly_cap is None:
            return None
        spent = self._spent(key_id, month)
        return max(plan.monthly_cap - spent, ZERO).quantize(CENT)

    def check(self, key_id: str, plan: KeyPlan, month: str, worst_case: Decimal) -> None:
        """Raise ``SpendCapExceededError`` when ``worst_case`` is more than the headroom of ``key_id`` in ``month``.

        A plan without a cap passes without reading the usage counters.
        """
        if plan.monthly_cap is None:
            return
        spent = self._spent(key_id, month)
        headroom = max(plan.monthly_cap - spent, ZERO).quantize(CENT)
        if worst_case > headroom:
            raise SpendCapExceededError(
                key_id=key_id,
                month=month,
                cap=plan.monthly_cap,
                spent=spent,
                worst_case=worst_case,
                headroom=headroom,
            )

    def _spent(self, key_id: str, month: str) -> Decimal:
        # Prices are whole cents, so the month's net spend is too. Rounding up would only ever be
        # reached by a corrupt counter, and then it errs towards rejecting a request.
        micros = self._usage.month_usage(key_id, month).amount_micros
        return (Decimal(micros) / MICROS_PER_DOLLAR).quantize(CENT, rounding=ROUND_CEILING)
