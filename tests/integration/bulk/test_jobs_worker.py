"""The row worker through its Lambda entry point: idempotent rows, crashes, failures, cancel, holds, results."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from cascade.bulk.commands import cancel_job, create_job
from cascade.bulk.holds import resume_held_jobs
from cascade.bulk.jobs import JobCreateRequest, JobStatus, RowStatus
from cascade.domain.plans import KeyPlan
from cascade.handlers import bulk_worker
from cascade.storage.schema import ROWS
from tests.conftest import load_event
from tests.integration.bulk.conftest import BulkHarness, WorkerCrash, csv_bytes

FIVE_KNOWN = (
    "Ada,Quill,example.com",
    "Grace,Hopper,example.com",
    "Alan,Turing,example.com",
    "Edsger,Dijkstra,example.com",
    "Barbara,Liskov,example.com",
)


def _start(harness: BulkHarness, *rows: str, header: str = "First Name,Last Name,Company Domain") -> str:
    created = create_job(
        JobCreateRequest(webhook_url="http://127.0.0.1:9/hook"),
        key_id=harness.key_id,
        account_id=harness.account_id,
        plan=KeyPlan(monthly_cap=_cap(harness)),
        services=harness.services,
    )
    data = csv_bytes(*rows, header=header)
    reply = harness.ingest(harness.upload(f"uploads/{harness.key_id}/{created.id}/input.csv", data))
    assert reply == {"batchItemFailures": []}
    return created.id


def _cap(harness: BulkHarness) -> Decimal | None:
    key = harness.keys.get(harness.key_id)
    assert key is not None
    return key.plan.monthly_cap


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _billed_total(harness: BulkHarness) -> int:
    return sum(line.amount_micros for line in harness.ledger_lines())


def test_results_in_input_order(harness: BulkHarness) -> None:
    job_id = _start(
        harness,
        "Ada,Quill,example.com",
        "Nobody,Known,example.com",
        "=cmd|' /C calc'!A0,,",
        "ADA,quill,https://www.example.com/",
        "Grace,Hopper,example.com",
    )
    assert harness.drain_rows() == []
    job = harness.job(job_id)
    assert job.status is JobStatus.COMPLETED
    assert job.rows_total == 5
    assert job.rows_done == 5
    # The duplicate of Ada counts as matched: the final counts are those of the results file.
    assert job.matched == 3
    assert job.not_found == 1
    assert job.errors == 1
    assert job.billed_micros == 400_000
    assert job.results_key is not None
    assert job.errors_key is not None

    results = _csv(harness.read(job.results_key))
    header = results[0]
    status = header.index("cascade_status")
    email = header.index("cascade_email")
    billed = header.index("cascade_billed")
    assert header[:3] == ["First Name", "Last Name", "Company Domain"]
    assert [row[0] for row in results[1:]] == ["Ada", "Nobody", "'=cmd|' /C calc'!A0", "ADA", "Grace"]
    assert [row[status] for row in results[1:]] == ["matched", "not_found", "invalid_input", "matched", "matched"]
    assert [row[email] for row in results[1:]] == [
        "ada.quill@example.com",
        "",
        "",
        "ada.quill@example.com",
        "grace.hopper@example.com",
    ]
    assert [row[billed] for row in results[1:]] == ["0.20", "0.00", "0.00", "0.00", "0.20"]

    errors = _csv(harness.read(job.errors_key))
    assert errors[0][:3] == ["row_number", "cascade_status", "cascade_error"]
    assert len(errors) == 2
    assert errors[1][:2] == ["3", "invalid_input"]

    assert len(harness.ledger_lines()) == 2
    assert _billed_total(harness) == 400_000
    events = harness.webhook_messages()
    assert [event["type"] for event in events] == ["job.completed"]
    assert events[0]["payload"]["data"]["billed_amount"] == "0.40"
    assert "results_url" not in events[0]["payload"]["data"]


def test_duplicate_message_id_once(harness: BulkHarness) -> None:
    _start(harness, *FIVE_KNOWN[:3])
    records = harness.receive_rows()
    twin = dict(records[0], receiptHandle=records[0]["receiptHandle"] + "-second")
    failed = harness.work([records[0], twin, *records[1:]])
    assert failed == []
    assert harness.runner.runs == 3
    assert harness.finder.calls == 3
    assert len(harness.ledger_lines()) == 3


def test_crash_mid_batch_no_double_charge(harness: BulkHarness) -> None:
    job_id = _start(harness, *FIVE_KNOWN)
    records = harness.receive_rows()
    assert len(records) == 5
    # The third row is charged, then the process dies before the row is recorded.
    harness.runner.crash_after_runs = 2
    with pytest.raises(WorkerCrash):
        harness.work(records)
    assert len(harness.ledger_lines()) == 3
    assert harness.job(job_id).rows_done == 2

    harness.runner.crash_after_runs = None
    harness.redeliver(records)
    again = harness.receive_rows()
    assert sorted(record["messageId"] for record in again) == sorted(record["messageId"] for record in records)
    assert harness.work(again) == []

    job = harness.job(job_id)
    lines = harness.ledger_lines()
    assert job.status is JobStatus.COMPLETED
    assert job.rows_done == 5
    assert job.matched == 5
    assert job.billed_micros == 1_000_000
    assert len(lines) == 5
    assert sorted(line.row for line in lines if line.row is not None) == [1, 2, 3, 4, 5]
    assert {line.job_id for line in lines} == {job_id}
    assert _billed_total(harness) == 1_000_000
    assert harness.services.caps.headroom(harness.key_id, KeyPlan(monthly_cap=Decimal("5.00")), "2026-12") == Decimal(
        "4.00"
    )


def test_failed_waterfall_reported(harness: BulkHarness) -> None:
    job_id = _start(harness, *FIVE_KNOWN[:3])
    harness.runner.fail_rows = {2}
    records = harness.receive_rows()
    failed = harness.work(records)
    row_two = [record["messageId"] for record in records if '"row":2' in record["body"]]
    assert failed == row_two
    job = harness.job(job_id)
    assert job.status is JobStatus.PROCESSING
    assert job.rows_done == 2

    # On the delivery that would move it to the dead-letter queue, the row is written as an error instead.
    harness.redeliver([record for record in records if record["messageId"] in failed])
    last = harness.receive_rows()
    last[0]["attributes"]["ApproximateReceiveCount"] = str(ROWS.max_receive_count)
    assert harness.work(last) == []
    job = harness.job(job_id)
    row = harness.services.rows.get(job_id, 2)
    assert row is not None
    assert row.status is RowStatus.ERROR
    assert row.billed_micros == 0
    assert job.status is JobStatus.COMPLETED
    assert job.errors == 1
    assert job.errors_key is not None
    assert _csv(harness.read(job.errors_key))[1][:2] == ["2", "error"]


def test_cancel_with_rows_left(harness: BulkHarness) -> None:
    job_id = _start(harness, *FIVE_KNOWN)
    assert harness.work(harness.receive_rows(max_messages=2)) == []
    canceled = cancel_job(harness.job(job_id), harness.services)
    assert canceled.status == "canceled"
    assert canceled.results_url is None
    assert harness.drain_rows() == []

    job = harness.job(job_id)
    rows = harness.rows(job_id)
    assert job.status is JobStatus.CANCELED
    assert job.rows_done == 5
    assert job.billed_micros == 400_000
    assert [row.status for row in rows].count(RowStatus.CANCELED) == 3
    assert len(harness.ledger_lines()) == 2
    assert job.results_key is not None
    results = _csv(harness.read(job.results_key))
    status = results[0].index("cascade_status")
    assert sorted(row[status] for row in results[1:]) == ["canceled"] * 3 + ["matched"] * 2
    assert [event["type"] for event in harness.webhook_messages()] == ["job.canceled"]


@pytest.mark.parametrize("plan", [KeyPlan(monthly_cap=Decimal("0.40"))])
def test_on_hold_then_resume(harness: BulkHarness) -> None:
    job_id = _start(harness, *FIVE_KNOWN)
    assert harness.drain_rows() == []
    job = harness.job(job_id)
    assert job.status is JobStatus.ON_HOLD
    assert job.rows_done == 2
    assert len(harness.services.rows.parked(job_id)) == 3
    assert harness.queued_rows() == 0
    assert [event["type"] for event in harness.webhook_messages()] == ["job.on_hold"]
    assert _billed_total(harness) == 400_000

    harness.keys.update_plan(harness.key_id, KeyPlan(monthly_cap=Decimal("10.00")))
    assert resume_held_jobs(harness.key_id, harness.services) == 1
    assert harness.job(job_id).status is JobStatus.PROCESSING
    assert harness.services.rows.parked(job_id) == []
    assert harness.drain_rows() == []

    job = harness.job(job_id)
    lines = harness.ledger_lines()
    assert job.status is JobStatus.COMPLETED
    assert job.rows_done == 5
    assert job.billed_micros == 1_000_000
    assert len(lines) == 5
    assert len({line.match_id for line in lines}) == 5
    assert [event["type"] for event in harness.webhook_messages()] == ["job.completed"]


@pytest.mark.parametrize("plan", [KeyPlan(monthly_cap=Decimal("0.20"))])
def test_held_job_resumes_on_next_row(harness: BulkHarness) -> None:
    job_id = _start(harness, *FIVE_KNOWN[:2])
    assert harness.drain_rows() == []
    assert harness.job(job_id).status is JobStatus.ON_HOLD
    parked = harness.services.rows.parked(job_id)
    assert [row for row, _ in parked] == [2]

    # A row message arriving after the cap was raised resumes the job without resume_held_jobs.
    harness.keys.update_plan(harness.key_id, KeyPlan(monthly_cap=Decimal("10.00")))
    harness.services.rows_queue.send([parked[0][1]])
    assert harness.drain_rows() == []
    job = harness.job(job_id)
    assert job.status is JobStatus.COMPLETED
    assert job.billed_micros == 400_000
    assert len(harness.ledger_lines()) == 2


@pytest.mark.parametrize("plan", [KeyPlan(monthly_cap=Decimal("0.20"))])
def test_cancel_on_hold_job(harness: BulkHarness) -> None:
    job_id = _start(harness, *FIVE_KNOWN[:3])
    assert harness.drain_rows() == []
    assert harness.job(job_id).status is JobStatus.ON_HOLD
    cancel_job(harness.job(job_id), harness.services)
    assert harness.drain_rows() == []
    job = harness.job(job_id)
    assert job.status is JobStatus.CANCELED
    assert job.rows_done == 3
    assert job.results_key is not None
    assert harness.services.rows.parked(job_id) == []
    assert len(harness.ledger_lines()) == 1


def test_sample_rows_event_unknown_job(harness: BulkHarness) -> None:
    reply = bulk_worker.handler(load_event("sqs/rows_batch.json"), harness.context)
    assert reply == {"batchItemFailures": []}
    assert harness.runner.runs == 0
