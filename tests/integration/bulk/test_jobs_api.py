"""The jobs routes through the API Lambda entry point, on the sample API Gateway events, over moto."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from cascade.bulk.jobs import JobStatus
from cascade.bulk.services import install_bulk_services
from cascade.handlers.api import handler
from cascade.settings import Stage
from tests.conftest import load_event
from tests.integration.bulk.conftest import BUCKET, BulkHarness, csv_bytes

OTHER_KEY_ID = "key_0123456789abcdef"


def _authorized(event: dict[str, Any], harness: BulkHarness, key_id: str | None) -> dict[str, Any]:
    authorizer = event["requestContext"]["authorizer"]
    authorizer["key_id"] = key_id or harness.key_id
    authorizer["principalId"] = key_id or harness.key_id
    authorizer["account_id"] = harness.account_id
    return event


def _post_job(harness: BulkHarness, body: dict[str, Any] | None = None) -> dict[str, Any]:
    event = _authorized(load_event("apigateway/post_job.json"), harness, None)
    if body is not None:
        event["body"] = json.dumps(body)
    return handler(event, harness.context)


def _on_job(name: str, job_id: str, harness: BulkHarness, key_id: str | None = None) -> dict[str, Any]:
    event = _authorized(load_event(f"apigateway/{name}.json"), harness, key_id)
    sample_id = event["pathParameters"]["job_id"]
    event["path"] = event["path"].replace(sample_id, job_id)
    event["requestContext"]["path"] = event["requestContext"]["path"].replace(sample_id, job_id)
    event["pathParameters"] = {"job_id": job_id}
    return handler(event, harness.context)


def _created(harness: BulkHarness, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = _post_job(harness, body)
    assert reply["statusCode"] == 201, reply["body"]
    created: dict[str, Any] = json.loads(reply["body"])
    return created


def test_create_returns_upload_url(harness: BulkHarness) -> None:
    created = _created(harness)
    assert re.fullmatch(r"job_[0-9a-f]{26}", created["id"])
    assert created["status"] == "queued"
    assert created["file_name"] == "q3-leads.csv"
    assert created["rows_total"] is None
    assert created["progress"] == 0.0
    assert created["billed_amount"] == "0.00"
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", created["webhook_secret"])
    url = urlsplit(created["upload_url"])
    assert unquote(url.path).endswith(f"uploads/{harness.key_id}/{created['id']}/input.csv")
    assert "X-Amz-Signature=" in url.query
    assert "X-Amz-Expires=3600" in url.query
    stored = harness.job(created["id"])
    assert stored.webhook_secret == created["webhook_secret"]
    assert stored.country == "GB"


def test_upload_to_url_starts_job(harness: BulkHarness) -> None:
    created = _created(harness, {"fields": ["email"]})
    key = unquote(urlsplit(created["upload_url"]).path).lstrip("/").removeprefix(f"{BUCKET}/")
    harness.ingest(harness.upload(key, csv_bytes("Ada,Quill,example.com", "Grace,Hopper,example.com")))
    assert harness.only_job_id() == created["id"]
    assert harness.queued_rows() == 2
    assert created["webhook_secret"] is None

    harness.drain_rows()
    reply = _on_job("get_job", created["id"], harness)
    job = json.loads(reply["body"])
    assert reply["statusCode"] == 200
    assert job["status"] == "completed"
    assert job["rows_total"] == 2
    assert job["rows_done"] == 2
    assert job["matched"] == 2
    assert job["progress"] == 1.0
    assert job["billed_amount"] == "0.40"
    assert job["encoding"] == "utf-8"
    assert job["delimiter"] == ","
    assert job["column_mapping"] == {
        "first_name": "First Name",
        "last_name": "Last Name",
        "domain": "Company Domain",
    }
    assert "results.csv" in unquote(job["results_url"])
    assert "errors.csv" in unquote(job["errors_url"])


def test_get_other_keys_job_404(harness: BulkHarness) -> None:
    created = _created(harness)
    reply = _on_job("get_job", created["id"], harness, key_id=OTHER_KEY_ID)
    unknown = _on_job("get_job", "job_00000000000000000000000000", harness)
    assert reply["statusCode"] == 404
    assert json.loads(reply["body"])["type"] == "urn:cascade:problem:not-found"
    assert unknown["statusCode"] == 404
    assert json.loads(unknown["body"])["detail"] == json.loads(reply["body"])["detail"].replace(
        created["id"], "job_00000000000000000000000000"
    )


def test_cancel_other_keys_job_404(harness: BulkHarness) -> None:
    created = _created(harness)
    reply = _on_job("cancel_job", created["id"], harness, key_id=OTHER_KEY_ID)
    assert reply["statusCode"] == 404
    assert harness.job(created["id"]).status is JobStatus.QUEUED


def test_cancel_queued_job(harness: BulkHarness) -> None:
    created = _created(harness)
    reply = _on_job("cancel_job", created["id"], harness)
    again = _on_job("cancel_job", created["id"], harness)
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"])["status"] == "canceled"
    assert again["statusCode"] == 200
    events = harness.webhook_messages()
    assert [event["type"] for event in events] == ["job.canceled"]
    assert events[0]["payload"]["data"]["status"] == "canceled"

    key = f"uploads/{harness.key_id}/{created['id']}/input.csv"
    harness.ingest(harness.upload(key, csv_bytes("Ada,Quill,example.com")))
    assert harness.job(created["id"]).status is JobStatus.CANCELED
    assert harness.queued_rows() == 0


def test_cancel_completed_job_409(harness: BulkHarness) -> None:
    created = _created(harness)
    key = f"uploads/{harness.key_id}/{created['id']}/input.csv"
    harness.ingest(harness.upload(key, csv_bytes("Ada,Quill,example.com")))
    harness.drain_rows()
    reply = _on_job("cancel_job", created["id"], harness)
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 409
    assert problem["type"] == "urn:cascade:problem:job-not-cancelable"
    assert "completed" in problem["detail"]
    assert harness.job(created["id"]).status is JobStatus.COMPLETED


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://hooks.example.com/x", "is not https"),
        ("https://user:secret@hooks.example.com/x", "contains credentials"),
        ("https://10.0.0.8/x", "non-public address 10.0.0.8"),
        ("https://169.254.169.254/latest", "non-public address 169.254.169.254"),
        ("https://[::1]/x", "non-public address ::1"),
        ("https://localhost/x", "points at this machine"),
        ("ftp://hooks.example.com/x", "not an absolute http(s) URL"),
    ],
)
def test_create_rejects_webhook_url(harness: BulkHarness, url: str, expected: str) -> None:
    # The AWS stage applies the strict rules; the harness runs as the local stage.

    aws_settings = harness.services.settings.model_copy(update={"stage": Stage.AWS})
    install_bulk_services(dataclasses.replace(harness.services, settings=aws_settings))
    reply = _post_job(harness, {"webhook_url": url})
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert problem["errors"][0]["field"] == "webhook_url"
    assert expected in problem["errors"][0]["message"]


def test_local_stage_allows_loopback_webhook(harness: BulkHarness) -> None:
    created = _created(harness, {"webhook_url": "http://127.0.0.1:9000/hook"})
    assert harness.job(created["id"]).webhook_url == "http://127.0.0.1:9000/hook"


def test_create_rejects_unknown_provider(harness: BulkHarness) -> None:
    reply = _post_job(harness, {"waterfall": {"order": ["hunter", "nosuchvendor"]}})
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert problem["errors"][0]["field"] == "waterfall.order"
    assert "nosuchvendor" in problem["errors"][0]["message"]
    assert harness.services.jobs.list_for_key(harness.key_id) == []


def test_create_rejects_unknown_field(harness: BulkHarness) -> None:
    reply = _post_job(harness, {"fields": ["email"], "colour": "blue"})
    assert reply["statusCode"] == 422
    assert json.loads(reply["body"])["errors"][0]["field"] == "colour"
