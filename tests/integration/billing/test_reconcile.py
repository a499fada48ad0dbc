"""Reconciliation of ledger lines, usage counters and exports after a mixed workload."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING

from cascade.billing.reconcile import reconcile_key, reconcile_month
from cascade.domain.billing import LedgerLine, usage_shard
from cascade.domain.models import RequestedField
from cascade.storage.billing import BillingItems
from cascade.storage.ledger import ChargeOutcome, LedgerRepository
from cascade.storage.usage import UsageRepository, usage_partition_key, usage_sort_key
from tests.integration.billing.conftest import (
    KEY_ID,
    MONTH,
    OTHER_KEY_ID,
    SHARDS,
    TABLE_NAMES,
    charge,
    march,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _mixed_workload(ledger: LedgerRepository) -> list[LedgerLine]:
    """Charge single requests (some sent twice or concurrently), bulk rows and refunds; return the charges."""
    singles = [
        charge(KEY_ID, march(1 + index, 10), request_id=f"req_{index:04d}", amount_micros=200_000) for index in range(6)
    ]
    phones = [
        charge(KEY_ID, march(2, 11), field=RequestedField.PHONE, amount_micros=300_000, request_id="req_0001"),
        charge(KEY_ID, march(3, 11), field=RequestedField.PHONE, amount_micros=350_000, request_id="req_0002"),
    ]
    rows = [
        charge(KEY_ID, march(7, 9, row), job_id="job_b2", row=row, amount_micros=150_000, provider="apollo")
        for row in range(1, 11)
    ]
    other = [charge(OTHER_KEY_ID, march(4, 8), request_id="req_7777")]
    outcomes = [ledger.charge(line) for line in [*singles, *phones, *rows, *other]]
    assert set(outcomes) == {ChargeOutcome.CHARGED}

    # An idempotent retry of a request and a redelivered bulk row meet their existing lines.
    assert ledger.charge(singles[0]) is ChargeOutcome.DUPLICATE
    assert ledger.charge_with_retry(rows[3]) is ChargeOutcome.DUPLICATE
    # Five concurrent duplicates of one charge write nothing new. A conflicting transaction is retried, as
    # the Settle step does.
    with ThreadPoolExecutor(max_workers=5) as pool:
        concurrent = list(pool.map(ledger.charge_with_retry, [singles[1]] * 5))
    assert concurrent == [ChargeOutcome.DUPLICATE] * 5

    assert ledger.refund(singles[2].match_id, refunded_at=march(20, 9), reason="hard bounce") is ChargeOutcome.CHARGED
    assert ledger.refund(rows[0].match_id, refunded_at=march(21, 9), reason="hard bounce") is ChargeOutcome.CHARGED
    assert ledger.refund(singles[2].match_id, refunded_at=march(22, 9), reason="hard bounce") is (
        ChargeOutcome.DUPLICATE
    )
    return [*singles, *phones, *rows]


def test_reconcile_mixed_workload_equal(ledger: LedgerRepository, usage: UsageRepository, items: BillingItems) -> None:
    _mixed_workload(ledger)
    key_ids = items.key_ids_for_month(MONTH)
    assert key_ids == [OTHER_KEY_ID, KEY_ID]
    report = reconcile_month(ledger, usage, key_ids, MONTH)
    assert report.matches
    mine = report.keys[1]
    # 6 * 0.20 + 0.30 + 0.35 + 10 * 0.15 - 0.20 - 0.15
    assert mine.ledger_amount == Decimal("3.00")
    assert mine.counter_amount == Decimal("3.00")
    assert mine.export_amount == Decimal("3.00")
    assert mine.ledger_counts == {RequestedField.EMAIL: 14, RequestedField.PHONE: 2}
    assert mine.problems() == []
    assert "MISMATCH" not in report.table()


def test_reconcile_detects_corrupted_counter(
    ledger: LedgerRepository, usage: UsageRepository, dynamodb: DynamoDBClient
) -> None:
    charges = _mixed_workload(ledger)
    # One shard gains a cent that no ledger line accounts for.
    shard = usage_shard(charges[0].line_id, SHARDS)
    dynamodb.update_item(
        TableName=TABLE_NAMES["usage"],
        Key={
            "pk": {"S": usage_partition_key(KEY_ID, MONTH)},
            "sk": {"S": usage_sort_key(RequestedField.EMAIL, shard)},
        },
        UpdateExpression="ADD amount_micros :cent",
        ExpressionAttributeValues={":cent": {"N": "10000"}},
    )
    result = reconcile_key(ledger, usage, KEY_ID, MONTH)
    assert not result.matches
    assert result.counter_amount == Decimal("3.01")
    assert result.problems() == ["counters 3.01 != ledger 3.00"]
    report = reconcile_month(ledger, usage, [KEY_ID], MONTH)
    assert "MISMATCH: counters 3.01 != ledger 3.00" in report.table()


def test_reconcile_detects_lost_count(
    ledger: LedgerRepository, usage: UsageRepository, dynamodb: DynamoDBClient
) -> None:
    charges = _mixed_workload(ledger)
    shard = usage_shard(charges[-1].line_id, SHARDS)
    dynamodb.update_item(
        TableName=TABLE_NAMES["usage"],
        Key={
            "pk": {"S": usage_partition_key(KEY_ID, MONTH)},
            "sk": {"S": usage_sort_key(RequestedField.EMAIL, shard)},
        },
        UpdateExpression="ADD #count :minus_one",
        ExpressionAttributeNames={"#count": "count"},
        ExpressionAttributeValues={":minus_one": {"N": "-1"}},
    )
    result = reconcile_key(ledger, usage, KEY_ID, MONTH)
    assert not result.matches
    assert result.problems() == ["email counters count 13 != ledger 14"]


def test_key_ids_skip_bounce_counters(ledger: LedgerRepository, items: BillingItems) -> None:
    ledger.charge(charge(KEY_ID, march(2, 10), request_id="req_0001"))
    items.record_bounce("hunter", MONTH)
    items.record_bounce("hunter", MONTH)
    assert items.key_ids_for_month(MONTH) == [KEY_ID]
    assert items.key_ids_for_month("2026-04") == []
    assert items.bounces_for_month(MONTH) == {"hunter": 2}
