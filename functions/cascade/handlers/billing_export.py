"""Monthly export job, started by an EventBridge schedule on the 1st of each month.

The event's ``time`` picks the month that just closed; ``detail.month`` (YYYY-MM) picks another, for a
re-run. Returns the month and the object keys written.
"""

from __future__ import annotations

from typing import Any

from cascade.billing.monthly import export_month, month_from_event
from cascade.observability import get_logger, lambda_entry
from cascade.settings import get_settings
from cascade.storage.billing import BillingItems
from cascade.storage.dynamo import client_factory
from cascade.storage.exports_bucket import ExportBucket, s3_client_factory
from cascade.storage.ledger import LedgerRepository


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    settings = get_settings()
    month = month_from_event(event)
    get_logger().info("monthly export started", month=month)
    dynamodb = client_factory()
    ledger = LedgerRepository(
        dynamodb,
        ledger_table=settings.ledger_table,
        usage_table=settings.usage_table,
        shards=settings.usage_counter_shards,
    )
    result = export_month(
        ledger,
        BillingItems(dynamodb, usage_table=settings.usage_table),
        ExportBucket(s3_client_factory(), bucket=settings.billing_bucket),
        month,
    )
    get_logger().info("monthly export finished", month=month, files=len(result.object_keys))
    return result.summary()
