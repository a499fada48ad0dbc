from __future__ import annotations

from decimal import Decimal

import pytest

from cascade.api.routes.usage import dollars, usage_reply
from cascade.domain.models import RequestedField
from cascade.storage.usage import FieldUsage, MonthUsage


@pytest.mark.parametrize(
    ("micros", "expected"),
    [(0, "0.00"), (200_000, "0.20"), (500_000, "0.50"), (-200_000, "-0.20"), (123_456_780_000, "123456.78")],
)
def test_dollars_exact(micros: int, expected: str) -> None:
    assert dollars(micros) == Decimal(expected)
    assert str(dollars(micros)) == expected


@pytest.mark.parametrize("micros", [1, 199_999, 200_001, -5])
def test_dollars_rejects_fraction_of_cent(micros: int) -> None:
    with pytest.raises(ValueError, match="whole number of cents"):
        dollars(micros)


def test_usage_reply_document() -> None:
    usage = MonthUsage(
        key_id="key_5f1e2d3c4b5a6978",
        month="2026-03",
        by_field={
            RequestedField.EMAIL: FieldUsage(count=3, amount_micros=600_000),
            RequestedField.PHONE: FieldUsage(count=1, amount_micros=300_000),
        },
        amount_micros=900_000,
    )
    assert usage_reply(usage).model_dump(mode="json") == {
        "month": "2026-03",
        "totals": {"email": {"count": 3, "amount": "0.60"}, "phone": {"count": 1, "amount": "0.30"}},
        "amount": "0.90",
    }
