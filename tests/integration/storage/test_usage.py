"""Usage counters against moto: the shards add up to the ledger, whatever the duplicates."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascade.domain.models import RequestedField
from cascade.storage.dynamo import StorageError
from cascade.storage.ledger import ChargeOutcome, LedgerRepository
from cascade.storage.usage import FieldUsage, UsageRepository
from tests.integration.storage.lines import charge_line

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_KEY_IDS = (f"key_prop_{number}" for number in itertools.count())

# A charge is (request number, field, amount in micro-dollars); repeats of one request and field
# are duplicates of one line, whatever amount the repeat carries.
_charges = st.lists(
    st.tuples(st.integers(0, 15), st.sampled_from(RequestedField), st.integers(0, 5_000_000)),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(charges=_charges)
def test_usage_shards_sum_to_distinct_lines(
    ledger: LedgerRepository, usage: UsageRepository, charges: list[tuple[int, RequestedField, int]]
) -> None:
    # The moto tables live for the whole test, so each example writes under a key id of its own.
    key_id = next(_KEY_IDS)
    first_amounts: dict[str, tuple[RequestedField, int]] = {}
    for request, field, amount in charges:
        line = charge_line(f"req_{request}", key_id=key_id, field=field, amount_micros=amount)
        outcome = ledger.charge(line)
        expected = ChargeOutcome.DUPLICATE if line.line_id in first_amounts else ChargeOutcome.CHARGED
        assert outcome is expected
        first_amounts.setdefault(line.line_id, (field, amount))

    month = usage.month_usage(key_id, "2026-03")
    lines = ledger.lines_for_month(key_id, "2026-03", page_size=10)
    for field in RequestedField:
        distinct = [amount for line_field, amount in first_amounts.values() if line_field is field]
        assert month.by_field[field] == FieldUsage(count=len(distinct), amount_micros=sum(distinct))
    assert month.amount_micros == sum(amount for _, amount in first_amounts.values())
    assert month.amount_micros == sum(line.amount_micros for line in lines)
    assert len(lines) == len(first_amounts)


def test_usage_empty_month_is_zero(usage: UsageRepository, tables: dict[str, str]) -> None:
    month = usage.month_usage("key_1", "2026-03")
    assert month.key_id == "key_1"
    assert month.month == "2026-03"
    assert month.amount_micros == 0
    assert set(month.by_field) == set(RequestedField)
    assert all(field_usage == FieldUsage(0, 0) for field_usage in month.by_field.values())


def test_usage_sums_fields_separately(ledger: LedgerRepository, usage: UsageRepository) -> None:
    for number in range(12):
        ledger.charge(charge_line(f"req_{number}", field=RequestedField.EMAIL))
    for number in range(5):
        ledger.charge(charge_line(f"req_{number}", field=RequestedField.PHONE))
    month = usage.month_usage("key_1", "2026-03")
    assert month.by_field[RequestedField.EMAIL] == FieldUsage(count=12, amount_micros=2_400_000)
    assert month.by_field[RequestedField.PHONE] == FieldUsage(count=5, amount_micros=1_500_000)
    assert month.amount_micros == 3_900_000


def test_usage_unknown_field_raises(usage: UsageRepository, client: DynamoDBClient, tables: dict[str, str]) -> None:
    client.put_item(
        TableName=tables["usage"],
        Item={"pk": {"S": "key_1#2026-03"}, "sk": {"S": "fax#00"}, "count": {"N": "1"}},
    )
    with pytest.raises(StorageError, match="fax#00") as caught:
        usage.month_usage("key_1", "2026-03")
    assert caught.value.code == "UnknownField"


@pytest.mark.parametrize(("key_id", "month"), [("", "2026-03"), ("key_1", "2026-00"), ("key_1", "26-03")])
def test_usage_rejects_bad_address(usage: UsageRepository, key_id: str, month: str) -> None:
    with pytest.raises(ValueError, match=r"key_id|YYYY-MM"):
        usage.month_usage(key_id, month)
