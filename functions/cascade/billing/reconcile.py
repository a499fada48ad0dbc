"""Reconciliation: a key's month in the ledger, in the usage counters and in its export must agree to the cent.

The ledger lines are the record of what was billed. Each line also adds to a usage counter in the
same transaction, and the export is rendered from the lines. So the three totals differ only when
something is broken: a counter changed by hand or by a faulty write, or an export that mis-renders
a line. Counts are compared too, per field, because a lost charge and a lost refund of the same
price would leave the amounts equal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cascade.billing.caps import UsageReader
from cascade.billing.exports import LedgerLines, build_export, export_json, line_amount
from cascade.domain.billing import LineKind
from cascade.domain.models import RequestedField
from cascade.domain.money import CENT, MICROS_PER_DOLLAR, ZERO, format_amount


@dataclass(frozen=True, slots=True)
class KeyReconciliation:
    """One key's month: each source's amount in dollars and net count per field, and whether they agree."""

    key_id: str
    month: str
    ledger_amount: Decimal
    counter_amount: Decimal
    export_amount: Decimal
    ledger_counts: dict[RequestedField, int]
    counter_counts: dict[RequestedField, int]
    export_counts: dict[RequestedField, int]

    @property
    def matches(self) -> bool:
        return (
            self.ledger_amount == self.counter_amount == self.export_amount
            and self.ledger_counts == self.counter_counts == self.export_counts
        )

    def problems(self) -> list[str]:
        """Describe each disagreement, such as ``counters 0.40 != ledger 0.20``. Empty when everything agrees."""
        found: list[str] = []
        if self.counter_amount != self.ledger_amount:
            found.append(f"counters {format_amount(self.counter_amount)} != ledger {format_amount(self.ledger_amount)}")
        if self.export_amount != self.ledger_amount:
            found.append(f"export {format_amount(self.export_amount)} != ledger {format_amount(self.ledger_amount)}")
        for field in RequestedField:
            ledger_count = self.ledger_counts[field]
            if self.counter_counts[field] != ledger_count:
                found.append(f"{field.value} counters count {self.counter_counts[field]} != ledger {ledger_count}")
            if self.export_counts[field] != ledger_count:
                found.append(f"{field.value} export count {self.export_counts[field]} != ledger {ledger_count}")
        return found


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """Every key's reconciliation in one month."""

    month: str
    keys: tuple[KeyReconciliation, ...]

    @property
    def matches(self) -> bool:
        return all(key.matches for key in self.keys)

    def table(self) -> str:
        """Render the report as a plain-text table, one row per key, with the problems of each mismatch."""
        header = ("KEY ID", "LEDGER", "COUNTERS", "EXPORT", "RESULT")
        rows = [header]
        for key in self.keys:
            result = "ok" if key.matches else "MISMATCH: " + "; ".join(key.problems())
            rows.append(
                (
                    key.key_id,
                    format_amount(key.ledger_amount),
                    format_amount(key.counter_amount),
                    format_amount(key.export_amount),
                    result,
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
        return "\n".join(lines)


def reconcile_key(ledger: LedgerLines, usage: UsageReader, key_id: str, month: str) -> KeyReconciliation:
    """Compare the ledger lines, the usage counters and the JSON export of ``key_id`` in ``month`` (YYYY-MM)."""
    lines = ledger.lines_for_month(key_id, month)
    ledger_micros = sum(line.amount_micros for line in lines)
    ledger_counts = dict.fromkeys(RequestedField, 0)
    for line in lines:
        ledger_counts[line.field] += 1 if line.kind is LineKind.CHARGE else -1

    counters = usage.month_usage(key_id, month)
    counter_counts = {field: counters.by_field[field].count for field in RequestedField}

    # The export is parsed back from its bytes, so a rendering fault shows up here too.
    document = json.loads(export_json(build_export(key_id, month, lines)))
    export_amount = sum((Decimal(line["amount"]) for line in document["lines"]), ZERO)
    export_counts = dict.fromkeys(RequestedField, 0)
    for line in document["lines"]:
        export_counts[RequestedField(line["field"])] += 1 if line["kind"] == LineKind.CHARGE.value else -1
    if Decimal(document["amount"]) != export_amount:
        # The stated total disagrees with its own lines, so report the stated total as the export's amount.
        export_amount = Decimal(document["amount"])

    return KeyReconciliation(
        key_id=key_id,
        month=month,
        ledger_amount=line_amount(ledger_micros),
        counter_amount=_counter_amount(counters.amount_micros),
        export_amount=export_amount,
        ledger_counts=ledger_counts,
        counter_counts=counter_counts,
        export_counts=export_counts,
    )


def reconcile_month(
    ledger: LedgerLines, usage: UsageReader, key_ids: Sequence[str], month: str
) -> ReconciliationReport:
    """Reconcile every key in ``key_ids`` in ``month`` (YYYY-MM), in the order given."""
    return ReconciliationReport(
        month=month, keys=tuple(reconcile_key(ledger, usage, key_id, month) for key_id in key_ids)
    )


def _counter_amount(micros: int) -> Decimal:
    # A counter off by a fraction of a cent is a mismatch too, so it is shown exactly, not rounded.
    amount = Decimal(micros) / MICROS_PER_DOLLAR
    return amount if amount != amount.quantize(CENT) else amount.quantize(CENT)
