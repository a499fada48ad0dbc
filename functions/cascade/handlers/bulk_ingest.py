"""INGEST queue Lambda: S3 ObjectCreated notifications of ``uploads/`` in, one ingest per uploaded file.

Reports partial batch failures: a message whose ingest raised is listed in ``batchItemFailures``
and delivered again, and ingest resumes safely (``cascade.bulk.ingest``).
"""

from __future__ import annotations

from typing import Any

from cascade.bulk.ingest import ingest_object, uploaded_objects
from cascade.bulk.services import get_bulk_services
from cascade.observability import get_logger, lambda_entry


@lambda_entry
def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    services = get_bulk_services()
    failures: list[dict[str, str]] = []
    seen: set[str] = set()
    for record in event.get("Records", []):
        message_id = str(record["messageId"])
        if message_id in seen:
            continue
        seen.add(message_id)
        try:
            for uploaded in uploaded_objects(record["body"]):
                ingest_object(services, uploaded)
        except Exception:
            get_logger().exception("ingest failed", message_id=message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
