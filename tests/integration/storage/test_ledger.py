"""The ledger against moto: exactly-once charges and refunds, counters, and month listings."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cascade.domain.billing import LineKind, refund_line_id, usage_shard
from cascade.domain.models import RequestedField
from cascade.storage.dynamo import RetryableStorageError, StorageError, TableNotFoundError
from cascade.storage.ledger import ChargeOutcome, LedgerRepository, LineNotFound
from cascade.storage.usage import FieldUsage, UsageRepository
from tests.integration.moto_isolation import serialise_transactions
from tests.integration.storage.conftest import REGION, SHARDS
from tests.integration.storage.lines import MARCH, charge_line, job_line

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EMAIL = RequestedField.EMAIL
PHONE = RequestedField.PHONE


def _usage_items(client: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    return list(client.scan(TableName=table, ConsistentRead=True)["Items"])


def _ledger_count(client: DynamoDBClient, table: str) -> int:
    return int(client.scan(TableName=table, Select="COUNT", ConsistentRead=True)["Count"])


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


def _failing_then_real(client: DynamoDBClient, errors: list[ClientError]) -> Callable[..., Any]:
    """Wrap ``transact_write_items`` so that the first calls raise ``errors`` (in order) before reaching moto."""
    real = client.transact_write_items

    def transact(**request: Any) -> Any:
        if errors:
            raise errors.pop(0)
        return real(**request)

    return transact


def test_charge_writes_line_and_shard(
    ledger: LedgerRepository, usage: UsageRepository, client: DynamoDBClient, tables: dict[str, str]
) -> None:
    line = charge_line()
    assert ledger.charge(line) is ChargeOutcome.CHARGED
    assert ledger.get(line.line_id) == line
    items = _usage_items(client, tables["usage"])
    assert len(items) == 1
    assert items[0]["pk"] == {"S": "key_1#2026-03"}
    assert items[0]["sk"] == {"S": f"email#{usage_shard(line.line_id, SHARDS):02d}"}
    assert items[0]["count"] == {"N": "1"}
    assert items[0]["amount_micros"] == {"N": "200000"}
    assert usage.month_usage("key_1", "2026-03").amount_micros == 200_000


def test_charge_same_line_twice_is_duplicate(
    ledger: LedgerRepository, usage: UsageRepository, client: DynamoDBClient, tables: dict[str, str]
) -> None:
    line = charge_line()
    assert ledger.charge(line) is ChargeOutcome.CHARGED
    assert ledger.charge(line) is ChargeOutcome.DUPLICATE
    month = usage.month_usage("key_1", "2026-03")
    assert month.by_field[EMAIL] == FieldUsage(count=1, amount_micros=200_000)
    assert _ledger_count(client, tables["ledger"]) == 1


def test_charge_duplicate_keeps_first_line(ledger: LedgerRepository) -> None:
    first = charge_line()
    retry = dataclasses.replace(first, charged_at=first.charged_at + timedelta(seconds=5), provider="apollo")
    ledger.charge(first)
    assert ledger.charge(retry) is ChargeOutcome.DUPLICATE
    assert ledger.get(first.line_id) == first


def test_charge_round_trip_job_line(ledger: LedgerRepository) -> None:
    line = job_line("job_9", 41)
    ledger.charge(line)
    stored = ledger.get(line.line_id)
    assert stored == line
    assert stored is not None
    assert stored.row == 41
    assert stored.request_id is None
    assert stored.charged_at.tzinfo is UTC


def test_charge_stores_time_in_utc(ledger: LedgerRepository, usage: UsageRepository) -> None:
    # 23:30 on 31 March in New York is 03:30 on 1 April in UTC, so the charge counts in April.
    new_york = timezone(timedelta(hours=-4))
    line = charge_line(charged_at=datetime(2026, 3, 31, 23, 30, tzinfo=new_york))
    ledger.charge(line)
    stored = ledger.get(line.line_id)
    assert stored == line
    assert stored is not None
    assert stored.charged_at.utcoffset() == timedelta(0)
    assert usage.month_usage("key_1", "2026-04").amount_micros == 200_000
    assert usage.month_usage("key_1", "2026-03").amount_micros == 0
    assert [found.line_id for found in ledger.lines_for_month("key_1", "2026-04")] == [line.line_id]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": LineKind.REFUND}, "refund line"),
        ({"line_id": "mat_other"}, "differs from its match id"),
        ({"amount_micros": -1}, "negative amount"),
        ({"charged_at": datetime(2026, 3, 1, 12, 0)}, "no time zone"),  # noqa: DTZ001 - the naive time is the case
    ],
)
def test_charge_rejects_invalid_line(ledger: LedgerRepository, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ledger.charge(dataclasses.replace(charge_line(), **change))


def test_charge_get_unknown_line_is_none(ledger: LedgerRepository) -> None:
    assert ledger.get("mat_missing") is None


def test_charge_concurrent_duplicates_charge_once(
    tables: dict[str, str], usage: UsageRepository, client: DynamoDBClient
) -> None:
    line = charge_line()
    workers = 20
    barrier = threading.Barrier(workers)
    outcomes: list[ChargeOutcome] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    transaction_lock = threading.Lock()

    def worker() -> None:
        # Each thread has its own session and client, as separate Lambda invocations would.
        own_client = boto3.session.Session().client("dynamodb", region_name=REGION)
        serialise_transactions(own_client, transaction_lock)
        repository = LedgerRepository(
            own_client, ledger_table=tables["ledger"], usage_table=tables["usage"], shards=SHARDS
        )
        barrier.wait()
        try:
            outcome = repository.charge_with_retry(line)
        except BaseException as error:  # reported by the asserts below
            with lock:
                failures.append(error)
            return
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert outcomes.count(ChargeOutcome.CHARGED) == 1
    assert outcomes.count(ChargeOutcome.DUPLICATE) == workers - 1
    assert usage.month_usage("key_1", "2026-03").by_field[EMAIL] == FieldUsage(count=1, amount_micros=200_000)
    assert _ledger_count(client, tables["ledger"]) == 1


def test_charge_cancelled_by_condition_is_duplicate(
    ledger: LedgerRepository, client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DynamoDB can report a lost race as a cancellation whose first reason is the failed condition.
    failure = _cancelled("ConditionalCheckFailed", "None")
    monkeypatch.setattr(client, "transact_write_items", _failing_then_real(client, [failure]))
    assert ledger.charge(charge_line()) is ChargeOutcome.DUPLICATE


def test_charge_conflict_raises_retryable(
    ledger: LedgerRepository, client: DynamoDBClient, tables: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    failure = _cancelled("None", "TransactionConflict")
    monkeypatch.setattr(client, "transact_write_items", _failing_then_real(client, [failure]))
    with pytest.raises(RetryableStorageError) as caught:
        ledger.charge(charge_line())
    assert caught.value.code == "TransactionConflict"
    assert _ledger_count(client, tables["ledger"]) == 0


def test_charge_with_retry_after_conflicts(
    ledger: LedgerRepository,
    usage: UsageRepository,
    client: DynamoDBClient,
    sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")
    failures = [_cancelled("None", "TransactionConflict"), throttled]
    monkeypatch.setattr(client, "transact_write_items", _failing_then_real(client, failures))
    assert ledger.charge_with_retry(charge_line()) is ChargeOutcome.CHARGED
    assert len(sleeps) == 2
    assert all(0 <= delay <= 1.0 for delay in sleeps)
    assert usage.month_usage("key_1", "2026-03").by_field[EMAIL].count == 1


def test_charge_with_retry_gives_up(
    ledger: LedgerRepository, client: DynamoDBClient, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [_cancelled("None", "TransactionConflict") for _ in range(3)]
    monkeypatch.setattr(client, "transact_write_items", _failing_then_real(client, failures))
    with pytest.raises(RetryableStorageError):
        ledger.charge_with_retry(charge_line(), attempts=3)
    assert len(sleeps) == 2


def test_charge_with_retry_no_retry_on_other_errors(
    ledger: LedgerRepository, client: DynamoDBClient, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [_cancelled("None", "ValidationError")]
    monkeypatch.setattr(client, "transact_write_items", _failing_then_real(client, failures))
    with pytest.raises(StorageError) as caught:
        ledger.charge_with_retry(charge_line())
    assert not isinstance(caught.value, RetryableStorageError)
    assert caught.value.code == "ValidationError"
    assert sleeps == []


def test_charge_failed_transaction_writes_nothing(
    client: DynamoDBClient, tables: dict[str, str], ledger: LedgerRepository, usage: UsageRepository
) -> None:
    # The counter update names a table that does not exist, so the whole transaction fails.
    # The ledger put in the same transaction must not survive on its own.
    broken = LedgerRepository(client, ledger_table=tables["ledger"], usage_table="no-such-table", shards=SHARDS)
    line = charge_line()
    with pytest.raises(TableNotFoundError):
        broken.charge(line)
    assert ledger.get(line.line_id) is None
    assert _usage_items(client, tables["usage"]) == []
    assert ledger.charge(line) is ChargeOutcome.CHARGED
    assert usage.month_usage("key_1", "2026-03").by_field[EMAIL] == FieldUsage(count=1, amount_micros=200_000)


def test_charge_error_before_call_writes_nothing(
    ledger: LedgerRepository,
    usage: UsageRepository,
    client: DynamoDBClient,
    tables: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unavailable = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "TransactWriteItems")
    monkeypatch.setattr(client, "transact_write_items", _failing_then_real(client, [unavailable]))
    line = charge_line()
    with pytest.raises(RetryableStorageError):
        ledger.charge(line)
    assert ledger.get(line.line_id) is None
    assert _usage_items(client, tables["usage"]) == []
    assert ledger.charge(line) is ChargeOutcome.CHARGED
    assert usage.month_usage("key_1", "2026-03").by_field[EMAIL].count == 1


def test_charge_lost_reply_retry_is_duplicate(
    ledger: LedgerRepository, usage: UsageRepository, client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The transaction commits but its reply is lost (a crash or timeout after the write):
    # the caller's retry must find the line and leave the counters alone.
    real = client.transact_write_items

    def commit_then_fail(**request: Any) -> Any:
        real(**request)
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "reply lost"}}, "TransactWriteItems")

    monkeypatch.setattr(client, "transact_write_items", commit_then_fail)
    line = charge_line()
    with pytest.raises(RetryableStorageError):
        ledger.charge(line)
    monkeypatch.setattr(client, "transact_write_items", real)
    assert ledger.charge(line) is ChargeOutcome.DUPLICATE
    assert usage.month_usage("key_1", "2026-03").by_field[EMAIL] == FieldUsage(count=1, amount_micros=200_000)


def test_refund_writes_negative_line(ledger: LedgerRepository, usage: UsageRepository) -> None:
    charge = charge_line()
    ledger.charge(charge)
    refunded_at = MARCH + timedelta(days=2)
    assert ledger.refund(charge.match_id, refunded_at=refunded_at, reason="hard bounce") is ChargeOutcome.CHARGED
    refund = ledger.get(refund_line_id(charge.match_id))
    assert refund is not None
    assert refund.kind is LineKind.REFUND
    assert refund.amount_micros == -200_000
    assert refund.match_id == charge.match_id
    assert refund.charged_at == refunded_at
    assert (refund.key_id, refund.field, refund.provider) == (charge.key_id, charge.field, charge.provider)
    assert refund.request_id == charge.request_id
    month = usage.month_usage("key_1", "2026-03")
    assert month.by_field[EMAIL] == FieldUsage(count=0, amount_micros=0)
    assert month.amount_micros == 0


def test_refund_twice_is_duplicate(ledger: LedgerRepository, usage: UsageRepository) -> None:
    charge = charge_line()
    ledger.charge(charge)
    ledger.refund(charge.match_id, refunded_at=MARCH + timedelta(days=1), reason="hard bounce")
    second = ledger.refund(charge.match_id, refunded_at=MARCH + timedelta(days=3), reason="hard bounce")
    assert second is ChargeOutcome.DUPLICATE
    assert usage.month_usage("key_1", "2026-03").by_field[EMAIL] == FieldUsage(count=0, amount_micros=0)


def test_refund_unknown_match_raises(ledger: LedgerRepository) -> None:
    with pytest.raises(LineNotFound, match="mat_missing") as caught:
        ledger.refund("mat_missing", refunded_at=MARCH, reason="hard bounce")
    assert caught.value.line_id == "mat_missing"


def test_refund_stores_reason(ledger: LedgerRepository, client: DynamoDBClient, tables: dict[str, str]) -> None:
    charge = charge_line()
    ledger.charge(charge)
    ledger.refund(charge.match_id, refunded_at=MARCH + timedelta(days=1), reason="  hard bounce ")
    item = client.get_item(TableName=tables["ledger"], Key={"pk": {"S": f"LINE#{refund_line_id(charge.match_id)}"}})
    assert item["Item"]["refund_reason"] == {"S": "hard bounce"}


def test_refund_in_later_month(ledger: LedgerRepository, usage: UsageRepository) -> None:
    charge = charge_line()
    ledger.charge(charge)
    ledger.refund(charge.match_id, refunded_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC), reason="hard bounce")
    march = usage.month_usage("key_1", "2026-03")
    april = usage.month_usage("key_1", "2026-04")
    assert march.by_field[EMAIL] == FieldUsage(count=1, amount_micros=200_000)
    assert april.by_field[EMAIL] == FieldUsage(count=-1, amount_micros=-200_000)
    april_lines = ledger.lines_for_month("key_1", "2026-04")
    assert [line.kind for line in april_lines] == [LineKind.REFUND]
    assert sum(line.amount_micros for line in april_lines) == april.amount_micros


@pytest.mark.parametrize(
    ("reason", "refunded_at", "message"),
    [
        ("  ", MARCH, "reason is empty"),
        ("x" * 501, MARCH, "at most 500"),
        ("hard bounce", MARCH - timedelta(seconds=1), "before the charge"),
        ("hard bounce", datetime(2026, 3, 20), "no time zone"),  # noqa: DTZ001 - the naive time is the case
    ],
)
def test_refund_rejects_invalid_request(
    ledger: LedgerRepository, reason: str, refunded_at: datetime, message: str
) -> None:
    charge = charge_line()
    ledger.charge(charge)
    with pytest.raises(ValueError, match=message):
        ledger.refund(charge.match_id, refunded_at=refunded_at, reason=reason)


def test_refund_of_refund_rejected(ledger: LedgerRepository) -> None:
    charge = charge_line()
    ledger.charge(charge)
    ledger.refund(charge.match_id, refunded_at=MARCH + timedelta(days=1), reason="hard bounce")
    with pytest.raises(ValueError, match="refund line"):
        ledger.refund(refund_line_id(charge.match_id), refunded_at=MARCH + timedelta(days=2), reason="again")


def test_lines_for_month_order_and_pages(ledger: LedgerRepository) -> None:
    # Written newest first, so the order of the reply comes from line_order, not from writes.
    lines = [charge_line(f"req_{index}", charged_at=MARCH + timedelta(minutes=30 - index)) for index in range(30)]
    for line in lines:
        ledger.charge(line)
    listed = ledger.lines_for_month("key_1", "2026-03", page_size=7)
    assert len(listed) == 30
    assert listed == sorted(lines, key=lambda line: line.charged_at)
    assert ledger.lines_for_month("key_1", "2026-03") == listed


def test_lines_for_month_same_time_ordered_by_id(ledger: LedgerRepository) -> None:
    lines = [charge_line(f"req_{index}") for index in range(5)]
    for line in lines:
        ledger.charge(line)
    listed = ledger.lines_for_month("key_1", "2026-03", page_size=2)
    assert [line.line_id for line in listed] == sorted(line.line_id for line in lines)


def test_lines_for_month_only_key_and_month(ledger: LedgerRepository) -> None:
    mine = charge_line("req_1")
    ledger.charge(mine)
    ledger.charge(charge_line("req_2", key_id="key_2"))
    ledger.charge(charge_line("req_3", charged_at=datetime(2026, 4, 1, tzinfo=UTC)))
    ledger.charge(charge_line("req_4", charged_at=datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)))
    assert ledger.lines_for_month("key_1", "2026-03") == [mine]
    assert ledger.lines_for_month("key_9", "2026-03") == []


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "March", "2026-03-01", ""])
def test_lines_for_month_rejects_bad_month(ledger: LedgerRepository, month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        ledger.lines_for_month("key_1", month)


def test_ledger_rejects_bad_shard_count(client: DynamoDBClient) -> None:
    with pytest.raises(ValueError, match="from 1 to 100"):
        LedgerRepository(client, ledger_table="l", usage_table="u", shards=0)


def test_ledger_accepts_client_factory(tables: dict[str, str]) -> None:
    built: list[DynamoDBClient] = []

    def factory() -> DynamoDBClient:
        built.append(boto3.client("dynamodb", region_name=REGION))
        return built[-1]

    repository = LedgerRepository(factory, ledger_table=tables["ledger"], usage_table=tables["usage"], shards=4)
    assert built == []
    line = charge_line(field=PHONE)
    assert repository.charge(line) is ChargeOutcome.CHARGED
    assert repository.get(line.line_id) == line
    assert len(built) == 1
