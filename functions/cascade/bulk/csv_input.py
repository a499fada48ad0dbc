"""Read uploaded CSV files: detect encoding, delimiter and header row, then stream the data records.

``detect_format`` looks only at the first bytes of a file (a few tens of KiB) and returns a
``CsvFormat``. ``scan_file`` reads the whole file once with it and switches to Windows-1252 when
UTF-8 fails after those first bytes, and ``iter_records`` applies the final format to the whole
file, chunk by chunk. Decoding is strict:
a byte sequence that is invalid in the chosen encoding raises ``CsvFormatError`` with its byte
offset, and no character is ever replaced by U+FFFD. Memory use is bounded by the longest line,
not by the file size.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from cascade.bulk.headers import count_identifying_fields

DETECT_BYTES = 64 * 1024
# The header row must start within this many physical lines (after a ``sep=`` line).
MAX_PREAMBLE_LINES = 20
# A physical line longer than this is rejected, which keeps memory bounded for a file without line breaks.
MAX_LINE_CHARS = 1024 * 1024
# The csv module's own limit per field, raised from its 128 KiB default to the line limit.
_FIELD_SIZE_LIMIT = MAX_LINE_CHARS
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls workbooks
_LINE_END = re.compile(r"\r\n|\r|\n")
_SEP_LINE = re.compile(r'^"?sep=(.)"?[,;\t|]*$', re.IGNORECASE)
_SAVE_AS_UTF8 = "save the file as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8) and upload it again"

# Rows that Salesforce report exports append after the data.
_FOOTERS = (
    re.compile(r"^grand totals \(\d[\d,.]* records?\)$", re.IGNORECASE),
    re.compile(r"^confidential information - do not distribute$", re.IGNORECASE),
    re.compile(r"^copyright \(c\) \d{4}(-\d{4})? salesforce\.com, inc\. all rights reserved\.?$", re.IGNORECASE),
)


class CsvFormatError(ValueError):
    """The file cannot be read as a CSV file; the message names the problem and the fix."""


class CsvDecodeError(CsvFormatError):
    """A byte sequence is invalid in the file's encoding; ``offset`` is its position in the file, in bytes."""

    def __init__(self, message: str, *, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class TooManyRowsError(CsvFormatError):
    """The file has more data rows than the job limit."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            f"the file has more than {max_rows} data rows, the limit per job; split it into files of at most "
            f"{max_rows} rows and upload each as its own job"
        )
        self.max_rows = max_rows


class CsvFormat(BaseModel):
    """How to read one uploaded file, found by ``detect_format`` and stored with the job.

    ``encoding`` is a Python codec name (``utf-8``, ``utf-16-le``, ``utf-16-be`` or ``cp1252``).
    ``encoding_assumed`` is true when the file was not valid UTF-8 and Windows-1252 was assumed.
    ``bom`` is true when the file starts with a byte-order mark, which is skipped. ``skip_lines``
    counts the physical lines before the header row (a ``sep=`` line and any preamble), and
    ``header_row`` contains the header cells as written.
    """

    model_config = ConfigDict(frozen=True)

    encoding: str
    encoding_assumed: bool = False
    bom: bool = False
    delimiter: str
    skip_lines: int = 0
    header_row: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FileScan:
    """The result of ``scan_file``: the format that reads the whole file, and its number of data records."""

    format: CsvFormat
    records: int


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One data record. ``number`` counts yielded records from 1; ``line`` is its first physical line (1-based)."""

    number: int
    cells: list[str]
    line: int = 0


def detect_format(head: bytes, *, assume_cp1252: bool = False) -> CsvFormat:
    """Detect the encoding, delimiter and header row from the first bytes of a file.

    ``head`` is the start of the file, such as its first ``DETECT_BYTES`` bytes, and may end in the
    middle of a character or a line. ``assume_cp1252`` reads a file without a byte-order mark as
    Windows-1252 (with ``encoding_assumed`` set), for a file found to be invalid UTF-8 after its head.
    Raise ``CsvFormatError`` when the bytes are not CSV text.
    """
    if not head.strip(b"\r\n\t \x00"):
        raise CsvFormatError("the file is empty; upload a CSV file with a header row and at least one data row")
    _reject_binary(head)
    encoding, bom, assumed = _detect_encoding(head)
    if assume_cp1252 and not bom:
        encoding, assumed = "cp1252", True
    text = _decode_head(head, encoding, skip_bytes=len(_bom_bytes(encoding)) if bom else 0, assumed=assumed)
    lines = _complete_lines(text)

    hinted: str | None = None
    sep_lines = 0
    if lines:
        match = _SEP_LINE.match(lines[0].rstrip("\r\n").strip())
        if match:
            hinted = match.group(1)
            sep_lines = 1
    candidates = (hinted,) if hinted is not None else CANDIDATE_DELIMITERS
    delimiter, line_index, header = _find_header(lines[sep_lines : sep_lines + MAX_PREAMBLE_LINES], candidates)
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    return CsvFormat(
        encoding=encoding,
        encoding_assumed=assumed,
        bom=bom,
        delimiter=delimiter,
        skip_lines=sep_lines + line_index,
        header_row=tuple(header),
    )


def scan_file(
    fmt: CsvFormat, head: bytes, open_chunks: Callable[[], Iterable[bytes]], *, max_rows: int | None
) -> FileScan:
    """Read the whole file once to count its records, and return the format that reads all of it.

    ``fmt`` is ``detect_format(head)`` and ``open_chunks`` returns the file's chunks from the start
    each time it is called. When a file without a byte-order mark has valid UTF-8 in ``head`` but
    an invalid UTF-8 byte later, the scan restarts with Windows-1252 and returns that format, with
    ``encoding_assumed`` set. Raise ``CsvFormatError`` as ``iter_records`` does, and
    ``TooManyRowsError`` past ``max_rows``.
    """
    try:
        return FileScan(format=fmt, records=_count_records(open_chunks(), fmt, max_rows=max_rows))
    except CsvDecodeError:
        if fmt.encoding != "utf-8" or fmt.bom:
            raise
    fallback = detect_format(head, assume_cp1252=True)
    return FileScan(format=fallback, records=_count_records(open_chunks(), fallback, max_rows=max_rows))


def _count_records(chunks: Iterable[bytes], fmt: CsvFormat, *, max_rows: int | None) -> int:
    count = 0
    for _ in iter_records(chunks, fmt, max_rows=max_rows):
        count += 1
    return count


def iter_records(chunks: Iterable[bytes], fmt: CsvFormat, *, max_rows: int | None) -> Iterator[CsvRecord]:
    """Yield the data records of a whole file, read chunk by chunk with ``fmt``.

    Completely blank rows and Salesforce report footers are skipped and not numbered. Trailing
    empty cells beyond the header's width are dropped. Raise ``TooManyRowsError`` when a record
    past ``max_rows`` is found, ``CsvDecodeError`` for bytes invalid in ``fmt.encoding``, and
    ``CsvFormatError`` for a NUL character, a quoted field that is never closed or another
    malformed record.
    """
    csv.field_size_limit(_FIELD_SIZE_LIMIT)
    skip_bytes = len(_bom_bytes(fmt.encoding)) if fmt.bom else 0
    texts = _decode_stream(chunks, fmt.encoding, skip_bytes=skip_bytes, assumed=fmt.encoding_assumed)
    counter = _LineCounter(physical_lines(texts))
    for _ in range(fmt.skip_lines):
        if next(counter, None) is None:
            return
    reader = csv.reader(counter, delimiter=fmt.delimiter)
    width = len(fmt.header_row)
    number = 0
    header_seen = False
    while True:
        start_line = counter.count + 1
        try:
            cells = next(reader, None)
        except csv.Error as error:
            raise CsvFormatError(
                f"the record starting on line {start_line} cannot be parsed ({error}); check for a quote "
                "character that is opened but never closed"
            ) from error
        if cells is None:
            return
        if counter.exhausted:
            # The csv module (without strict=True) returns an open quoted field at the end of the
            # input as if it were closed, so a reader that reached the end mid-record rejects it here.
            raise _unclosed_quote_error(cells, last_line=counter.count)
        if not header_seen:
            header_seen = True
            continue
        if _is_blank(cells) or _is_footer(cells):
            continue
        while len(cells) > width and not cells[-1].strip():
            cells.pop()
        number += 1
        if max_rows is not None and number > max_rows:
            raise TooManyRowsError(max_rows)
        yield CsvRecord(number=number, cells=cells, line=start_line)


def physical_lines(texts: Iterable[str]) -> Iterator[str]:
    """Split decoded text chunks into lines that keep their ending (``\\r\\n``, ``\\n`` or ``\\r``).

    A ``\\r`` at the end of a chunk is held back until the next chunk shows whether ``\\n`` follows.
    """
    pending = ""
    line_number = 0
    for text in texts:
        if not text:
            continue
        data = pending + text
        start = 0
        for match in _LINE_END.finditer(data):
            if match.group() == "\r" and match.end() == len(data):
                break
            line_number += 1
            yield data[start : match.end()]
            start = match.end()
        pending = data[start:]
        if len(pending) > MAX_LINE_CHARS:
            raise CsvFormatError(
                f"line {line_number + 1} is longer than {MAX_LINE_CHARS} characters; check that the file is a "
                "CSV file with one record per line"
            )
    if pending:
        yield pending


class _LineCounter(Iterator[str]):
    """An iterator over lines that counts how many it has returned and records when it ran out."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.count = 0
        self.exhausted = False

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self.count += 1
        return line


def _unclosed_quote_error(cells: list[str], *, last_line: int) -> CsvFormatError:
    """Build the error for a record whose last field opens a quote that the file never closes.

    That field contains the rest of the file, line breaks included, so its first line is found by
    counting back from the file's last line.
    """
    field = cells[-1] if cells else ""
    breaks = len(_LINE_END.findall(field))
    start_line = last_line - breaks + (1 if field.endswith(("\n", "\r")) else 0)
    return CsvFormatError(
        f"the quoted field that starts on line {start_line} is never closed: the quote character that is opened "
        'there has no closing quote before the end of the file; add the missing closing quote (") or remove '
        "the opening one, then upload the file again"
    )


def _bom_bytes(encoding: str) -> bytes:
    return next(bom for bom, name in _BOMS if name == encoding)


def _reject_binary(head: bytes) -> None:
    if head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC):
        raise CsvFormatError(
            "the file is an Excel workbook or another compressed file, not CSV text; open it in Excel or Google "
            "Sheets, export it as CSV UTF-8 and upload that file"
        )
    if any(head.startswith(bom) for bom in _UTF32_BOMS):
        raise CsvFormatError(f"the file is encoded as UTF-32, which is not supported; {_SAVE_AS_UTF8}")


def _detect_encoding(head: bytes) -> tuple[str, bool, bool]:
    """Return ``(encoding, bom, assumed)`` for ``head``."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, True, False
    sixteen = _utf16_without_bom(head)
    if sixteen is not None:
        return sixteen, False, False
    if b"\x00" in head:
        raise _nul_error(head.index(b"\x00"))
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252", False, True
    return "utf-8", False, False


def _utf16_without_bom(head: bytes) -> str | None:
    """Recognise UTF-16 text without a BOM by its zero high bytes, as ASCII-heavy CSV text has them."""
    sample = head[:512]
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even_zeros = sample[0 : pairs * 2 : 2].count(0)
    odd_zeros = sample[1 : pairs * 2 : 2].count(0)
    if odd_zeros >= pairs * 0.6 and even_zeros == 0:
        return "utf-16-le"
    if even_zeros >= pairs * 0.6 and odd_zeros == 0:
        return "utf-16-be"
    return None


def _decode_head(head: bytes, encoding: str, *, skip_bytes: int, assumed: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        return decoder.decode(head[skip_bytes:], final=False)
    except UnicodeDecodeError as error:
        offset = skip_bytes + error.start
        raise _decode_error(error, offset=offset, encoding=encoding, assumed=assumed) from error


def _decode_stream(chunks: Iterable[bytes], encoding: str, *, skip_bytes: int, assumed: bool) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    fed = 0
    to_skip = skip_bytes
    for chunk in chunks:
        if to_skip:
            dropped = min(to_skip, len(chunk))
            chunk = chunk[dropped:]  # noqa: PLW2901 - the BOM is cut from the first chunks only
            to_skip -= dropped
            fed += dropped
        if not chunk:
            continue
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            # The error's positions count from the bytes the decoder held back, then the new chunk.
            raise _decode_error(
                error, offset=fed - pending + error.start, encoding=encoding, assumed=assumed
            ) from error
        _reject_nul(text, start_offset=fed - pending, encoding=encoding)
        fed += len(chunk)
        yield text
    pending = len(decoder.getstate()[0])
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise _decode_error(error, offset=fed - pending + error.start, encoding=encoding, assumed=assumed) from error
    _reject_nul(tail, start_offset=fed - pending, encoding=encoding)
    if tail:
        yield tail


def _reject_nul(text: str, *, start_offset: int, encoding: str) -> None:
    """Raise for a NUL character in ``text``, which starts at byte ``start_offset`` of the file."""
    index = text.find("\x00")
    if index >= 0:
        offset = start_offset + len(text[:index].encode(encoding))
        raise _nul_error(offset)


def _nul_error(offset: int) -> CsvFormatError:
    return CsvFormatError(
        f"the file contains a NUL byte at offset {offset}, so it is binary data rather than CSV text; {_SAVE_AS_UTF8}"
    )


def _decode_error(error: UnicodeDecodeError, *, offset: int, encoding: str, assumed: bool) -> CsvDecodeError:
    bad = error.object[error.start : error.end].hex(" ")
    if encoding == "cp1252" and assumed:
        problem = (
            f"the file is neither valid UTF-8 nor Windows-1252: byte 0x{bad} at offset {offset} is undefined in "
            "Windows-1252, and an earlier byte is invalid in UTF-8"
        )
    elif encoding == "cp1252":
        problem = f"byte 0x{bad} at offset {offset} is undefined in Windows-1252"
    else:
        label = {"utf-8": "UTF-8", "utf-16-le": "UTF-16 (little-endian)", "utf-16-be": "UTF-16 (big-endian)"}.get(
            encoding, encoding
        )
        problem = f"the file is not valid {label}: bytes 0x{bad} at offset {offset} cannot be decoded ({error.reason})"
    return CsvDecodeError(f"{problem}; {_SAVE_AS_UTF8}", offset=offset)


def _complete_lines(text: str) -> list[str]:
    """Return the lines of ``text``, without a last line that may have been cut off by the head's length."""
    lines = list(physical_lines([text]))
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines.pop()
    return lines


def _find_header(lines: list[str], delimiters: tuple[str, ...]) -> tuple[str, int, list[str]]:
    """Pick the delimiter and the header record.

    Return ``(delimiter, physical lines before the header, header cells)``. The header is the
    earliest record that maps two or more identifying fields, else the earliest that maps one.
    When no record maps any, the first non-blank record is the header, split by the delimiter that
    gives it the most cells, and ``map_headers`` later reports what is missing.
    """
    # Candidates are ordered by (fewer than two fields mapped, line index, more fields first, delimiter rank).
    best: tuple[tuple[bool, int, int, int], str, list[str]] | None = None
    fallback: tuple[tuple[int, int, int], str, list[str]] | None = None
    for rank, delimiter in enumerate(delimiters):
        for line_index, cells in _records_with_lines(lines, delimiter):
            if _is_blank(cells):
                continue
            first_record_key = (line_index, -len(cells), rank)
            if fallback is None or first_record_key < fallback[0]:
                fallback = (first_record_key, delimiter, cells)
            mapped = count_identifying_fields(cells)
            if mapped == 0:
                continue
            key = (mapped < 2, line_index, -mapped, rank)
            if best is None or key < best[0]:
                best = (key, delimiter, cells)
    if best is not None:
        return best[1], best[0][1], best[2]
    if fallback is not None:
        return fallback[1], fallback[0][0], fallback[2]
    raise CsvFormatError("the file has no header row; add a first row naming each column, such as Email,First Name")


def _records_with_lines(lines: list[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Parse ``lines`` as CSV records; yield each with the number of physical lines before it."""
    counter = _LineCounter(iter(lines))
    reader = csv.reader(counter, delimiter=delimiter)
    while True:
        start = counter.count
        try:
            cells = next(reader, None)
        except csv.Error:
            return
        if cells is None:
            return
        yield start, cells


def _is_blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _is_footer(cells: list[str]) -> bool:
    first = cells[0].strip()
    if not first or any(cell.strip() for cell in cells[1:]):
        return False
    return any(pattern.match(first) for pattern in _FOOTERS)
