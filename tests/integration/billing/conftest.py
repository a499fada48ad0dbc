"""Fixtures for the billing tests: moto tables, the ledger, and a fixed month of charges and refunds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import boto3
import pytest

from cascade.domain.billing import LedgerLine, LineKind, match_id, request_reference
from cascade.domain.models import RequestedField
from cascade.storage.billing import BillingItems
from cascade.storage.dynamo import create_tables
from cascade.storage.ledger import LedgerRepository
from cascade.storage.usage import UsageRepository
from infra.local.moto_serial import serialized_dynamodb
from tests.integration.conftest import MOTO_REGION, TEST_TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = MOTO_REGION
TABLE_NAMES = TEST_TABLE_NAMES
SHARDS = 4
KEY_ID = "key_5f1e2d3c4b5a6978"
OTHER_KEY_ID = "key_0123456789abcdef"
ACCOUNT_ID = "acct_1f2e3d4c5b6a7988"
MONTH = "2026-03"


def charge(
    key_id: str,
    at: datetime,
    *,
    field: RequestedField = RequestedField.EMAIL,
    amount_micros: int = 200_000,
    request_id: str | None = None,
    job_id: str | None = None,
    row: int | None = None,
    provider: str = "hunter",
    enrichment_id: str = "enr_000000000000000000000000",
) -> LedgerLine:
    """Build a charge line of a single request (``request_id``) or of a bulk job's row."""
    reference = request_reference(request_id=request_id, job_id=job_id, row=row)
    line_id = match_id(key_id, reference, field)
    return LedgerLine(
        line_id=line_id,
        kind=LineKind.CHARGE,
        match_id=line_id,
        key_id=key_id,
        account_id=ACCOUNT_ID,
        field=field,
        amount_micros=amount_micros,
        provider=provider,
        verdict="valid",
        charged_at=at,
        enrichment_id=enrichment_id,
        request_id=request_id,
        job_id=job_id,
        row=row,
    )


def march(day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


def write_golden_month(ledger: LedgerRepository) -> dict[str, LedgerLine]:
    """Write a fixed mix of March 2026 lines for ``KEY_ID`` and return the charges by name.

    The month has two single requests, one with email and phone at the same instant, and two bulk rows
    written out of order. It has three 0.10 charges, whose float sum is not 0.30. It has a refund of a
    March charge, and a March refund of a February charge. ``OTHER_KEY_ID`` has one line that no
    ``KEY_ID`` export shows.
    """
    lines = {
        "email_1": charge(KEY_ID, march(2, 9, 15, 0, 500), request_id="req_0001"),
        "phone_1": charge(
            KEY_ID,
            march(2, 9, 15, 0, 500),
            field=RequestedField.PHONE,
            amount_micros=300_000,
            request_id="req_0001",
            provider="lusha",
        ),
        "row_7": charge(KEY_ID, march(5, 14, 0, 1), job_id="job_a1", row=7, provider="apollo"),
        "row_2": charge(KEY_ID, march(5, 13, 59, 59), job_id="job_a1", row=2, provider="prospeo"),
        "cheap_1": charge(KEY_ID, march(10, 8), amount_micros=100_000, request_id="req_0002"),
        "cheap_2": charge(KEY_ID, march(10, 9), amount_micros=100_000, request_id="req_0003"),
        "cheap_3": charge(KEY_ID, march(10, 10), amount_micros=100_000, request_id="req_0004"),
        "february": charge(KEY_ID, datetime(2026, 2, 27, 23, 59, 59, tzinfo=UTC), request_id="req_0000"),
        "other_key": charge(OTHER_KEY_ID, march(3, 12), request_id="req_9999"),
    }
    for line in lines.values():
        ledger.charge(line)
    ledger.refund(lines["email_1"].match_id, refunded_at=march(20, 16, 45), reason="hard bounce")
    ledger.refund(lines["february"].match_id, refunded_at=march(1, 0, 0, 30), reason="hard bounce")
    return lines


@pytest.fixture
def dynamodb(aws: None) -> Iterator[DynamoDBClient]:
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client, TABLE_NAMES)
    # moto neither isolates concurrent transactions nor locks an item between a condition and its
    # write, and a cancelled transaction restores whole tables. The block gives the concurrent
    # tests DynamoDB's behaviour: one request at a time, and rollback of only the named items.
    with serialized_dynamodb():
        yield client


@pytest.fixture
def ledger(dynamodb: DynamoDBClient) -> LedgerRepository:
    return LedgerRepository(
        dynamodb, ledger_table=TABLE_NAMES["ledger"], usage_table=TABLE_NAMES["usage"], shards=SHARDS
    )


@pytest.fixture
def usage(dynamodb: DynamoDBClient) -> UsageRepository:
    return UsageRepository(dynamodb, usage_table=TABLE_NAMES["usage"])


@pytest.fixture
def items(dynamodb: DynamoDBClient) -> BillingItems:
    return BillingItems(dynamodb, usage_table=TABLE_NAMES["usage"])


@pytest.fixture
def golden_lines(ledger: LedgerRepository) -> dict[str, LedgerLine]:
    return write_golden_month(ledger)
