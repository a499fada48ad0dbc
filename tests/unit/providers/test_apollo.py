from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict, NormalisedPerson, RequestedField
from cascade.providers.apollo import INFO, ApolloFinder, email_verdict, has_no_email
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

KEY = "unit-apollo-key"
EMAIL = frozenset({RequestedField.EMAIL})
ADA = NormalisedPerson(
    first_name="Ada",
    last_name="Quill",
    full_name="Ada Quill",
    company_name="Quillon Widgets",
    company_domain="quillon-widgets.de",
    linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b",
)
PERSON: dict[str, Any] = {
    "id": "0123456789abcdef01234567",
    "first_name": "Ada",
    "last_name": "Quill",
    "email": "ada.quill@quillon-widgets.de",
    "email_status": "verified",
    "organization": {"name": "Quillon Widgets", "primary_domain": "quillon-widgets.de"},
}


def _body(**person: Any) -> dict[str, Any]:
    return {"person": {**PERSON, **person}}


def _finder(handler: Handler) -> ApolloFinder:
    return ApolloFinder(mock_http(handler, "https://api.apollo.io"), {"api_key": KEY})


def _recorded(person: NormalisedPerson, fields: frozenset[RequestedField] = EMAIL) -> list[httpx.Request]:
    vendor = Vendor(200, _body())
    _finder(vendor).find(person, fields)
    return vendor.requests


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("verified", EmailVerdict.VALID),
        ("Verified", EmailVerdict.VALID),
        ("VERIFIED", EmailVerdict.VALID),
        ("likely_to_engage", EmailVerdict.UNKNOWN),
        ("Likely to engage", EmailVerdict.UNKNOWN),
        ("Likely-To-Engage", EmailVerdict.UNKNOWN),
        ("unverified", EmailVerdict.UNKNOWN),
        ("Guessed", EmailVerdict.UNKNOWN),
        ("extrapolated", EmailVerdict.UNKNOWN),
        ("Pending Manual Verification", EmailVerdict.UNKNOWN),
        ("Update required", EmailVerdict.UNKNOWN),
        ("Bounced", EmailVerdict.INVALID),
        ("teleported", EmailVerdict.UNKNOWN),
        ("", EmailVerdict.UNKNOWN),
        (None, EmailVerdict.UNKNOWN),
    ],
)
def test_email_verdict_status(status: str | None, expected: EmailVerdict) -> None:
    assert email_verdict(status) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Unavailable", True),
        ("unavailable", True),
        ("No Email", True),
        ("no_email", True),
        ("verified", False),
        (None, False),
    ],
)
def test_has_no_email_status(status: str | None, expected: bool) -> None:
    assert has_no_email(status) is expected


def test_info_is_email_only() -> None:
    assert INFO.name == "apollo"
    assert INFO.fields == frozenset({RequestedField.EMAIL})
    assert INFO.default_base_url == "https://api.apollo.io"


def test_request_body_and_header() -> None:
    [request] = _recorded(ADA)
    assert request.method == "POST"
    assert request.url.path == "/api/v1/people/match"
    assert request.headers["x-api-key"] == KEY
    assert request.url.query == b""
    assert json.loads(request.content) == {
        "first_name": "Ada",
        "last_name": "Quill",
        "domain": "quillon-widgets.de",
        "organization_name": "Quillon Widgets",
        "linkedin_url": "https://www.linkedin.com/in/ada-quill-4d52c31b",
        "reveal_personal_emails": False,
    }


def test_request_never_reveals_phone() -> None:
    [request] = _recorded(ADA, frozenset({RequestedField.EMAIL, RequestedField.PHONE}))
    body = json.loads(request.content)
    assert "reveal_phone_number" not in body
    assert "webhook_url" not in body


def test_request_full_name_with_company_name() -> None:
    [request] = _recorded(NormalisedPerson(full_name="Zoë Dubois", company_name="Quillon Widgets"))
    assert json.loads(request.content) == {
        "name": "Zoë Dubois",
        "organization_name": "Quillon Widgets",
        "reveal_personal_emails": False,
    }


def test_request_linkedin_only() -> None:
    [request] = _recorded(NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b"))
    assert json.loads(request.content) == {
        "linkedin_url": "https://www.linkedin.com/in/ada-quill-4d52c31b",
        "reveal_personal_emails": False,
    }


def test_request_name_alone_sends_nothing() -> None:
    assert _recorded(NormalisedPerson(first_name="Ada", last_name="Quill")) == []


def test_phone_only_sends_nothing() -> None:
    requests = _recorded(ADA, frozenset({RequestedField.PHONE}))
    result = _finder(Vendor(200, _body())).find(ADA, frozenset({RequestedField.PHONE}))
    assert requests == []
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_found_email() -> None:
    result = _finder(Vendor(200, _body())).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == "ada.quill@quillon-widgets.de"
    assert candidate.verdict is EmailVerdict.VALID
    assert candidate.vendor_status == "verified"
    assert candidate.confidence == 0.9
    assert candidate.flags == frozenset()
    assert result.phones == ()


@pytest.mark.parametrize(
    ("status", "verdict", "confidence"),
    [
        ("Likely to engage", EmailVerdict.UNKNOWN, 0.7),
        ("unverified", EmailVerdict.UNKNOWN, 0.5),
        ("guessed", EmailVerdict.UNKNOWN, 0.3),
        ("bounced", EmailVerdict.INVALID, 0.05),
        ("wandering", EmailVerdict.UNKNOWN, 0.3),
        (None, EmailVerdict.UNKNOWN, 0.3),
    ],
)
def test_found_status_confidence(status: str | None, verdict: EmailVerdict, confidence: float) -> None:
    [candidate] = _finder(Vendor(200, _body(email_status=status))).find(ADA, EMAIL).emails
    assert candidate.verdict is verdict
    assert candidate.confidence == confidence
    assert candidate.vendor_status == status


def test_found_free_mail_flagged() -> None:
    [candidate] = _finder(Vendor(200, _body(email="ada.quill@outlook.com"))).find(ADA, EMAIL).emails
    assert candidate.flags == frozenset({EmailFlag.FREE_MAIL})


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"person": None}, "apollo matched no person"),
        (_body(email=None, email_status="unavailable"), "apollo matched the person but has no email"),
        (
            _body(email="ada.quill@quillon-widgets.de", email_status="Unavailable"),
            "apollo matched the person but has no email",
        ),
        (_body(email=None, email_status=None), "apollo matched the person but has no email"),
        (_body(email="email_not_unlocked@domain.com"), "apollo withheld the email as locked for this account"),
        (_body(email="ada at quillon"), "apollo returned an email that is not a valid address"),
    ],
)
def test_not_found_shapes(body: dict[str, Any], detail: str) -> None:
    result = _finder(Vendor(200, body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail == detail
    assert result.emails == ()


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (401, b"Invalid access credentials.", AttemptOutcome.AUTH_ERROR),
        (
            403,
            {"error": "api/v1/people/match is not accessible", "error_code": "API_INACCESSIBLE"},
            AttemptOutcome.AUTH_ERROR,
        ),
        (403, b"Forbidden", AttemptOutcome.AUTH_ERROR),
        (422, {"error": "bad", "error_code": "INSUFFICIENT_CREDITS"}, AttemptOutcome.QUOTA_EXHAUSTED),
        (422, {"error": "Unknown parameters"}, AttemptOutcome.BAD_RESPONSE),
        (400, {"error": "add a webhook_url"}, AttemptOutcome.BAD_RESPONSE),
        (402, b"", AttemptOutcome.QUOTA_EXHAUSTED),
        (429, {"message": "The maximum number of api calls"}, AttemptOutcome.THROTTLED),
        (500, {"error": "oops"}, AttemptOutcome.TRANSIENT_ERROR),
        (502, b"<html>502</html>", AttemptOutcome.TRANSIENT_ERROR),
        (503, b"<html>503</html>", AttemptOutcome.TRANSIENT_ERROR),
        (200, {"person": None, "error": "x", "error_code": "INSUFFICIENT_CREDITS"}, AttemptOutcome.QUOTA_EXHAUSTED),
        (200, {"person": None, "error_code": "rate_limited"}, AttemptOutcome.THROTTLED),
        (200, {"person": None, "error_code": "SOMETHING_ELSE"}, AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_error_reply(status: int, body: Any, outcome: AttemptOutcome) -> None:
    result = _finder(Vendor(status, body)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.emails == ()


def test_error_detail_names_code_not_message() -> None:
    body = {"error": "Ada Quill has no credits left", "error_code": "INSUFFICIENT_CREDITS"}
    result = _finder(Vendor(422, body)).find(ADA, EMAIL)
    assert result.detail == "apollo answered HTTP 422 (INSUFFICIENT_CREDITS)"


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"Retry-After": "9"}, 9.0),
        ({"x-minute-requests-left": "0", "x-hourly-requests-left": "40", "x-daily-requests-left": "900"}, 60.0),
        ({"x-minute-requests-left": "5", "x-hourly-requests-left": "0", "x-daily-requests-left": "900"}, 3600.0),
        ({"x-minute-requests-left": "5", "x-hourly-requests-left": "9", "x-daily-requests-left": "0"}, 86400.0),
        ({"x-minute-requests-left": "5", "x-24-hour-requests-left": "0"}, 86400.0),
        ({}, None),
    ],
)
def test_throttled_retry_after(headers: dict[str, str], retry_after: float | None) -> None:
    result = _finder(Vendor(429, {"message": "slow down"}, headers)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == retry_after


def test_rate_limit_state_from_minute_headers() -> None:
    headers = {"x-minute-requests-left": "187", "x-rate-limit-minute": "200"}
    result = _finder(Vendor(200, _body(), headers)).find(ADA, EMAIL)
    assert result.rate_limit is not None
    assert result.rate_limit.remaining == 187
    assert result.rate_limit.limit == 200


@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b'{"person": {"email": "ada', {"people": []}, {"person": "Ada"}, _body(email=["a@b.de"])],
)
def test_bad_response_shapes(body: Any) -> None:
    assert _finder(Vendor(200, body)).find(ADA, EMAIL).outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT), (httpx.ConnectError("no"), AttemptOutcome.TRANSIENT_ERROR)],
)
def test_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _finder(raising(error)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status is None


def test_found_disposable_domain_overrides_status() -> None:
    [candidate] = _finder(Vendor(200, _body(email="ada@mailinator.com"))).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.DISPOSABLE
    assert candidate.vendor_status == "verified"
