"""Ingest through the INGEST queue Lambda: S3 events, repeated deliveries, encoded keys, job-level failures."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest

from cascade.bulk.commands import create_job
from cascade.bulk.ingest import INGEST_LEASE_SECONDS, parse_upload_key, uploaded_objects
from cascade.bulk.jobs import JobCreateRequest, JobRecord, JobStatus, RowStatus, derived_job_id
from cascade.bulk.services import install_bulk_services
from cascade.domain.plans import KeyPlan
from tests.conftest import load_event
from tests.integration.bulk.conftest import BUCKET, NOW, BulkHarness, build_settings, csv_bytes

ROWS = ("Ada,Quill,example.com", "Grace,Hopper,example.com", "Alan,Turing,example.com")


def _key(harness: BulkHarness, name: str) -> str:
    return f"uploads/{harness.key_id}/{name}"


def _body_key(event: dict[str, Any]) -> str:
    key: str = json.loads(event["Records"][0]["body"])["Records"][0]["s3"]["object"]["key"]
    return key


def test_sample_event_key_decoded() -> None:
    objects = uploaded_objects(load_event("sqs/ingest_object_created.json")["Records"][0]["body"])
    assert len(objects) == 1
    assert objects[0].key == "uploads/key_5f1e2d3c4b5a6978/job_0f3a9c2d4e5b6a7980c1d2e3f4/input.csv"
    assert objects[0].version == "d41d8cd98f00b204e9800998ecf8427e:0062A8F1B3C4D5E6F7"
    assert objects[0].version_id is None
    assert objects[0].etag == "d41d8cd98f00b204e9800998ecf8427e"


def test_test_event_has_no_objects() -> None:
    assert uploaded_objects(json.dumps(load_event("s3/test_event.json"))) == []


def test_parse_upload_key_shapes() -> None:
    attached = parse_upload_key("uploads/key_5f1e2d3c4b5a6978/job_0f3a9c2d4e5b6a7980c1d2e3f4/input.csv")
    direct = parse_upload_key("uploads/key_5f1e2d3c4b5a6978/crm/leads.csv")
    assert attached is not None
    assert attached.job_id == "job_0f3a9c2d4e5b6a7980c1d2e3f4"
    assert direct is not None
    assert direct.job_id is None
    assert direct.file_name == "leads.csv"
    assert parse_upload_key("uploads/leads.csv") is None
    assert parse_upload_key("uploads/key_5f1e2d3c4b5a6978/") is None
    assert parse_upload_key("results/key_5f1e2d3c4b5a6978/x.csv") is None


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("Q3 leads + partners (1).csv", "Q3+leads+%2B+partners+%281%29.csv"),
        ("Kontakte Müller.csv", "Kontakte+M%C3%BCller.csv"),
        ("a%20b.csv", "a%2520b.csv"),
    ],
)
def test_encoded_keys_read_exactly(harness: BulkHarness, name: str, encoded: str) -> None:
    key = _key(harness, name)
    event = harness.upload(key, csv_bytes(*ROWS))
    assert _body_key(event) == _key(harness, encoded)

    reply = harness.ingest(event)
    job = harness.job(harness.only_job_id())
    assert reply == {"batchItemFailures": []}
    assert job.upload_key == key
    assert job.file_name == name
    assert job.status is JobStatus.PROCESSING
    assert job.rows_total == 3
    assert harness.queued_rows() == 3


def test_direct_upload_derives_job_id(harness: BulkHarness) -> None:
    key = _key(harness, "crm/leads.csv")
    event = harness.upload(key, csv_bytes(*ROWS))
    stored = json.loads(event["Records"][0]["body"])["Records"][0]["s3"]["object"]
    harness.ingest(event)
    expected = derived_job_id(BUCKET, key, stored["versionId"])
    job = harness.job(expected)
    assert job.key_id == harness.key_id
    assert job.account_id == harness.account_id
    assert job.fields == ["email"]
    assert job.ingest_started_at is not None


def test_same_record_twice_one_ingest(harness: BulkHarness) -> None:
    event = harness.upload(_key(harness, "leads.csv"), csv_bytes(*ROWS))
    repeated = copy.deepcopy(event["Records"][0])
    repeated["messageId"] = "ingest-repeat"
    event["Records"].append(repeated)
    reply = harness.ingest(event)
    assert reply == {"batchItemFailures": []}
    assert harness.only_job_id()
    assert harness.queued_rows() == 3


def test_same_record_two_batches(harness: BulkHarness) -> None:
    event = harness.upload(_key(harness, "leads.csv"), csv_bytes(*ROWS))
    harness.ingest(copy.deepcopy(event))
    harness.ingest(copy.deepcopy(event))
    job_id = harness.only_job_id()
    assert harness.queued_rows() == 3
    harness.drain_rows()
    harness.ingest(copy.deepcopy(event))
    assert harness.queued_rows() == 0
    assert harness.job(job_id).status is JobStatus.COMPLETED
    assert len(harness.ledger_lines()) == 3


def test_same_object_event_attached_once(harness: BulkHarness) -> None:
    created = create_job(
        JobCreateRequest(),
        key_id=harness.key_id,
        account_id=harness.account_id,
        plan=KeyPlan(),
        services=harness.services,
    )
    event = harness.upload(f"uploads/{harness.key_id}/{created.id}/input.csv", csv_bytes(*ROWS))
    harness.ingest(copy.deepcopy(event))
    harness.ingest(copy.deepcopy(event))
    assert harness.only_job_id() == created.id
    assert harness.queued_rows() == 3


def test_crashed_ingest_resumes_after_lease(harness: BulkHarness) -> None:
    event = harness.upload(_key(harness, "leads.csv"), csv_bytes(*ROWS))
    job_id = derived_job_id(BUCKET, _key(harness, "leads.csv"), _version(event))
    # A claim without a finished ingest stands for an ingest that died after claiming the job.
    assert harness.services.jobs.create(_claimed_job(harness, job_id, _key(harness, "leads.csv")))
    harness.ingest(copy.deepcopy(event))
    assert harness.queued_rows() == 0

    later = NOW + timedelta(seconds=INGEST_LEASE_SECONDS + 1)
    install_bulk_services(dataclasses.replace(harness.services, clock=lambda: later))
    harness.ingest(copy.deepcopy(event))
    job = harness.job(job_id)
    assert harness.queued_rows() == 3
    assert job.ingest_finished_at == later
    assert job.rows_total == 3


def _version(event: dict[str, Any]) -> str:
    stored = json.loads(event["Records"][0]["body"])["Records"][0]["s3"]["object"]
    return str(stored["versionId"])


def _claimed_job(harness: BulkHarness, job_id: str, key: str) -> Any:
    return JobRecord(
        job_id=job_id,
        key_id=harness.key_id,
        account_id=harness.account_id,
        plan=KeyPlan(),
        status=JobStatus.PROCESSING,
        created_at=NOW,
        updated_at=NOW,
        fields=["email"],
        upload_key=key,
        ingest_started_at=NOW,
    )


def test_unknown_key_upload_dropped(harness: BulkHarness) -> None:
    reply = harness.ingest(harness.upload("uploads/key_00000000000000ff/leads.csv", csv_bytes(*ROWS)))
    assert reply == {"batchItemFailures": []}
    assert harness.services.jobs.list_for_key("key_00000000000000ff") == []
    assert harness.queued_rows() == 0


def test_test_event_through_handler(harness: BulkHarness) -> None:
    event = load_event("sqs/ingest_object_created.json")
    event["Records"][0]["body"] = json.dumps(load_event("s3/test_event.json"))
    assert harness.ingest(event) == {"batchItemFailures": []}
    assert harness.queued_rows() == 0


def test_invalid_and_duplicate_rows_recorded(harness: BulkHarness) -> None:
    data = csv_bytes("Ada,Quill,example.com", "Ada,,", "ADA,QUILL,www.example.com", "Grace,Hopper,example.com")
    harness.ingest(harness.upload(_key(harness, "leads.csv"), data))
    job_id = harness.only_job_id()
    rows = {row.row: row for row in harness.rows(job_id)}
    job = harness.job(job_id)
    assert harness.queued_rows() == 2
    assert sorted(rows) == [2, 3]
    assert rows[2].status is RowStatus.INVALID_INPUT
    assert rows[2].error
    assert rows[3].duplicate_of == 1
    assert job.rows_total == 4
    assert job.rows_done == 2
    assert job.errors == 1


def _assert_failed(harness: BulkHarness, *fragments: str) -> None:
    job = harness.job(harness.only_job_id())
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    for fragment in fragments:
        assert fragment in job.error
    assert job.completed_at is not None
    assert harness.queued_rows() == 0
    assert harness.rows(job.job_id) == []


def test_too_many_rows_fails(harness: BulkHarness) -> None:
    settings = build_settings(
        bulk_max_rows=2,
        rows_queue_url=harness.services.settings.rows_queue_url,
        webhooks_queue_url=harness.services.settings.webhooks_queue_url,
    )
    install_bulk_services(dataclasses.replace(harness.services, settings=settings))
    harness.ingest(harness.upload(_key(harness, "leads.csv"), csv_bytes(*ROWS)))
    _assert_failed(harness, "more than 2 data rows", "split it")


def test_file_too_large_fails(harness: BulkHarness) -> None:
    settings = build_settings(
        bulk_max_file_bytes=1024,
        rows_queue_url=harness.services.settings.rows_queue_url,
        webhooks_queue_url=harness.services.settings.webhooks_queue_url,
    )
    install_bulk_services(dataclasses.replace(harness.services, settings=settings))
    data = csv_bytes(*(["Ada,Quill,example.com"] * 60))
    harness.ingest(harness.upload(_key(harness, "leads.csv"), data))
    _assert_failed(harness, f"{len(data)} bytes", "limit of 1024 bytes")


def test_no_usable_columns_fails(harness: BulkHarness) -> None:
    data = csv_bytes("1,red", "2,blue", header="Id,Colour")
    harness.ingest(harness.upload(_key(harness, "colours.csv"), data))
    _assert_failed(harness, "no column identifies a person", "'Id', 'Colour'", "First Name")


def test_undecodable_bytes_fail(harness: BulkHarness) -> None:
    # Valid UTF-8 at the start, so detection picks UTF-8; a lone continuation byte far past the sample.
    head = csv_bytes(*(["Ada,Quill,example.com"] * 4000))
    data = head + b"Gr\x81ce,Hopper,example.com\r\n"
    harness.ingest(harness.upload(_key(harness, "leads.csv"), data))
    _assert_failed(harness, "0x81", f"offset {len(head) + 2}")


def test_failure_queues_webhook(harness: BulkHarness) -> None:
    created = create_job(
        JobCreateRequest(webhook_url="https://hooks.example.com/c"),
        key_id=harness.key_id,
        account_id=harness.account_id,
        plan=KeyPlan(),
        services=harness.services,
    )
    data = csv_bytes("1,red", header="Id,Colour")
    harness.ingest(harness.upload(f"uploads/{harness.key_id}/{created.id}/input.csv", data))
    events = harness.webhook_messages()
    assert [event["type"] for event in events] == ["job.failed"]
    assert events[0]["payload"]["data"]["status"] == "failed"
    assert events[0]["payload"]["data"]["error"] == harness.job(created.id).error


def test_header_only_file_completes(harness: BulkHarness) -> None:
    harness.ingest(harness.upload(_key(harness, "empty.csv"), csv_bytes()))
    job = harness.job(harness.only_job_id())
    assert job.status is JobStatus.COMPLETED
    assert job.rows_total == 0
    assert job.to_job().progress == 1.0
    assert job.results_key is not None
    assert harness.read(job.results_key).startswith(b"\xef\xbb\xbfFirst Name,Last Name,Company Domain,cascade_status")
    assert harness.queued_rows() == 0
