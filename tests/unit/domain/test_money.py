from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from cascade.domain.money import Money, format_amount, from_micros, parse_amount, to_micros


class _Priced(BaseModel):
    amount: Money


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0.20", Decimal("0.20")), ("1", Decimal("1.00")), (3, Decimal("3.00")), (Decimal("0.5"), Decimal("0.50"))],
)
def test_parse_amount_accepts_exact_values(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (0.2, "decimal string"),
        (True, "decimal string"),
        ("abc", "not a decimal number"),
        ("-0.20", "zero or a positive"),
        ("NaN", "zero or a positive"),
        ("0.205", "more than two decimal places"),
        ("1e30", "larger than the maximum"),
    ],
)
def test_parse_amount_rejects_with_reason(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(raw)


def test_money_field_serialises_as_string() -> None:
    assert _Priced(amount="0.2").model_dump(mode="json") == {"amount": "0.20"}


def test_money_field_error_names_field() -> None:
    with pytest.raises(ValidationError) as caught:
        _Priced(amount=0.1)
    assert caught.value.errors()[0]["loc"] == ("amount",)


def test_micros_round_trip() -> None:
    assert to_micros(Decimal("0.30")) == 300_000
    assert from_micros(300_000) == Decimal("0.30")


def test_to_micros_rejects_sub_micro_amounts() -> None:
    with pytest.raises(ValueError, match="micro-dollar"):
        to_micros(Decimal("0.0000001"))


def test_format_amount_negative_refund() -> None:
    assert format_amount(Decimal("-0.2")) == "-0.20"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=50))
def test_micro_sums_equal_decimal_sums(cents: list[int]) -> None:
    amounts = [Decimal(c) / 100 for c in cents]
    assert from_micros(sum(to_micros(a) for a in amounts)) == sum(amounts, Decimal("0")).quantize(Decimal("0.01"))
