"""Webhook signing, verification, retry delays and URL checks (no network)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from cascade.bulk.webhooks import (
    WebhookSignatureError,
    WebhookUrlError,
    backoff_seconds,
    new_webhook_secret,
    sign,
    signature_headers,
    validate_webhook_url,
    verify_signature,
)

SECRET = "whsec_test-secret"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = '{"id":"evt_1","type":"job.completed","data":{"id":"job_1"}}'


def test_sign_is_hmac_sha256_of_timestamp_event_body() -> None:
    expected = hmac.new(SECRET.encode(), f"1772366400.evt_1.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert sign(SECRET, 1772366400, "evt_1", BODY) == expected


def test_signature_headers() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=1772366400)
    assert headers["Content-Type"] == "application/json"
    assert headers["Cascade-Event-Id"] == "evt_1"
    assert headers["Cascade-Timestamp"] == "1772366400"
    assert headers["Cascade-Signature"] == "v1=" + sign(SECRET, 1772366400, "evt_1", BODY)


def test_verify_accepts_valid_signature_any_header_case() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    lowered = {name.lower(): value for name, value in headers.items()}
    verify_signature(SECRET, lowered, BODY.encode(), now=NOW + timedelta(seconds=30))


def test_verify_accepts_one_of_several_signatures() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    headers["Cascade-Signature"] = "v1=" + "0" * 64 + ", " + headers["Cascade-Signature"]
    verify_signature(SECRET, headers, BODY, now=NOW)


def test_verify_rejects_tampered_body() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    with pytest.raises(WebhookSignatureError, match="no v1 signature matches"):
        verify_signature(SECRET, headers, BODY.replace("completed", "failed"), now=NOW)


def test_verify_rejects_wrong_secret() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    with pytest.raises(WebhookSignatureError):
        verify_signature("whsec_other", headers, BODY, now=NOW)


def test_verify_rejects_changed_event_id() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    headers["Cascade-Event-Id"] = "evt_2"
    with pytest.raises(WebhookSignatureError):
        verify_signature(SECRET, headers, BODY, now=NOW)


def test_verify_rejects_old_timestamp() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    with pytest.raises(WebhookSignatureError, match="more than the 300 s tolerance"):
        verify_signature(SECRET, headers, BODY, now=NOW + timedelta(seconds=301))
    verify_signature(SECRET, headers, BODY, now=NOW + timedelta(seconds=600), tolerance_seconds=900)


def test_verify_rejects_missing_and_malformed_headers() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    without = {name: value for name, value in headers.items() if name != "Cascade-Signature"}
    with pytest.raises(WebhookSignatureError, match="missing header"):
        verify_signature(SECRET, without, BODY, now=NOW)
    with pytest.raises(WebhookSignatureError, match="not Unix seconds"):
        verify_signature(SECRET, {**headers, "Cascade-Timestamp": "soon"}, BODY, now=NOW)


def test_verify_requires_aware_now() -> None:
    headers = signature_headers(SECRET, "evt_1", BODY, timestamp=int(NOW.timestamp()))
    with pytest.raises(ValueError, match="no time zone"):
        verify_signature(SECRET, headers, BODY, now=datetime(2026, 3, 1, 12, 0))  # noqa: DTZ001


def test_new_secret_format() -> None:
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(secret) == len("whsec_") + 43
    assert secret != new_webhook_secret()


@pytest.mark.parametrize(("attempt", "expected"), [(1, 10), (2, 20), (3, 40), (7, 640), (8, 900), (60, 900)])
def test_backoff_doubles_and_caps(attempt: int, expected: int) -> None:
    assert backoff_seconds(attempt, 10) == expected


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError, match="attempt 0"):
        backoff_seconds(0, 10)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/cascade",
        "https://user:pass@hooks.example.com/",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "ftp://hooks.example.com/",
        "hooks.example.com/cascade",
    ],
)
def test_webhook_url_rejected_on_aws(url: str) -> None:
    with pytest.raises(WebhookUrlError, match="webhook_url"):
        validate_webhook_url(url, allow_local=False)


def test_webhook_url_accepted_on_aws() -> None:
    assert validate_webhook_url("https://hooks.example.com/cascade", allow_local=False)
    assert validate_webhook_url("https://93.184.215.14/hook", allow_local=False)


def test_webhook_url_local_stage() -> None:
    assert validate_webhook_url("http://127.0.0.1:8080/hook", allow_local=True)
    assert validate_webhook_url("http://localhost:8080/hook", allow_local=True)
    with pytest.raises(WebhookUrlError):
        validate_webhook_url("http://10.0.0.8/hook", allow_local=True)
    with pytest.raises(WebhookUrlError, match="credentials"):
        validate_webhook_url("http://a:b@127.0.0.1/hook", allow_local=True)
