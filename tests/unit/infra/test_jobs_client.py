"""The bulk jobs client's local pieces: progress lines, output paths, the demo's export slicing, the event shape."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from infra.jobs_client import ProgressReporter, default_output_paths, format_progress
from infra.local.demo import head_records
from infra.local.pump import failed_message_ids, sqs_event


def test_progress_bar_half_done() -> None:
    line = format_progress({"status": "processing", "progress": 0.5, "rows_done": 500, "rows_total": 1000})
    assert line.startswith("[" + "#" * 15 + "-" * 15 + "]")
    assert " 50%" in line
    assert "500/1000 rows" in line
    assert line.endswith("processing")


def test_progress_bar_before_ingest() -> None:
    line = format_progress({"status": "queued", "progress": 0, "rows_done": 0, "rows_total": None})
    assert "0/? rows" in line
    assert "  0%" in line


def test_plain_progress_prints_each_step_once() -> None:
    stream = io.StringIO()
    reporter = ProgressReporter(stream, interactive=False)
    for done in (0, 10, 20, 100, 150, 150, 1000):
        status = "completed" if done == 1000 else "processing"
        reporter.update({"status": status, "progress": done / 1000, "rows_done": done, "rows_total": 1000})
    reporter.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[-1].endswith("completed")
    assert "\r" not in stream.getvalue()


def test_terminal_progress_redraws_one_line() -> None:
    stream = io.StringIO()
    reporter = ProgressReporter(stream, interactive=True)
    reporter.update({"status": "processing", "progress": 0.1, "rows_done": 1, "rows_total": 10})
    reporter.update({"status": "completed", "progress": 1.0, "rows_done": 10, "rows_total": 10})
    reporter.finish()
    output = stream.getvalue()
    assert output.count("\r") == 2
    assert output.endswith("\n")
    assert output.count("\n") == 1


def test_output_paths_default_next_to_input() -> None:
    results, errors = default_output_paths(Path("/data/contacts.csv"), None)
    assert results == Path("/data/contacts.results.csv")
    assert errors == Path("/data/contacts.errors.csv")


def test_output_paths_follow_output_option() -> None:
    results, errors = default_output_paths(Path("/data/contacts.csv"), Path("/out/enriched.csv"))
    assert results == Path("/out/enriched.csv")
    assert errors == Path("/out/enriched.errors.csv")


def test_head_records_keeps_multiline_record(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_bytes(b'\xef\xbb\xbfName,Notes\r\nAda,"line one\r\nline two"\r\nGrace,plain\r\nLinus,last\r\n')
    target = tmp_path / "head.csv"
    copied = head_records(source, target, 2)
    assert copied == 2
    assert target.read_bytes() == b'\xef\xbb\xbfName,Notes\r\nAda,"line one\r\nline two"\r\nGrace,plain\r\n'
    with target.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1] == ["Ada", "line one\r\nline two"]


def test_head_records_shorter_file(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text("Name\r\nAda\r\n", encoding="utf-8")
    assert head_records(source, tmp_path / "head.csv", 10) == 1


def test_sqs_event_has_lambda_record_shape() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "{}",
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MessageAttributes": {"kind": {"StringValue": "row", "DataType": "String"}},
    }
    (record,) = sqs_event([message], queue_arn="arn:aws:sqs:us-east-1:123456789012:q", region="us-east-1")["Records"]
    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "r-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["kind"]["stringValue"] == "row"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["awsRegion"] == "us-east-1"
    assert len(record["md5OfBody"]) == 32


@pytest.mark.parametrize(
    ("result", "kept"),
    [
        ({"batchItemFailures": []}, set()),
        (None, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, {"a", "b"}),
        ({"batchItemFailures": [{}]}, {"a", "b"}),
        ("not an object", {"a", "b"}),
    ],
)
def test_batch_item_failures_kept(result: object, kept: set[str]) -> None:
    assert failed_message_ids(result, ["a", "b"]) == kept
