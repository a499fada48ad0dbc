"""The scheduled export handler: every billed key's files of the closed month in the billing bucket (moto S3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import boto3
import pytest

from cascade.billing.exports import export_csv, export_json, month_export
from cascade.billing.monthly import closed_month, month_from_event
from cascade.domain.billing import LedgerLine
from cascade.handlers.billing_export import handler
from cascade.settings import get_settings
from cascade.storage.ledger import LedgerRepository
from tests.conftest import LambdaContext, load_event
from tests.integration.billing.conftest import KEY_ID, MONTH, OTHER_KEY_ID, REGION, TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

BUCKET = "test-billing"


@pytest.fixture
def bucket(dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Client]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert REGION == "eu-west-1"
    monkeypatch.setenv("CASCADE_BILLING_BUCKET", BUCKET)
    monkeypatch.setenv("CASCADE_LEDGER_TABLE", TABLE_NAMES["ledger"])
    monkeypatch.setenv("CASCADE_USAGE_TABLE", TABLE_NAMES["usage"])
    get_settings.cache_clear()
    yield s3
    get_settings.cache_clear()


def _object(s3: S3Client, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _keys(s3: S3Client) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_scheduled_event_exports_closed_month(
    bucket: S3Client, ledger: LedgerRepository, golden_lines: dict[str, LedgerLine], lambda_context: LambdaContext
) -> None:
    event = load_event("eventbridge/monthly_export.json")
    event["time"] = "2026-04-01T03:00:00Z"
    summary = handler(event, lambda_context)
    expected = [
        f"exports/{MONTH}/{OTHER_KEY_ID}.csv",
        f"exports/{MONTH}/{OTHER_KEY_ID}.json",
        f"exports/{MONTH}/{KEY_ID}.csv",
        f"exports/{MONTH}/{KEY_ID}.json",
    ]
    assert summary["month"] == MONTH
    assert summary["files"] == 4
    assert _keys(bucket) == sorted(expected)
    export = month_export(ledger, KEY_ID, MONTH)
    assert _object(bucket, f"exports/{MONTH}/{KEY_ID}.csv") == export_csv(export)
    assert _object(bucket, f"exports/{MONTH}/{KEY_ID}.json") == export_json(export)
    document = json.loads(_object(bucket, f"exports/{MONTH}/{KEY_ID}.json"))
    assert [line["amount"] for line in document["lines"] if line["kind"] == "refund"] == ["-0.20", "-0.20"]


def test_scheduled_rerun_rewrites_identical_files(
    bucket: S3Client, golden_lines: dict[str, LedgerLine], lambda_context: LambdaContext
) -> None:
    event = load_event("eventbridge/monthly_export.json")
    handler(event, lambda_context)
    first = {key: _object(bucket, key) for key in _keys(bucket)}
    handler(event, lambda_context)
    second = {key: _object(bucket, key) for key in _keys(bucket)}
    assert first == second
    assert len(first) == 4


def test_detail_month_overrides_time(
    bucket: S3Client, golden_lines: dict[str, LedgerLine], lambda_context: LambdaContext
) -> None:
    event = load_event("eventbridge/monthly_export.json")
    event["detail"] = {"month": "2026-02"}
    summary = handler(event, lambda_context)
    # February's only line is the charge refunded in March, so only its key has a February export.
    assert summary["month"] == "2026-02"
    assert _keys(bucket) == [f"exports/2026-02/{KEY_ID}.csv", f"exports/2026-02/{KEY_ID}.json"]


def test_month_without_lines_writes_nothing(bucket: S3Client, lambda_context: LambdaContext) -> None:
    summary = handler(load_event("eventbridge/monthly_export.json"), lambda_context)
    assert summary == {"month": MONTH, "files": 0, "object_keys": []}
    assert _keys(bucket) == []


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        (datetime(2026, 4, 1, 3, tzinfo=UTC), "2026-03"),
        (datetime(2026, 1, 1, 3, tzinfo=UTC), "2025-12"),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "2026-11"),
    ],
)
def test_closed_month_is_previous(moment: datetime, month: str) -> None:
    assert closed_month(moment) == month


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"detail": {"month": "2026-13"}}, "detail.month '2026-13' is not a calendar month"),
        ({"time": "yesterday"}, "event time 'yesterday' is not an ISO-8601 time"),
        ({"detail": {}}, "the event has no time and no detail.month"),
    ],
)
def test_month_from_event_rejects_bad_event(event: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        month_from_event(event)
