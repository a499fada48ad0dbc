"""ROWS queue Lambda: row messages in, each row enriched and recorded; failed rows reported for redelivery.

The event source mapping must enable ``ReportBatchItemFailures``, so that only the listed messages are
delivered again.
"""

from __future__ import annotations

from typing import Any

from cascade.bulk.services import get_bulk_services
from cascade.bulk.worker import RowDelivery, process_rows
from cascade.observability import lambda_entry


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    deliveries = [
        RowDelivery(
            message_id=str(record["messageId"]),
            body=str(record["body"]),
            receive_count=int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        for record in event.get("Records", [])
    ]
    failures = process_rows(get_bulk_services(), deliveries)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
