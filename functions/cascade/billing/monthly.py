"""The monthly export job: write every billed key's export of a closed month to the billing bucket.

For each key with ledger lines in the month it writes ``exports/<YYYY-MM>/<key id>.csv`` and
``.json``. The files are rendered from the ledger alone, so a re-run writes the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cascade.billing.exports import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE, LedgerLines, export_csv, export_json, month_export
from cascade.observability import get_logger
from cascade.storage.exports_bucket import export_object_key

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class MonthKeys(Protocol):
    """Lists the keys billed in a month, as ``cascade.storage.billing.BillingItems`` does."""

    def key_ids_for_month(self, month: str) -> list[str]: ...


class ExportWriter(Protocol):
    """Writes one file, as ``cascade.storage.exports_bucket.ExportBucket`` does."""

    def put(self, object_key: str, body: bytes, *, content_type: str) -> None: ...


@dataclass(frozen=True, slots=True)
class MonthlyExportResult:
    """The month of one run and the object keys it wrote, in the order written."""

    month: str
    object_keys: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {"month": self.month, "files": len(self.object_keys), "object_keys": list(self.object_keys)}


def closed_month(moment: datetime) -> str:
    """Return the UTC calendar month before ``moment``, such as ``2026-02`` for 2026-03-01T03:00Z."""
    if moment.tzinfo is None:
        raise ValueError(f"time {moment.isoformat()} has no time zone; send it in UTC, such as 2026-03-01T03:00:00Z")
    utc = moment.astimezone(UTC)
    year, month = (utc.year - 1, 12) if utc.month == 1 else (utc.year, utc.month - 1)
    return f"{year:04d}-{month:02d}"


def month_from_event(event: Mapping[str, Any]) -> str:
    """Return the month an EventBridge event requests: ``detail.month`` if set, else the month before ``time``.

    Raises ``ValueError`` naming the value when ``detail.month`` is not YYYY-MM or ``time`` is missing or
    not an ISO-8601 time with a zone.
    """
    detail = event.get("detail")
    requested = detail.get("month") if isinstance(detail, Mapping) else None
    if requested is not None:
        if not isinstance(requested, str) or not _MONTH.fullmatch(requested):
            raise ValueError(f"detail.month {requested!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
        return requested
    time_text = event.get("time")
    if not isinstance(time_text, str):
        raise ValueError("the event has no time and no detail.month; send an EventBridge scheduled event")
    try:
        moment = datetime.fromisoformat(time_text)
    except ValueError:
        raise ValueError(f"event time {time_text!r} is not an ISO-8601 time, such as 2026-03-01T03:00:00Z") from None
    return closed_month(moment)


def export_month(ledger: LedgerLines, keys: MonthKeys, writer: ExportWriter, month: str) -> MonthlyExportResult:
    """Write the CSV and JSON export of every key billed in ``month`` (YYYY-MM), key by key in id order."""
    if not _MONTH.fullmatch(month):
        raise ValueError(f"month {month!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
    written: list[str] = []
    for key_id in keys.key_ids_for_month(month):
        export = month_export(ledger, key_id, month)
        csv_key = export_object_key(month, key_id, "csv")
        json_key = export_object_key(month, key_id, "json")
        writer.put(csv_key, export_csv(export), content_type=f"{CSV_MEDIA_TYPE}; charset=utf-8")
        writer.put(json_key, export_json(export), content_type=JSON_MEDIA_TYPE)
        written.extend((csv_key, json_key))
        get_logger().info("usage export written", month=month, key_id=key_id, lines=len(export.lines))
    return MonthlyExportResult(month=month, object_keys=tuple(written))
