"""Write the results and errors files of a bulk job as UTF-8 CSV with a byte-order mark.

Both writers encode one row at a time and write it to a binary sink, such as a multipart
upload buffer, so a file is never held in memory. Every cell, including the customer's own
input cells and the headers, goes through ``neutralise``: a cell that a spreadsheet would run as
a formula gets a leading apostrophe. The JSON API returns raw values; only CSV files are changed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from cascade.domain.money import format_amount

RESULT_COLUMNS: tuple[str, ...] = (
    "cascade_status",
    "cascade_email",
    "cascade_email_verdict",
    "cascade_phone",
    "cascade_phone_line_type",
    "cascade_company_name",
    "cascade_company_registry_id",
    "cascade_billed",
    "cascade_error",
)
ERROR_COLUMNS: tuple[str, ...] = ("row_number", "cascade_status", "cascade_error")

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula or command.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number such as "-0.20" or "12" is a value, not a formula, so it is written as is.
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def neutralise(cell: str) -> str:
    """Return ``cell`` with a leading apostrophe when a spreadsheet would read it as a formula.

    The check looks past leading spaces, because spreadsheets also evaluate ``" =1+2"``. A plain
    decimal number such as ``-0.20`` is left unchanged. An E.164 phone number such as
    ``+442079460123`` starts with ``+``, so it is written ``'+442079460123`` and shown as text.
    """
    stripped = cell.lstrip(" ")
    if not stripped.startswith(_FORMULA_TRIGGERS):
        return cell
    if _PLAIN_NUMBER.match(stripped):
        return cell
    return "'" + cell


@dataclass(frozen=True, slots=True)
class RowResultCells:
    """The values of the result columns of one row; empty strings for values the row does not have."""

    status: str
    email: str = ""
    email_verdict: str = ""
    phone: str = ""
    phone_line_type: str = ""
    company_name: str = ""
    company_registry_id: str = ""
    billed: Decimal = Decimal("0.00")
    error: str = ""

    def cells(self) -> list[str]:
        return [
            self.status,
            self.email,
            self.email_verdict,
            self.phone,
            self.phone_line_type,
            self.company_name,
            self.company_registry_id,
            format_amount(self.billed),
            self.error,
        ]


def output_column_names(input_headers: Sequence[str], added: Sequence[str]) -> list[str]:
    """Return ``added`` with each name that equals an input header (ignoring case) suffixed ``_2``, ``_3`` …"""
    taken = {header.casefold() for header in input_headers}
    names: list[str] = []
    for name in added:
        candidate = name
        suffix = 2
        while candidate.casefold() in taken:
            candidate = f"{name}_{suffix}"
            suffix += 1
        taken.add(candidate.casefold())
        names.append(candidate)
    return names


class _CsvSink:
    """Encode CSV rows one at a time to a binary sink: UTF-8, ``\\r\\n`` row ends, minimal quoting."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        self._started = False

    def write(self, cells: Sequence[str]) -> None:
        if not self._started:
            self._sink.write(codecs.BOM_UTF8)
            self._started = True
        self._writer.writerow([neutralise(cell) for cell in cells])
        self._sink.write(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()


class ResultsWriter:
    """Write the results file: the input columns in their order, then ``RESULT_COLUMNS``.

    A row's input cells are padded with empty cells, or cut, to the header's width, so every row
    has the same number of cells.
    """

    def __init__(self, sink: BinaryIO) -> None:
        self._out = _CsvSink(sink)
        self._width: int | None = None
        self.result_columns: list[str] = []

    def write_header(self, input_headers: list[str]) -> None:
        self.result_columns = output_column_names(input_headers, RESULT_COLUMNS)
        self._width = len(input_headers)
        self._out.write([*input_headers, *self.result_columns])

    def write_row(self, input_cells: list[str], result: RowResultCells) -> None:
        if self._width is None:
            raise RuntimeError("write_header must be called before write_row")
        # NOTE: cells beyond the header's width are cut here; such rows are reported as invalid input.
        cells = (list(input_cells) + [""] * self._width)[: self._width]
        self._out.write([*cells, *result.cells()])


class ErrorsWriter:
    """Write the errors file: ``row_number``, ``cascade_status``, ``cascade_error``, then the row's input cells."""

    def __init__(self, sink: BinaryIO) -> None:
        self._out = _CsvSink(sink)
        self._started = False
        self.leading_columns: list[str] = []

    def write_header(self, input_headers: list[str]) -> None:
        self.leading_columns = output_column_names(input_headers, ERROR_COLUMNS)
        self._started = True
        self._out.write([*self.leading_columns, *input_headers])

    def write_row(self, row_number: int, status: str, error: str, input_cells: list[str]) -> None:
        if not self._started:
            raise RuntimeError("write_header must be called before write_row")
        self._out.write([str(row_number), status, error, *input_cells])
