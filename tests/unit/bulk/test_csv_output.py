"""Results and errors files: BOM, header, column order, formula neutralising and a csv round trip."""

from __future__ import annotations

import codecs
import csv
import io
from decimal import Decimal

import pytest

from cascade.bulk.csv_output import (
    RESULT_COLUMNS,
    ErrorsWriter,
    ResultsWriter,
    RowResultCells,
    neutralise,
    output_column_names,
)


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data[len(codecs.BOM_UTF8) :].decode("utf-8"), newline="")))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1:A3)", "'@SUM(A1:A3)"),
        ("-2+3", "'-2+3"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("+442079460123", "'+442079460123"),
        ("  =1+2", "'  =1+2"),
        ('=HYPERLINK("https://example.com","x")', '\'=HYPERLINK("https://example.com","x")'),
        ("Quillon Widgets", "Quillon Widgets"),
        ("0.20", "0.20"),
        ("-0.20", "-0.20"),
        ("12", "12"),
        ("", ""),
        ("'+44 20 7946 0123", "'+44 20 7946 0123"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_cell(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_result_columns_suffixed_on_collision() -> None:
    names = output_column_names(["Email", "cascade_status", "CASCADE_EMAIL", "cascade_email_2"], RESULT_COLUMNS)
    assert names[0] == "cascade_status_2"
    assert names[1] == "cascade_email_3"
    assert names[2:] == list(RESULT_COLUMNS[2:])


def test_results_file_layout() -> None:
    sink = io.BytesIO()
    writer = ResultsWriter(sink)
    writer.write_header(["First Name", "Company"])
    writer.write_row(
        ["Ada", "Quillon"],
        RowResultCells(
            status="matched",
            email="ada.quill@quillon.example.com",
            email_verdict="valid",
            phone="+442079460123",
            phone_line_type="fixed_line",
            company_name="Quillon Widgets Ltd",
            company_registry_id="01234567",
            billed=Decimal("0.50"),
        ),
    )
    writer.write_row(["Bo"], RowResultCells(status="not_found"))
    data = sink.getvalue()
    assert data.startswith(codecs.BOM_UTF8)
    assert b"\r\n" in data
    rows = _rows(data)
    assert rows[0] == ["First Name", "Company", *RESULT_COLUMNS]
    assert rows[1] == [
        "Ada",
        "Quillon",
        "matched",
        "ada.quill@quillon.example.com",
        "valid",
        "'+442079460123",
        "fixed_line",
        "Quillon Widgets Ltd",
        "01234567",
        "0.50",
        "",
    ]
    assert rows[2] == ["Bo", "", "not_found", "", "", "", "", "", "", "0.00", ""]


def test_formula_values_neutralised_cell_by_cell() -> None:
    sink = io.BytesIO()
    writer = ResultsWriter(sink)
    writer.write_header(["Company"])
    companies = ["=1+2", "@SUM(A1:A3)", "-2+3", "\t=1+2"]
    for company in companies:
        writer.write_row([company], RowResultCells(status="matched", company_name=company, phone="+442079460123"))
    rows = _rows(sink.getvalue())[1:]
    company_column = 2 + RESULT_COLUMNS.index("cascade_company_name")
    phone_column = 1 + RESULT_COLUMNS.index("cascade_phone")
    billed_column = 1 + RESULT_COLUMNS.index("cascade_billed")
    assert [row[0] for row in rows] == ["'=1+2", "'@SUM(A1:A3)", "'-2+3", "'\t=1+2"]
    assert [row[company_column - 1] for row in rows] == ["'=1+2", "'@SUM(A1:A3)", "'-2+3", "'\t=1+2"]
    assert {row[phone_column] for row in rows} == {"'+442079460123"}
    assert {row[billed_column] for row in rows} == {"0.00"}


def test_embedded_newlines_quoted_and_read_back() -> None:
    sink = io.BytesIO()
    writer = ResultsWriter(sink)
    writer.write_header(["Notes", "Company"])
    writer.write_row(['line one\nline "two", end', "Q"], RowResultCells(status="error", error="timed out"))
    rows = _rows(sink.getvalue())
    assert rows[1][0] == 'line one\nline "two", end'
    assert rows[1][-1] == "timed out"


def test_long_input_row_cut_to_header_width() -> None:
    sink = io.BytesIO()
    writer = ResultsWriter(sink)
    writer.write_header(["A"])
    writer.write_row(["x", "y"], RowResultCells(status="invalid_input"))
    assert _rows(sink.getvalue())[1][:2] == ["x", "invalid_input"]


def test_write_row_before_header_rejected() -> None:
    with pytest.raises(RuntimeError, match="write_header"):
        ResultsWriter(io.BytesIO()).write_row([], RowResultCells(status="matched"))


def test_errors_file_layout() -> None:
    sink = io.BytesIO()
    writer = ErrorsWriter(sink)
    writer.write_header(["First Name", "row_number"])
    writer.write_row(4, "invalid_input", "too little to identify a person", ["=cmd|' /C calc'!A0", "x"])
    rows = _rows(sink.getvalue())
    assert rows[0] == ["row_number_2", "cascade_status", "cascade_error", "First Name", "row_number"]
    assert rows[1] == ["4", "invalid_input", "too little to identify a person", "'=cmd|' /C calc'!A0", "x"]
