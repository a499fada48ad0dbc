"""A key's monthly usage export: every ledger line of one UTC month, as CSV and as JSON.

Both formats are built only from the ledger lines, so exporting the same month twice gives the same
bytes. The lines are ordered as the ledger's ``by_key_month`` index orders them (``line_order``:
``charged_at`` in UTC, then the line id). An export carries no time of its own creation. A refund is
a line with a negative amount, counted in the month of the refund, which can be later than the
month of its charge.

The CSV file contains the line items only, with a header row and ``\\r\\n`` line ends (RFC 4180), so
that a spreadsheet's sum of the ``amount`` column is the month's total. The JSON document adds the
totals per field and overall.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any, Protocol

from cascade.domain.billing import LedgerLine, LineKind
from cascade.domain.models import RequestedField
from cascade.domain.money import CENT, MICROS_PER_DOLLAR, ZERO, format_amount

CURRENCY = "USD"
CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
CSV_COLUMNS: tuple[str, ...] = (
    "match_id",
    "line_id",
    "kind",
    "charged_at",
    "key_id",
    "field",
    "amount",
    "currency",
    "provider",
    "verdict",
    "request_id",
    "job_id",
    "row",
)


class LedgerLines(Protocol):
    """Lists a key's ledger lines in one month, as ``cascade.storage.ledger.LedgerRepository`` does."""

    def lines_for_month(self, key_id: str, month: str, *, page_size: int | None = None) -> list[LedgerLine]: ...


@dataclass(frozen=True, slots=True)
class FieldTotal:
    """Net billed matches of one field (charges minus refunds) and their net amount in dollars."""

    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class MonthExport:
    """The ledger lines of one key in one UTC month, in ``line_order``, with their totals."""

    key_id: str
    month: str
    lines: tuple[LedgerLine, ...]
    totals: Mapping[RequestedField, FieldTotal]
    amount: Decimal

    @property
    def amount_micros(self) -> int:
        return sum(line.amount_micros for line in self.lines)


def line_amount(micros: int) -> Decimal:
    """Convert a line's micro-dollars to dollars exactly, raising ``ValueError`` for a fraction of a cent."""
    amount = Decimal(micros) / MICROS_PER_DOLLAR
    if amount != amount.quantize(CENT):
        raise ValueError(
            f"a ledger amount of {micros} micro-dollars is not a whole number of cents; prices are whole cents, "
            "so the line is corrupt"
        )
    return amount.quantize(CENT)


def build_export(key_id: str, month: str, lines: Sequence[LedgerLine]) -> MonthExport:
    """Build the export of ``key_id`` in ``month`` from its ledger lines.

    Raises ``ValueError`` when a line belongs to another key or month, because such a line would be
    billed twice across exports.
    """
    for line in lines:
        if line.key_id != key_id or line.month != month:
            raise ValueError(
                f"ledger line {line.line_id!r} belongs to {line.key_id} in {line.month}, not to {key_id} in {month}"
            )
    ordered = tuple(sorted(lines, key=_line_order))
    counts = dict.fromkeys(RequestedField, 0)
    micros = dict.fromkeys(RequestedField, 0)
    for line in ordered:
        counts[line.field] += 1 if line.kind is LineKind.CHARGE else -1
        micros[line.field] += line.amount_micros
    totals = {field: FieldTotal(count=counts[field], amount=line_amount(micros[field])) for field in RequestedField}
    amount = sum((total.amount for total in totals.values()), ZERO)
    return MonthExport(key_id=key_id, month=month, lines=ordered, totals=totals, amount=amount)


def month_export(ledger: LedgerLines, key_id: str, month: str) -> MonthExport:
    """Read every line of ``key_id`` in ``month`` (YYYY-MM) from the ledger and build its export.

    The ``by_key_month`` index is eventually consistent, so a line written in the last second may be
    missing. The scheduled job runs hours after the month closes, when every line is visible.
    """
    return build_export(key_id, month, ledger.lines_for_month(key_id, month))


def line_record(line: LedgerLine) -> dict[str, Any]:
    """Return one line's export columns, with the amount as a signed decimal string and times in UTC."""
    return {
        "match_id": line.match_id,
        "line_id": line.line_id,
        "kind": line.kind.value,
        "charged_at": utc_text(line),
        "key_id": line.key_id,
        "field": line.field.value,
        "amount": format_amount(line_amount(line.amount_micros)),
        "currency": CURRENCY,
        "provider": line.provider,
        "verdict": line.verdict,
        "request_id": line.request_id,
        "job_id": line.job_id,
        "row": line.row,
    }


def utc_text(line: LedgerLine) -> str:
    """Return ``charged_at`` as ISO-8601 in UTC with microseconds and ``Z``: ``2026-03-04T10:00:00.000000Z``."""
    return line.charged_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def export_csv(export: MonthExport) -> bytes:
    """Write the export's lines as UTF-8 CSV: a header row, one row per line, ``\\r\\n`` line ends.

    Empty optional columns (``request_id`` for a bulk line, ``job_id`` and ``row`` for a single
    request) are empty cells.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in export.lines:
        record = line_record(line)
        writer.writerow(["" if record[column] is None else str(record[column]) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def export_document(export: MonthExport) -> dict[str, Any]:
    """Return the JSON export as a dictionary: month, key id, currency, lines, totals per field and amount."""
    return {
        "month": export.month,
        "key_id": export.key_id,
        "currency": CURRENCY,
        "lines": [line_record(line) for line in export.lines],
        "totals": {
            field.value: {"count": total.count, "amount": format_amount(total.amount)}
            for field, total in export.totals.items()
        },
        "amount": format_amount(export.amount),
    }


def export_json(export: MonthExport) -> bytes:
    """Write the export as UTF-8 JSON with sorted keys, two-space indents and a final newline."""
    text = json.dumps(export_document(export), sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _line_order(line: LedgerLine) -> tuple[str, str]:
    # The same order as the index's sort key: the fixed-width UTC time, then the line id.
    return (line.charged_at.astimezone(UTC).isoformat(timespec="microseconds"), line.line_id)
