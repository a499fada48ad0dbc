"""The committed demo CRM export is exactly what its generator writes, and it reads as a valid job."""

from __future__ import annotations

import codecs

from cascade.bulk.csv_input import detect_format, iter_records
from cascade.bulk.headers import map_headers
from cascade.bulk.rows import RowError, RowInput, build_row
from cascade.domain.models import RequestedField, WaterfallOverrides
from infra.local.make_demo_export import OUTPUT, build_export


def test_committed_export_matches_generator() -> None:
    assert OUTPUT.read_bytes() == build_export()


def test_export_reads_as_hubspot_file() -> None:
    data = OUTPUT.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert len(data) < 1024 * 1024
    fmt = detect_format(data[:65536])
    mapping = map_headers(fmt.header_row)
    assert fmt.delimiter == ","
    assert mapping.describe()["domain"] == "Website URL"
    rows = [
        build_row(
            record,
            mapping,
            fields=[RequestedField.EMAIL],
            waterfall=WaterfallOverrides(),
            max_age_days=None,
            default_country=None,
        )
        for record in iter_records([data], fmt, max_rows=None)
    ]
    valid = [row for row in rows if isinstance(row, RowInput)]
    invalid = [row for row in rows if isinstance(row, RowError)]
    assert 2900 <= len(rows) <= 3100
    assert 5 <= len(invalid) <= 30
    assert len(valid) - len({row.dedupe_key for row in valid}) >= 5
