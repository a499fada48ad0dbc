"""The bulk storage adapters on moto: streamed multipart uploads, batched sends, conditional job changes."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cascade.bulk.jobs import JobRecord, JobStatus, RowResult, RowStatus
from cascade.domain.plans import KeyPlan
from cascade.storage.files import MIN_PART_SIZE, FileStore, ObjectNotFoundError, s3_client_factory
from cascade.storage.jobs import RowCounters, job_from_item, job_to_item, row_sort_key
from cascade.storage.queues import QueueSender, QueueSendError
from tests.integration.bulk.conftest import BUCKET, NOW, BulkHarness


def _job(harness: BulkHarness, job_id: str = "job_00000000000000000000000001") -> JobRecord:
    return JobRecord(
        job_id=job_id,
        key_id=harness.key_id,
        account_id=harness.account_id,
        plan=KeyPlan(monthly_cap="5.00"),
        status=JobStatus.QUEUED,
        created_at=NOW,
        updated_at=NOW,
        fields=["email", "phone"],
        input_format={"encoding": "utf-8", "delimiter": ";", "header_row": ["E-mail"]},
        column_mapping={"email": "E-mail"},
        warnings=["a warning"],
        rows_total=0,
    )


def test_job_item_round_trip(harness: BulkHarness) -> None:
    record = _job(harness)
    assert job_from_item(job_to_item(record)) == record


def test_create_is_conditional(harness: BulkHarness) -> None:
    record = _job(harness)
    assert harness.services.jobs.create(record) is True
    assert harness.services.jobs.create(record.model_copy(update={"file_name": "other.csv"})) is False
    assert harness.job(record.job_id).file_name is None


def test_transition_only_from_listed(harness: BulkHarness) -> None:
    jobs = harness.services.jobs
    record = _job(harness)
    jobs.create(record)
    moved = jobs.transition(record.job_id, from_statuses=[JobStatus.QUEUED], to_status=JobStatus.PROCESSING, now=NOW)
    again = jobs.transition(record.job_id, from_statuses=[JobStatus.QUEUED], to_status=JobStatus.PROCESSING, now=NOW)
    missing = jobs.transition(
        "job_000000000000000000000000ff", from_statuses=[JobStatus.QUEUED], to_status=JobStatus.FAILED, now=NOW
    )
    assert moved is not None
    assert moved.status is JobStatus.PROCESSING
    assert again is None
    assert missing is None


def test_get_for_other_key_none(harness: BulkHarness) -> None:
    record = _job(harness)
    harness.services.jobs.create(record)
    assert harness.services.jobs.get_for_key(record.job_id, "key_0123456789abcdef") is None
    assert harness.services.jobs.get_for_key(record.job_id, harness.key_id) == record


def test_row_recorded_once_with_counters(harness: BulkHarness) -> None:
    record = _job(harness)
    harness.services.jobs.create(record)
    rows = harness.services.rows
    result = RowResult(row=7, status=RowStatus.MATCHED, email="ada.quill@example.com", billed_micros=200_000)
    counters = RowCounters(matched=1, billed_micros=200_000)
    assert rows.record(record.job_id, result, counters, expires_at=NOW, now=NOW) is True
    assert rows.record(record.job_id, result, counters, expires_at=NOW, now=NOW) is False
    job = harness.job(record.job_id)
    assert job.rows_done == 1
    assert job.matched == 1
    assert job.billed_micros == 200_000
    assert rows.get(record.job_id, 7) == result


def test_record_many_counts_each_row_once(harness: BulkHarness) -> None:
    # Row 150 already has a result, so the second transaction (rows 100 to 198) is written row by row.
    record = _job(harness)
    harness.services.jobs.create(record)
    rows = harness.services.rows
    invalid = RowCounters(errors=1)
    assert rows.record(
        record.job_id, RowResult(row=150, status=RowStatus.INVALID_INPUT), invalid, expires_at=NOW, now=NOW
    )
    entries = [(RowResult(row=row, status=RowStatus.INVALID_INPUT, error="bad"), invalid) for row in range(1, 251)]
    written = rows.record_many(record.job_id, entries, expires_at=NOW, now=NOW)
    assert written == 249
    job = harness.job(record.job_id)
    assert job.rows_done == 250
    assert job.errors == 250
    stored = list(rows.iter_rows(record.job_id))
    assert [row.row for row in stored] == list(range(1, 251))
    assert stored[149].error is None
    assert stored[150].error == "bad"
    assert rows.record_many(record.job_id, entries, expires_at=NOW, now=NOW) == 0
    assert harness.job(record.job_id).rows_done == 250


def test_rows_paged_in_order(harness: BulkHarness) -> None:
    record = _job(harness)
    harness.services.jobs.create(record)
    for row in (12, 3, 100, 1, 45):
        harness.services.rows.record(
            record.job_id, RowResult(row=row, status=RowStatus.NOT_FOUND), RowCounters(), expires_at=NOW, now=NOW
        )
    assert [row.row for row in harness.services.rows.iter_rows(record.job_id, page_size=2)] == [1, 3, 12, 45, 100]


def test_row_sort_key_width() -> None:
    assert row_sort_key(42) == "000000042"
    with pytest.raises(ValueError, match="out of range"):
        row_sort_key(10**9)


def test_upload_stream_multipart(harness: BulkHarness) -> None:
    files = FileStore(s3_client_factory(), BUCKET)
    chunk = bytes(range(256)) * 4096
    with files.open_upload("results/multi.csv", part_size=MIN_PART_SIZE) as stream:
        for _ in range(14):
            stream.write(chunk)
    expected = chunk * 14
    assert len(expected) > 2 * MIN_PART_SIZE
    assert harness.read("results/multi.csv") == expected
    assert files.head("results/multi.csv").size == len(expected)
    assert b"".join(files.iter_chunks("results/multi.csv", chunk_size=1 << 20)) == expected


def test_upload_stream_small_put(harness: BulkHarness) -> None:
    files = FileStore(s3_client_factory(), BUCKET)
    with files.open_upload("results/small.csv") as stream:
        stream.write(b"a,b\r\n")
    assert harness.read("results/small.csv") == b"a,b\r\n"
    assert files.read_head("results/small.csv", 2) == b"a,"


def _upload_then_fail(files: FileStore, key: str) -> None:
    with files.open_upload(key, part_size=MIN_PART_SIZE) as stream:
        stream.write(b"x" * (MIN_PART_SIZE + 10))
        raise RuntimeError("stop")


def test_upload_stream_aborts_on_error(harness: BulkHarness) -> None:
    files = FileStore(s3_client_factory(), BUCKET)
    with pytest.raises(RuntimeError, match="stop"):
        _upload_then_fail(files, "results/broken.csv")
    with pytest.raises(ObjectNotFoundError):
        files.head("results/broken.csv")
    assert harness.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_sender_batches_of_ten(harness: BulkHarness) -> None:
    sender = harness.services.rows_queue
    assert sender.send(json.dumps({"n": index}) for index in range(23)) == 23
    assert harness.queued_rows() == 23


def _stubbed_sender(responses: list[dict[str, Any]]) -> tuple[QueueSender, Stubber, list[float]]:
    client = boto3.client("sqs", region_name="eu-west-1")
    stubber = Stubber(client)
    for response in responses:
        stubber.add_response("send_message_batch", response)
    sleeps: list[float] = []
    sender = QueueSender(lambda: client, "https://sqs.eu-west-1.amazonaws.com/1/q", setting="X", sleep=sleeps.append)
    return sender, stubber, sleeps


def test_sender_retries_failed_entries(aws: None) -> None:
    failed = {"Id": "1", "SenderFault": False, "Code": "InternalError"}
    sender, stubber, sleeps = _stubbed_sender(
        [
            {"Successful": [{"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x"}], "Failed": [failed]},
            {"Successful": [{"Id": "1", "MessageId": "m1", "MD5OfMessageBody": "x"}], "Failed": []},
        ]
    )
    with stubber:
        assert sender.send(["a", "b"]) == 2
    stubber.assert_no_pending_responses()
    assert len(sleeps) == 1


def test_sender_raises_sender_fault(aws: None) -> None:
    failed = {"Id": "0", "SenderFault": True, "Code": "InvalidMessageContents"}
    sender, stubber, _ = _stubbed_sender([{"Successful": [], "Failed": [failed]}])
    with stubber, pytest.raises(QueueSendError, match="InvalidMessageContents"):
        sender.send(["\x00"])


def test_sender_needs_queue_url() -> None:
    sender = QueueSender(lambda: None, None, setting="CASCADE_ROWS_QUEUE_URL")  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="CASCADE_ROWS_QUEUE_URL is not set"):
        sender.send(["a"])
