"""Reading uploaded CSV bytes: encodings, delimiters, header detection, footers and streaming."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import pytest

from cascade.bulk.csv_input import (
    CsvFormat,
    CsvFormatError,
    CsvRecord,
    TooManyRowsError,
    detect_format,
    iter_records,
    physical_lines,
)


def _read(data: bytes, *, chunk_size: int = 4096, max_rows: int | None = None) -> tuple[CsvFormat, list[CsvRecord]]:
    fmt = detect_format(data[:65536])
    chunks = [data[start : start + chunk_size] for start in range(0, len(data), chunk_size)]
    return fmt, list(iter_records(chunks, fmt, max_rows=max_rows))


def test_utf8_bom_not_glued_to_first_header() -> None:
    fmt, records = _read(codecs.BOM_UTF8 + b"Email,First Name\nada.quill@example.com,Ada\n")
    assert fmt.header_row == ("Email", "First Name")
    assert fmt.bom is True
    assert fmt.encoding == "utf-8"
    assert [record.cells for record in records] == [["ada.quill@example.com", "Ada"]]


def test_utf16_le_bom_tab_delimited() -> None:
    text = "Email\tFirst Name\nasa@example.com\tÅsa\n"
    fmt, records = _read(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert fmt.encoding == "utf-16-le"
    assert fmt.delimiter == "\t"
    assert fmt.encoding_assumed is False
    assert [record.cells for record in records] == [["asa@example.com", "Åsa"]]


def test_utf16_be_bom() -> None:
    text = "Email\tFirst Name\r\nasa@example.com\tÅsa\r\n"
    fmt, records = _read(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    assert fmt.encoding == "utf-16-be"
    assert fmt.header_row == ("Email", "First Name")
    assert records[0].cells == ["asa@example.com", "Åsa"]


def test_cp1252_fallback_recorded() -> None:
    fmt, records = _read("Email,First Name\nasa@example.com,Åsa\n".encode("cp1252"))
    assert fmt.encoding == "cp1252"
    assert fmt.encoding_assumed is True
    assert records[0].cells == ["asa@example.com", "Åsa"]


def test_utf8_without_bom() -> None:
    fmt, records = _read("First Name,Last Name,Company\nZoë,Müller,Quillon\n".encode())
    assert fmt.encoding == "utf-8"
    assert fmt.bom is False
    assert fmt.encoding_assumed is False
    assert records[0].cells == ["Zoë", "Müller", "Quillon"]


def test_cp1252_undefined_byte_rejected_with_offset() -> None:
    data = b"Email,First Name\nasa@example.com,\xc5sa\x81\n"
    with pytest.raises(CsvFormatError) as caught:
        _read(data)
    message = str(caught.value)
    assert "0x81" in message
    offset = data.index(b"\x81")
    assert f"offset {offset}" in message
    assert "CSV UTF-8" in message


def test_utf16_invalid_surrogate_rejected_with_offset() -> None:
    body = "Email\tFirst Name\nasa@example.com\tA".encode("utf-16-le") + b"\x00\xdc" + "\n".encode("utf-16-le")
    data = codecs.BOM_UTF16_LE + body
    with pytest.raises(CsvFormatError) as caught:
        _read(data, chunk_size=7)
    assert "UTF-16" in str(caught.value)
    offset = data.index(b"\x00\xdc")
    assert f"offset {offset}" in str(caught.value)


def test_invalid_utf8_after_head_reports_offset() -> None:
    head = b"Email,First Name\n" + b"ada@example.com,Ada\n" * 5000
    data = head + b"bob@example.com,B\xffb\n"
    fmt = detect_format(data[:1024])
    assert fmt.encoding == "utf-8"
    with pytest.raises(CsvFormatError) as caught:
        list(iter_records([data[i : i + 1000] for i in range(0, len(data), 1000)], fmt, max_rows=None))
    assert f"offset {len(head) + 17}" in str(caught.value)


def test_no_replacement_character_ever() -> None:
    _, records = _read("Email,First Name\nasa@example.com,Åsa\n".encode("cp1252"))
    assert all("\ufffd" not in cell for record in records for cell in record.cells)


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiter_detected(delimiter: str, name: str) -> None:
    header = delimiter.join(["First Name", "Last Name", "Company", "Notes"])
    row = delimiter.join(["Ada", "Quill", '"Quillon; Widgets, Ltd"', "a b"])
    fmt, records = _read(f"{header}\n{row}\n".encode())
    assert fmt.delimiter == delimiter, name
    assert records[0].cells == ["Ada", "Quill", "Quillon; Widgets, Ltd", "a b"]


def test_semicolon_file_with_sep_line() -> None:
    data = b"sep=;\nfirst_name;last_name;company;revenue\nAda;Quill;Quillon Widgets, Ltd;1.000,50\n"
    fmt, records = _read(data)
    assert fmt.delimiter == ";"
    assert fmt.skip_lines == 1
    assert fmt.header_row == ("first_name", "last_name", "company", "revenue")
    assert records[0].cells == ["Ada", "Quill", "Quillon Widgets, Ltd", "1.000,50"]


def test_sep_line_overrides_guess() -> None:
    fmt, records = _read(b'"sep=|"\nFirst Name|Last Name|Notes\nAda|Quill|a,b;c\n')
    assert fmt.delimiter == "|"
    assert records[0].cells == ["Ada", "Quill", "a,b;c"]


def test_quoted_newlines_and_delimiters() -> None:
    data = b'First Name,Last Name,Notes\r\nAda,Quill,"line one\r\nline two, with comma"\r\nBo,Farrowby,"say ""hi"""\r\n'
    _, records = _read(data, chunk_size=5)
    assert records[0].cells == ["Ada", "Quill", "line one\r\nline two, with comma"]
    assert records[1].cells == ["Bo", "Farrowby", 'say "hi"']
    assert records[1].number == 2
    assert records[1].line == 4


def test_duplicate_header_cells_kept() -> None:
    fmt, records = _read(b"First Name,Email,Email,Company\nAda,ada.quill@example.com,,Quillon\n")
    assert fmt.header_row == ("First Name", "Email", "Email", "Company")
    assert records[0].cells == ["Ada", "ada.quill@example.com", "", "Quillon"]


def test_linkedin_connections_preamble_skipped() -> None:
    data = (
        b"Notes:\n"
        b'"When exporting your connection data, you may notice that some of the email addresses are missing."\n'
        b"\n"
        b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        b"Ada,Quill,https://www.linkedin.com/in/ada-quill,,Quillon,CEO,05 Oct 2020\n"
        b",,,,,,\n"
    )
    fmt, records = _read(data)
    assert fmt.skip_lines == 3
    assert fmt.header_row[0] == "First Name"
    assert len(records) == 1
    assert records[0].cells[2] == "https://www.linkedin.com/in/ada-quill"


def test_multiline_instruction_cell_before_header() -> None:
    data = (
        b'"Fill in one person per row.\nRequired fields are marked with *.",,\n'
        b"Person - Name*,Person - Email - Work,Organization - Name\n"
        b"Ada Quill,ada@quillon.example.com,Quillon\n"
    )
    fmt, records = _read(data)
    assert fmt.skip_lines == 2
    assert fmt.header_row == ("Person - Name*", "Person - Email - Work", "Organization - Name")
    assert records[0].cells[0] == "Ada Quill"


def test_header_after_twenty_lines_not_found() -> None:
    data = b"preamble\n" * 21 + b"First Name,Last Name,Company\nAda,Quill,Q\n"
    fmt = detect_format(data)
    assert fmt.skip_lines == 0
    assert fmt.header_row == ("preamble",)


def test_salesforce_report_footer_rows_skipped() -> None:
    data = (
        b'"First Name","Last Name","Account Name","Email"\n'
        b'"Ada","Quill","Quillon","ada@quillon.example.com"\n'
        b'"Bo","Farrowby","Quillon","bo@quillon.example.com"\n'
        b"\n"
        b'"Grand Totals (2 records)"\n'
        b"\n"
        b'"Confidential Information - Do Not Distribute"\n'
        b"\n"
        b'"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
    )
    _, records = _read(data)
    assert [record.cells[0] for record in records] == ["Ada", "Bo"]
    assert [record.number for record in records] == [1, 2]


def test_blank_rows_skipped_and_not_numbered() -> None:
    _, records = _read(b"First Name,Last Name,Company\n\nAda,Quill,Q\n,,\n  ,\t,\nBo,Farrowby,Q\n")
    assert [record.number for record in records] == [1, 2]
    assert [record.cells[0] for record in records] == ["Ada", "Bo"]


def test_trailing_empty_cells_dropped() -> None:
    _, records = _read(b"First Name,Last Name,Company\nAda,Quill,Q,,,\nBo,Farrowby\n")
    assert records[0].cells == ["Ada", "Quill", "Q"]
    assert records[1].cells == ["Bo", "Farrowby"]


def test_too_many_rows_raised() -> None:
    data = b"First Name,Last Name,Company\n" + b"Ada,Quill,Q\n" * 4
    with pytest.raises(TooManyRowsError) as caught:
        _read(data, max_rows=3)
    assert caught.value.max_rows == 3
    assert "more than 3 data rows" in str(caught.value)


def test_rows_at_limit_accepted() -> None:
    _, records = _read(b"First Name,Last Name,Company\n" + b"Ada,Quill,Q\n" * 3, max_rows=3)
    assert len(records) == 3


def test_chunks_split_multibyte_and_crlf() -> None:
    text = "First Name,Last Name,Company\r\nÅsa,Müller,Zoë GmbH\r\nJürgen,Ó Briain,Quillon\r\n"
    for encoding, bom in (("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE)):
        data = bom + text.encode(encoding)
        for size in (1, 2, 3, 5):
            fmt, records = _read(data, chunk_size=size)
            assert fmt.encoding == encoding
            assert [record.cells for record in records] == [
                ["Åsa", "Müller", "Zoë GmbH"],
                ["Jürgen", "Ó Briain", "Quillon"],
            ], (encoding, size)


def test_physical_lines_hold_back_carriage_return() -> None:
    lines = list(physical_lines(["a,b\r", "\nc,d\r", "e,f\n", "g"]))
    assert lines == ["a,b\r\n", "c,d\r", "e,f\n", "g"]


def test_unclosed_quote_reported() -> None:
    # A quote left open would turn the rest of the file into one cell, so the reader rejects the file.
    data = b'First Name,Last Name,Notes\nAda,Quill,"never closed\n' + b"x" * 200 + b"\n"
    fmt = detect_format(data)
    with pytest.raises(CsvFormatError, match="quoted field that starts on line 2 is never closed"):
        list(iter_records([data], fmt, max_rows=None))


def test_empty_file_rejected() -> None:
    with pytest.raises(CsvFormatError, match="empty"):
        detect_format(b"\r\n\r\n")


def test_xlsx_workbook_rejected() -> None:
    with pytest.raises(CsvFormatError, match="Excel workbook"):
        detect_format(b"PK\x03\x04" + b"\x00" * 100)


def test_binary_nul_rejected() -> None:
    with pytest.raises(CsvFormatError, match="NUL byte at offset 3"):
        detect_format(b"abc\x00def\x01\x02")


def test_utf32_rejected() -> None:
    with pytest.raises(CsvFormatError, match="UTF-32"):
        detect_format(codecs.BOM_UTF32_LE + "Email\n".encode("utf-32-le"))


def test_utf16_without_bom_recognised() -> None:
    fmt = detect_format("First Name\tLast Name\tCompany\nAda\tQuill\tQ\n".encode("utf-16-le"))
    assert fmt.encoding == "utf-16-le"
    assert fmt.bom is False


def test_format_round_trips_as_json() -> None:
    fmt = detect_format(b"sep=;\nfirst_name;last_name;company\n")
    assert CsvFormat.model_validate_json(fmt.model_dump_json()) == fmt


def test_streaming_reads_lazily() -> None:
    consumed: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b"First Name,Last Name,Company\n"
        for index in range(1000):
            consumed.append(index)
            yield b"Ada,Quill,Q\n"

    fmt = detect_format(b"First Name,Last Name,Company\n")
    records = iter_records(chunks(), fmt, max_rows=None)
    next(records)
    assert len(consumed) < 5
