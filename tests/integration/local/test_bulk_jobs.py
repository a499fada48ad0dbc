"""Bulk jobs end to end on the local stack, over real HTTP: the API, pre-signed S3 URLs, webhooks and the CLI.

Rows run the real waterfall in moto's interpreter, which completes a few rows per second on a 2-core
machine. The large file therefore repeats a limited set of distinct people, which also exercises
de-duplication, and the jobs ask two providers only.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from cascade.bulk.csv_output import RESULT_COLUMNS
from cascade.bulk.jobs import derived_job_id
from cascade.bulk.webhooks import verify_signature
from cascade.domain.keys import ApiKey
from cascade.domain.money import from_micros
from cascade.storage.jobs import JobRepository
from infra.cli import main as cli_main
from infra.local.stack import LocalStack
from infra.sandbox.directory import SandboxPerson, default_directory
from tests.integration.local.conftest import current_month

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ORDER = ["hunter", "prospeo"]
HEADER = ["Record ID", "First Name", "Last Name", "Company Domain"]
ROW_STATUSES = {"matched", "partial", "not_found", "suppressed", "invalid_input", "error", "canceled"}
# A guard against a stuck job, never a speed check: the slowest job here runs about a hundred waterfalls.
JOB_DEADLINE_SECONDS = 540
POLL_SECONDS = 0.5


def _people(start: int, count: int) -> list[SandboxPerson]:
    """Return ``count`` directory people with a verifiable address, skipping the first ``start`` of them."""
    eligible = [
        person
        for person in default_directory().people
        if person.email_status == "valid" and not person.company.catch_all
    ]
    return eligible[start : start + count]


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _person_row(record_id: int, person: SandboxPerson) -> list[str]:
    return [str(record_id), person.first_name, person.last_name, person.company.domain]


def _new_key(local_stack: LocalStack, name: str) -> tuple[ApiKey, httpx.Client]:
    key, plaintext = local_stack.create_api_key(name=name)
    client = httpx.Client(
        base_url=local_stack.endpoints.api_url, headers={"Authorization": f"Bearer {plaintext}"}, timeout=60
    )
    return key, client


def _create_and_upload(client: httpx.Client, body: bytes, **request: Any) -> dict[str, Any]:
    created = client.post("/v1/jobs", json={"waterfall": {"order": ORDER}, **request})
    assert created.status_code == 201, created.text
    job: dict[str, Any] = created.json()
    # A plain PUT with no extra headers, as a customer's HTTP client would send it.
    uploaded = httpx.put(job["upload_url"], content=body, timeout=60)
    assert uploaded.status_code == 200, uploaded.text
    return job


def _wait_for(client: httpx.Client, job_id: str, statuses: set[str]) -> tuple[dict[str, Any], list[float]]:
    """Poll the job until its status is one of ``statuses``; return it and every progress value seen."""
    progress: list[float] = []
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while True:
        response = client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        progress.append(job["progress"])
        if job["status"] in statuses:
            return job, progress
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {JOB_DEADLINE_SECONDS} s"
        time.sleep(POLL_SECONDS)


def _download_rows(url: str) -> tuple[bytes, list[list[str]]]:
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200
    content = response.content
    return content, list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _client(local_stack: LocalStack, service: str) -> Any:
    endpoints = local_stack.endpoints
    return boto3.client(
        service,
        endpoint_url=endpoints.aws_endpoint_url,
        region_name=endpoints.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _ledger_total(local_stack: LocalStack, key: ApiKey) -> Decimal:
    lines = local_stack.ledger().lines_for_month(key.key_id, current_month())
    return from_micros(sum(line.amount_micros for line in lines))


def _usage_total(client: httpx.Client) -> Decimal:
    response = client.get("/v1/usage", params={"month": current_month()})
    assert response.status_code == 200, response.text
    return Decimal(response.json()["amount"])


def _is_invalid_row(index: int) -> bool:
    """Every 25th row names only a first name, which identifies nobody: 40 of 1,000 rows."""
    return index % 25 == 24


@pytest.mark.timeout(600)
def test_thousand_row_job_end_to_end(local_stack: LocalStack) -> None:
    key, client = _new_key(local_stack, "bulk 1000 rows")
    distinct = _people(0, 100)
    rows: list[list[str]] = []
    # Row index of each valid row -> row index of the first row with the same person.
    first_row: dict[int, int] = {}
    first_of_person: dict[int, int] = {}
    for index in range(1000):
        record_id = 1_000_001 + index
        if _is_invalid_row(index):
            rows.append([str(record_id), "Solo", "", ""])
            continue
        person = len(first_row) % len(distinct)
        first_row[index] = first_of_person.setdefault(person, index)
        rows.append(_person_row(record_id, distinct[person]))

    with client:
        created = _create_and_upload(client, _csv_bytes(rows), file_name="thousand.csv")
        job, progress = _wait_for(client, created["id"], {"completed", "failed", "canceled"})
        assert job["status"] == "completed", job
        assert job["rows_total"] == 1000
        assert job["rows_done"] == 1000
        assert job["progress"] == 1.0
        assert progress == sorted(progress), "progress went backwards"
        assert all(0.0 <= value <= 1.0 for value in progress)

        content, table = _download_rows(job["results_url"])
        assert content.startswith(b"\xef\xbb\xbf")
        assert table[0] == HEADER + list(RESULT_COLUMNS)
        body = table[1:]
        assert len(body) == 1000
        assert [line[:4] for line in body] == rows
        columns = {name: len(HEADER) + offset for offset, name in enumerate(RESULT_COLUMNS)}
        assert {line[columns["cascade_status"]] for line in body} <= ROW_STATUSES

        for index, line in enumerate(body):
            if _is_invalid_row(index):
                assert line[columns["cascade_status"]] == "invalid_input", index
                assert line[columns["cascade_billed"]] == "0.00", index
                continue
            first = first_row[index]
            if first != index:
                assert line[columns["cascade_billed"]] == "0.00", index
                assert line[columns["cascade_email"]] == body[first][columns["cascade_email"]], index
                assert line[columns["cascade_status"]] == body[first][columns["cascade_status"]], index

        matched = sum(1 for line in body if line[columns["cascade_status"]] in {"matched", "partial"})
        not_found = sum(1 for line in body if line[columns["cascade_status"]] == "not_found")
        assert matched > 0
        assert job["matched"] == matched
        assert job["not_found"] == not_found
        assert job["errors"] == 40
        billed = sum((Decimal(line[columns["cascade_billed"]]) for line in body), Decimal("0.00"))
        assert billed == Decimal(job["billed_amount"])
        assert billed == _ledger_total(local_stack, key)
        assert billed == _usage_total(client)

        _, errors = _download_rows(job["errors_url"])
        assert len(errors) - 1 == 40


def test_direct_upload_starts_job(local_stack: LocalStack) -> None:
    key, client = _new_key(local_stack, "bulk direct upload")
    s3 = _client(local_stack, "s3")
    bucket = local_stack.settings.files_bucket
    object_key = f"uploads/{key.key_id}/crm export.csv"
    rows = [_person_row(1 + index, person) for index, person in enumerate(_people(200, 4))]
    put = s3.put_object(Bucket=bucket, Key=object_key, Body=_csv_bytes(rows))
    # The job id derives from the object's version. moto 5.2's S3 events carry no versionId, so locally
    # the ETag replaces it; either way the same object version always gives the same job id.
    candidates = {
        derived_job_id(bucket, object_key, put["VersionId"]),
        derived_job_id(bucket, object_key, put["ETag"].strip('"') + ":"),
    }
    jobs = JobRepository(_client(local_stack, "dynamodb"), table=local_stack.settings.jobs_table)

    with client:
        deadline = time.monotonic() + JOB_DEADLINE_SECONDS
        while not (listed := jobs.list_for_key(key.key_id)):
            assert time.monotonic() < deadline, "the direct upload never became a job"
            time.sleep(POLL_SECONDS)
        (record,) = listed
        job_id = record.job_id
        assert job_id in candidates
        job, _ = _wait_for(client, job_id, {"completed", "failed", "canceled"})
        assert job["status"] == "completed", job
        assert job["rows_total"] == 4
        _, table = _download_rows(job["results_url"])
        assert len(table) - 1 == 4
        assert job["billed_amount"] == str(_usage_total(client))


@pytest.mark.timeout(600)
def test_cancel_over_http(local_stack: LocalStack) -> None:
    key, client = _new_key(local_stack, "bulk cancel")
    rows = [_person_row(1 + index, person) for index, person in enumerate(_people(300, 150))]
    with client:
        created = _create_and_upload(client, _csv_bytes(rows))
        _wait_for(client, created["id"], {"processing", "completed"})
        canceled = client.post(f"/v1/jobs/{created['id']}/cancel")
        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["status"] == "canceled"
        again = client.post(f"/v1/jobs/{created['id']}/cancel")
        assert again.status_code in {200, 409}

        deadline = time.monotonic() + JOB_DEADLINE_SECONDS
        while not (job := client.get(f"/v1/jobs/{created['id']}").json()).get("results_url"):
            assert time.monotonic() < deadline, f"the canceled job never got a results file: {job}"
            time.sleep(POLL_SECONDS)
        assert job["status"] == "canceled"
        assert job["rows_done"] == job["rows_total"] == 150

        _, table = _download_rows(job["results_url"])
        statuses = [line[len(HEADER) + RESULT_COLUMNS.index("cascade_status")] for line in table[1:]]
        assert len(statuses) == 150
        assert "canceled" in statuses
        billed_at = len(HEADER) + RESULT_COLUMNS.index("cascade_billed")
        for line, status in zip(table[1:], statuses, strict=True):
            if status == "canceled":
                assert line[billed_at] == "0.00"
        billed = sum((Decimal(line[billed_at]) for line in table[1:]), Decimal("0.00"))
        assert billed == Decimal(job["billed_amount"])
        assert billed == _usage_total(client)
        assert billed == _ledger_total(local_stack, key)

        completed_cancel = client.post(f"/v1/jobs/{created['id']}/cancel")
        assert completed_cancel.status_code in {200, 409}


class _Receiver(BaseHTTPRequestHandler):
    deliveries: queue.Queue[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.deliveries.put((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]]:
    deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"deliveries": deliveries})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/cascade", deliveries
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_received_with_valid_signature(
    local_stack: LocalStack, webhook_receiver: tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]
) -> None:
    url, deliveries = webhook_receiver
    _, client = _new_key(local_stack, "bulk webhook")
    rows = [_person_row(1 + index, person) for index, person in enumerate(_people(500, 3))]
    with client:
        created = _create_and_upload(client, _csv_bytes(rows), webhook_url=url)
        secret = created["webhook_secret"]
        assert secret.startswith("whsec_")
        job, _ = _wait_for(client, created["id"], {"completed", "failed", "canceled"})
    assert job["status"] == "completed"

    headers, body = deliveries.get(timeout=120)
    verify_signature(secret, headers, body, now=datetime.now(UTC))
    timestamp = headers["Cascade-Timestamp"]
    event_id = headers["Cascade-Event-Id"]
    expected = hmac.new(secret.encode(), f"{timestamp}.{event_id}.".encode() + body, hashlib.sha256).hexdigest()
    assert f"v1={expected}" in headers["Cascade-Signature"].split(",")
    assert headers["Content-Type"].startswith("application/json")
    event = json.loads(body)
    assert event["id"] == event_id
    assert event["type"] == "job.completed"
    assert event["data"]["id"] == created["id"]
    assert event["data"]["status"] == "completed"
    assert "results_url" not in event["data"] or event["data"]["results_url"] is None


def test_cli_submit_wait_downloads_results(
    local_stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, plaintext = local_stack.create_api_key(name="bulk cli")
    rows = [_person_row(1 + index, person) for index, person in enumerate(_people(600, 5))]
    source = tmp_path / "contacts.csv"
    source.write_bytes(_csv_bytes([*rows, ["99", "Solo", "", ""]]))
    arguments = ["--api-url", local_stack.endpoints.api_url, "--api-key", plaintext]

    code = cli_main(["jobs", "submit", str(source), "--wait", "--poll-seconds", "0.2", *arguments])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "100%" in captured.err
    assert "status      completed" in captured.out
    results = tmp_path / "contacts.results.csv"
    errors = tmp_path / "contacts.errors.csv"
    assert results.read_bytes().startswith(b"\xef\xbb\xbf")
    with results.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert len(table) - 1 == 6
    assert errors.exists()

    job_id = captured.out.split()[1]
    status_code = cli_main(["jobs", "status", job_id, "--json", *arguments])
    status = json.loads(capsys.readouterr().out)
    assert status_code == 0
    assert status["id"] == job_id
    assert status["status"] == "completed"


def test_cli_reports_missing_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CASCADE_API_URL", raising=False)
    monkeypatch.delenv("CASCADE_API_KEY", raising=False)
    code = cli_main(["jobs", "status", "job_" + "0" * 26])
    assert code == 2
    assert "CASCADE_API_URL" in capsys.readouterr().err


def test_cli_status_unknown_job(local_stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    _, plaintext = local_stack.create_api_key(name="bulk cli unknown")
    code = cli_main(
        ["jobs", "status", "job_" + "0" * 26, "--api-url", local_stack.endpoints.api_url, "--api-key", plaintext]
    )
    assert code == 1
    assert "HTTP 404" in capsys.readouterr().err
