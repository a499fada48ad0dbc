"""Exact money.

Customer-facing amounts are ``Decimal`` values in US dollars with exactly two decimal
places, written as decimal strings (``"0.20"``) wherever they leave the service. Storage
keeps integer micro-dollars so that sums are exact and DynamoDB counters can add them
atomically. Floats are rejected on input: ``0.1 + 0.2`` is not ``0.30``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
# No price, cap or spend limit is anywhere near this; the bound keeps quantize() within Decimal's precision.
MAX_AMOUNT = Decimal("1000000000.00")
MICROS_PER_DOLLAR = 1_000_000
ZERO = Decimal("0.00")


def parse_amount(value: Any) -> Decimal:
    """Parse a dollar amount given as a decimal string, an int or a Decimal, to whole cents.

    Raises ``ValueError`` (which pydantic reports against the field) for floats, text that
    is not a number, negative or non-finite values, and more than two decimal places.
    """
    if isinstance(value, (bool, float)):
        raise ValueError(
            f'amount {value!r} must be a decimal string such as "0.20", not a number with a binary fraction'
        )
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f'amount {value!r} is not a decimal number; send a string such as "0.20"') from None
    if not isinstance(value, Decimal):
        raise ValueError(f'amount {value!r} must be a decimal string such as "0.20"')
    if not value.is_finite() or value < 0:
        raise ValueError(f"amount {value} must be zero or a positive number of dollars")
    if value > MAX_AMOUNT:
        raise ValueError(f"amount {value} is larger than the maximum of {MAX_AMOUNT} dollars")
    if value != value.quantize(CENT):
        raise ValueError(f"amount {value} has more than two decimal places; round it to whole cents")
    return value.quantize(CENT)


def format_amount(value: Decimal) -> str:
    """Write an amount as a decimal string with two places, such as ``"0.50"`` or ``"-0.20"``."""
    return str(value.quantize(CENT))


def to_micros(amount: Decimal) -> int:
    micros = amount * MICROS_PER_DOLLAR
    if micros != micros.to_integral_value():
        raise ValueError(f"amount {amount} is finer than one micro-dollar")
    return int(micros)


def from_micros(micros: int) -> Decimal:
    """Convert integer micro-dollars to dollars, rounded to cents half-up for display."""
    return (Decimal(micros) / MICROS_PER_DOLLAR).quantize(CENT)


Money = Annotated[
    Decimal,
    BeforeValidator(parse_amount),
    PlainSerializer(format_amount, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["0.20"]}),
]
"""A non-negative customer amount in dollars, whole cents, serialised as ``"0.20"``."""

SignedMoney = Annotated[
    Decimal,
    PlainSerializer(format_amount, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["-0.20"]}),
]
"""An amount that may be negative (a refund line), produced by the service, never parsed."""
