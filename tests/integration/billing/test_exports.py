"""Monthly usage exports read from the ledger: golden files, stable order, exact decimals, refunds."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from cascade.billing.exports import CSV_COLUMNS, build_export, export_csv, export_json, month_export
from cascade.domain.billing import LedgerLine, refund_line_id
from cascade.storage.ledger import LedgerRepository
from tests.integration.billing.conftest import KEY_ID, MONTH, OTHER_KEY_ID, charge, march

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden"


def test_export_csv_matches_golden(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    produced = export_csv(month_export(ledger, KEY_ID, MONTH))
    assert produced == (GOLDEN_DIR / "usage_export_2026_03.csv").read_bytes()


def test_export_json_matches_golden(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    produced = export_json(month_export(ledger, KEY_ID, MONTH))
    assert produced == (GOLDEN_DIR / "usage_export_2026_03.json").read_bytes()


def test_export_rerun_byte_identical(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    first = month_export(ledger, KEY_ID, MONTH)
    second = month_export(ledger, KEY_ID, MONTH)
    assert export_csv(first) == export_csv(second)
    assert export_json(first) == export_json(second)


def test_export_order_ignores_input_order(golden_lines: dict[str, LedgerLine], ledger: LedgerRepository) -> None:
    lines = ledger.lines_for_month(KEY_ID, MONTH)
    forward = build_export(KEY_ID, MONTH, lines)
    backward = build_export(KEY_ID, MONTH, list(reversed(lines)))
    assert export_csv(forward) == export_csv(backward)
    assert [line.line_id for line in forward.lines] == [line.line_id for line in backward.lines]


def test_export_csv_layout(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    produced = export_csv(month_export(ledger, KEY_ID, MONTH))
    text = produced.decode("utf-8")
    assert text.count("\r\n") == len(text.splitlines())
    assert "\n" not in text.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert {row["currency"] for row in rows} == {"USD"}
    assert {row["key_id"] for row in rows} == {KEY_ID}
    # The rows are in time order, and the two lines of one instant in line id order.
    order = [(row["charged_at"], row["line_id"]) for row in rows]
    assert order == sorted(order)
    assert all(row["charged_at"].endswith("Z") for row in rows)


def test_export_refunds_negative_lines(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    document = json.loads(export_json(month_export(ledger, KEY_ID, MONTH)))
    refunds = [line for line in document["lines"] if line["kind"] == "refund"]
    assert [line["line_id"] for line in refunds] == [
        refund_line_id(golden_lines["february"].match_id),
        refund_line_id(golden_lines["email_1"].match_id),
    ]
    assert [line["amount"] for line in refunds] == ["-0.20", "-0.20"]
    # A refund in March of a February charge is a March line, and the charge itself is not.
    assert golden_lines["february"].match_id not in {line["line_id"] for line in document["lines"]}


def test_export_totals_exact(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    document = json.loads(export_json(month_export(ledger, KEY_ID, MONTH)))
    # Emails: 0.20 + 0.20 + 0.20 + 3 * 0.10, minus two refunds of 0.20. Phones: one 0.30.
    assert document["totals"]["email"] == {"count": 4, "amount": "0.50"}
    assert document["totals"]["phone"] == {"count": 1, "amount": "0.30"}
    assert document["amount"] == "0.80"
    line_sum = sum(Decimal(line["amount"]) for line in document["lines"])
    assert line_sum == Decimal("0.80")
    assert document["currency"] == "USD"
    assert sorted(document) == ["amount", "currency", "key_id", "lines", "month", "totals"]


def test_export_other_key_separate(ledger: LedgerRepository, golden_lines: dict[str, LedgerLine]) -> None:
    other = month_export(ledger, OTHER_KEY_ID, MONTH)
    assert [line.line_id for line in other.lines] == [golden_lines["other_key"].line_id]
    assert other.amount == Decimal("0.20")


def test_export_empty_month(ledger: LedgerRepository) -> None:
    export = month_export(ledger, KEY_ID, "2026-04")
    assert export_csv(export) == (",".join(CSV_COLUMNS) + "\r\n").encode()
    document = json.loads(export_json(export))
    assert document["lines"] == []
    assert document["amount"] == "0.00"
    assert document["totals"]["email"] == {"count": 0, "amount": "0.00"}


def test_build_export_rejects_foreign_line() -> None:
    line = charge(OTHER_KEY_ID, march(3, 12), request_id="req_1")
    with pytest.raises(ValueError, match="belongs to key_0123456789abcdef in 2026-03"):
        build_export(KEY_ID, MONTH, [line])
