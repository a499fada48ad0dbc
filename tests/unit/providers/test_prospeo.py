from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cascade.domain.models import (
    AttemptOutcome,
    EmailFlag,
    EmailVerdict,
    NormalisedPerson,
    PhoneVerdict,
    RequestedField,
)
from cascade.normalise.phones import LineType
from cascade.providers.prospeo import INFO, ProspeoFinder, email_verdict, error_outcome
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

KEY = "unit-prospeo-key"
EMAIL = frozenset({RequestedField.EMAIL})
PHONE = frozenset({RequestedField.PHONE})
BOTH = frozenset({RequestedField.EMAIL, RequestedField.PHONE})
ADA = NormalisedPerson(
    first_name="Ada",
    last_name="Quill",
    full_name="Ada Quill",
    company_name="Quillon Widgets",
    company_domain="quillon-widgets.de",
    linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b",
    country="DE",
)
EMAIL_OBJECT: dict[str, Any] = {
    "status": "VERIFIED",
    "revealed": True,
    "email": "ada.quill@quillon-widgets.de",
    "verification_method": "SMTP",
    "email_mx_provider": "Google",
}
MOBILE_OBJECT: dict[str, Any] = {
    "status": "VERIFIED",
    "revealed": True,
    "mobile": "+49 1512 3456789",
    "mobile_national": "01512 3456789",
    "mobile_international": "+49 1512 3456789",
    "mobile_country": "Germany",
    "mobile_country_code": "DE",
}


def _body(email: Any = EMAIL_OBJECT, mobile: Any = None) -> dict[str, Any]:
    return {
        "error": False,
        "free_enrichment": False,
        "person": {"person_id": "pp-1", "email": email, "mobile": mobile},
        "company": {"name": "Quillon Widgets", "domain": "quillon-widgets.de"},
    }


def _finder(handler: Handler) -> ProspeoFinder:
    return ProspeoFinder(mock_http(handler, "https://api.prospeo.io"), {"api_key": KEY})


def _recorded(person: NormalisedPerson, fields: frozenset[RequestedField] = EMAIL) -> list[httpx.Request]:
    vendor = Vendor(200, _body())
    _finder(vendor).find(person, fields)
    return vendor.requests


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("VERIFIED", EmailVerdict.VALID),
        ("UNVERIFIED", EmailVerdict.UNKNOWN),
        ("VALID", EmailVerdict.VALID),
        ("CATCH_ALL", EmailVerdict.CATCH_ALL),
        ("INVALID", EmailVerdict.INVALID),
        ("verified", EmailVerdict.VALID),
        ("RISKY", EmailVerdict.UNKNOWN),
        ("", EmailVerdict.UNKNOWN),
        (None, EmailVerdict.UNKNOWN),
    ],
)
def test_email_verdict_status(status: str | None, expected: EmailVerdict) -> None:
    assert email_verdict(status) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NO_MATCH", AttemptOutcome.NOT_FOUND),
        ("INSUFFICIENT_CREDITS", AttemptOutcome.QUOTA_EXHAUSTED),
        ("INVALID_API_KEY", AttemptOutcome.AUTH_ERROR),
        ("ACCOUNT_RESTRICTED", AttemptOutcome.AUTH_ERROR),
        ("RATE_LIMITED", AttemptOutcome.THROTTLED),
        ("RATE_LIMIT_EXCEEDED", AttemptOutcome.THROTTLED),
        ("INVALID_DATAPOINTS", AttemptOutcome.BAD_RESPONSE),
        ("INVALID_REQUEST", AttemptOutcome.BAD_RESPONSE),
        ("INTERNAL_ERROR", AttemptOutcome.TRANSIENT_ERROR),
        ("no_match", AttemptOutcome.NOT_FOUND),
        ("SOMETHING_NEW", None),
        (None, None),
    ],
)
def test_error_outcome_code(code: str | None, expected: AttemptOutcome | None) -> None:
    assert error_outcome(code) is expected


def test_info_describes_finder() -> None:
    assert INFO.name == "prospeo"
    assert INFO.fields == BOTH
    assert INFO.default_base_url == "https://api.prospeo.io"


def test_request_name_company_and_linkedin() -> None:
    [request] = _recorded(ADA)
    assert request.method == "POST"
    assert request.url.path == "/enrich-person"
    assert request.headers["X-KEY"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "only_verified_email": False,
        "enrich_mobile": False,
        "only_verified_mobile": False,
        "data": {
            "first_name": "Ada",
            "last_name": "Quill",
            "company_website": "quillon-widgets.de",
            "company_name": "Quillon Widgets",
            "linkedin_url": "https://www.linkedin.com/in/ada-quill-4d52c31b",
        },
    }


def test_request_phone_enriches_mobile() -> None:
    [request] = _recorded(ADA, BOTH)
    assert json.loads(request.content)["enrich_mobile"] is True


def test_request_linkedin_only() -> None:
    [request] = _recorded(NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b"))
    assert json.loads(request.content)["data"] == {"linkedin_url": "https://www.linkedin.com/in/ada-quill-4d52c31b"}


def test_request_full_name_with_company_name() -> None:
    [request] = _recorded(NormalisedPerson(full_name="Zoë Dubois", company_name="Quillon Widgets"))
    assert json.loads(request.content)["data"] == {"full_name": "Zoë Dubois", "company_name": "Quillon Widgets"}


def test_request_too_little_input_sends_nothing() -> None:
    requests = _recorded(NormalisedPerson(first_name="Ada", last_name="Quill"))
    assert requests == []


def test_request_too_little_input_not_found() -> None:
    result = _finder(Vendor(200, _body())).find(NormalisedPerson(company_domain="quillon-widgets.de"), EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status is None


def test_found_email() -> None:
    result = _finder(Vendor(200, _body())).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == "ada.quill@quillon-widgets.de"
    assert candidate.verdict is EmailVerdict.VALID
    assert candidate.vendor_status == "VERIFIED"
    assert candidate.confidence == 0.9
    assert candidate.flags == frozenset()
    assert result.phones == ()


def test_found_unverified_email() -> None:
    [candidate] = _finder(Vendor(200, _body({**EMAIL_OBJECT, "status": "UNVERIFIED"}))).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.confidence == 0.5


def test_found_unknown_email_status() -> None:
    [candidate] = _finder(Vendor(200, _body({**EMAIL_OBJECT, "status": "SPECTRAL"}))).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.vendor_status == "SPECTRAL"


def test_found_role_email_flagged() -> None:
    body = _body({**EMAIL_OBJECT, "email": "info@quillon-widgets.de"})
    [candidate] = _finder(Vendor(200, body)).find(ADA, EMAIL).emails
    assert candidate.flags == frozenset({EmailFlag.ROLE})


def test_found_mobile() -> None:
    result = _finder(Vendor(200, _body(mobile=MOBILE_OBJECT))).find(ADA, BOTH)
    assert result.outcome is AttemptOutcome.FOUND
    [phone] = result.phones
    assert phone.number == "+4915123456789"
    assert phone.vendor_type == "mobile"
    assert phone.line_type is LineType.MOBILE
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.confidence == 0.9
    assert len(result.emails) == 1


def test_found_unverified_mobile() -> None:
    mobile = {**MOBILE_OBJECT, "status": None, "mobile": None}
    [phone] = _finder(Vendor(200, _body(mobile=mobile))).find(ADA, PHONE).phones
    assert phone.number == "+4915123456789"
    assert phone.confidence == 0.6


def test_phone_only_ignores_email() -> None:
    result = _finder(Vendor(200, _body(mobile=MOBILE_OBJECT))).find(ADA, PHONE)
    assert result.emails == ()
    assert len(result.phones) == 1


def test_phone_requested_but_missing_not_found() -> None:
    result = _finder(Vendor(200, _body(mobile=None))).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.NOT_FOUND


@pytest.mark.parametrize(
    "email",
    [None, {**EMAIL_OBJECT, "email": None}, {**EMAIL_OBJECT, "revealed": False}, {**EMAIL_OBJECT, "email": "no-at"}],
)
def test_email_missing_not_found(email: Any) -> None:
    result = _finder(Vendor(200, _body(email))).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()


def test_person_null_not_found() -> None:
    body = {"error": False, "person": None, "company": None}
    assert _finder(Vendor(200, body)).find(ADA, EMAIL).outcome is AttemptOutcome.NOT_FOUND


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (400, "NO_MATCH", AttemptOutcome.NOT_FOUND),
        (400, "INSUFFICIENT_CREDITS", AttemptOutcome.QUOTA_EXHAUSTED),
        (401, "INVALID_API_KEY", AttemptOutcome.AUTH_ERROR),
        (400, "ACCOUNT_RESTRICTED", AttemptOutcome.AUTH_ERROR),
        (400, "INVALID_DATAPOINTS", AttemptOutcome.BAD_RESPONSE),
        (400, "INVALID_REQUEST", AttemptOutcome.BAD_RESPONSE),
        (400, "INTERNAL_ERROR", AttemptOutcome.TRANSIENT_ERROR),
        (200, "INSUFFICIENT_CREDITS", AttemptOutcome.QUOTA_EXHAUSTED),
        (200, "NO_MATCH", AttemptOutcome.NOT_FOUND),
        (200, "BRAND_NEW_CODE", AttemptOutcome.BAD_RESPONSE),
        (503, "BRAND_NEW_CODE", AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_error_code(status: int, code: str, outcome: AttemptOutcome) -> None:
    result = _finder(Vendor(status, {"error": True, "error_code": code})).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.detail == f"prospeo error {code} (HTTP {status})"


@pytest.mark.parametrize("code", ["RATE_LIMITED", "RATE_LIMIT_EXCEEDED"])
def test_throttled_retry_after_header(code: str) -> None:
    result = _finder(Vendor(429, {"error": True, "error_code": code}, {"Retry-After": "3"})).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 3.0


def test_throttled_inside_200_reads_minute_reset() -> None:
    headers = {"x-minute-request-left": "0", "x-minute-reset-seconds": "17", "x-daily-request-left": "1500"}
    result = _finder(Vendor(200, {"error": True, "error_code": "RATE_LIMIT_EXCEEDED"}, headers)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 17.0


def test_throttled_daily_window_reads_daily_reset() -> None:
    headers = {
        "x-minute-request-left": "120",
        "x-minute-reset-seconds": "17",
        "x-daily-request-left": "0",
        "x-daily-reset-seconds": "5400",
    }
    result = _finder(Vendor(429, {"error": True, "error_code": "RATE_LIMITED"}, headers)).find(ADA, EMAIL)
    assert result.retry_after_seconds == 5400.0


def test_rate_limit_state_from_minute_headers() -> None:
    headers = {"x-minute-request-left": "288", "x-minute-reset-seconds": "41"}
    result = _finder(Vendor(200, _body(), headers)).find(ADA, EMAIL)
    assert result.rate_limit is not None
    assert result.rate_limit.remaining == 288
    assert result.rate_limit.reset_after_seconds == 41


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (429, b"", AttemptOutcome.THROTTLED),
        (401, b"Unauthorized", AttemptOutcome.AUTH_ERROR),
        (500, b"<html>500</html>", AttemptOutcome.TRANSIENT_ERROR),
        (502, b"<html>502</html>", AttemptOutcome.TRANSIENT_ERROR),
        (503, b"<html>503</html>", AttemptOutcome.TRANSIENT_ERROR),
        (404, b"<html>404</html>", AttemptOutcome.NOT_FOUND),
        (200, b'{"error": false, "person": {"email"', AttemptOutcome.BAD_RESPONSE),
        (200, b"<html>ok</html>", AttemptOutcome.BAD_RESPONSE),
        (200, {"person": {"email": EMAIL_OBJECT}}, AttemptOutcome.BAD_RESPONSE),
        (200, {"error": False, "person": "Ada"}, AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_status_without_prospeo_body(status: int, body: Any, outcome: AttemptOutcome) -> None:
    result = _finder(Vendor(status, body)).find(ADA, EMAIL)
    assert result.outcome is outcome


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _finder(raising(error)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status is None


def test_found_disposable_domain_overrides_status() -> None:
    body = _body({**EMAIL_OBJECT, "email": "ada@mailinator.com"})
    [candidate] = _finder(Vendor(200, body)).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.DISPOSABLE
    assert candidate.vendor_status == "VERIFIED"
