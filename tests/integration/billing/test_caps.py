"""Spend caps over the real usage counters: worst case, headroom and the 402 error's message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cascade.billing.caps import SpendCapExceededError, SpendCaps, worst_case_amount
from cascade.domain.models import RequestedField
from cascade.domain.plans import KeyPlan
from cascade.storage.ledger import LedgerRepository
from cascade.storage.usage import UsageRepository
from tests.integration.billing.conftest import KEY_ID, MONTH, charge, march

EMAIL = RequestedField.EMAIL
PHONE = RequestedField.PHONE


@pytest.mark.parametrize(
    ("fields", "max_amount", "expected"),
    [
        ([EMAIL], None, "0.20"),
        ([EMAIL, PHONE], None, "0.50"),
        ([EMAIL, PHONE], Decimal("0.25"), "0.25"),
        ([PHONE], Decimal("1.00"), "0.30"),
    ],
)
def test_worst_case_amount_table(fields: list[RequestedField], max_amount: Decimal | None, expected: str) -> None:
    assert worst_case_amount(KeyPlan(), fields, max_amount) == Decimal(expected)


def test_headroom_without_cap_none(usage: UsageRepository) -> None:
    assert SpendCaps(usage).headroom(KEY_ID, KeyPlan(), MONTH) is None


def test_headroom_subtracts_net_spend(ledger: LedgerRepository, usage: UsageRepository) -> None:
    first = charge(KEY_ID, march(2, 10), request_id="req_1")
    ledger.charge(first)
    ledger.charge(charge(KEY_ID, march(3, 10), request_id="req_2"))
    ledger.refund(first.match_id, refunded_at=march(4, 10), reason="hard bounce")
    plan = KeyPlan(monthly_cap=Decimal("1.00"))
    assert SpendCaps(usage).headroom(KEY_ID, plan, MONTH) == Decimal("0.80")
    assert SpendCaps(usage).headroom(KEY_ID, plan, "2026-04") == Decimal("1.00")


def test_headroom_never_negative(ledger: LedgerRepository, usage: UsageRepository) -> None:
    ledger.charge(charge(KEY_ID, march(2, 10), request_id="req_1", amount_micros=5_000_000))
    assert SpendCaps(usage).headroom(KEY_ID, KeyPlan(monthly_cap=Decimal("1.00")), MONTH) == Decimal("0.00")


def test_check_exact_fit_passes(ledger: LedgerRepository, usage: UsageRepository) -> None:
    ledger.charge(charge(KEY_ID, march(2, 10), request_id="req_1"))
    SpendCaps(usage).check(KEY_ID, KeyPlan(monthly_cap=Decimal("0.40")), MONTH, Decimal("0.20"))


def test_check_over_cap_raises(ledger: LedgerRepository, usage: UsageRepository) -> None:
    ledger.charge(charge(KEY_ID, march(2, 10), request_id="req_1"))
    with pytest.raises(SpendCapExceededError) as raised:
        SpendCaps(usage).check(KEY_ID, KeyPlan(monthly_cap=Decimal("0.40")), MONTH, Decimal("0.50"))
    error = raised.value
    assert error.headroom == Decimal("0.20")
    assert error.spent == Decimal("0.20")
    assert "monthly cap is 0.40 USD" in error.detail
    assert "up to 0.50 USD" in error.detail
    assert f"cascade keys update {KEY_ID} --monthly-cap AMOUNT" in error.detail
