from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
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
from cascade.providers.peopledatalabs import (
    INFO,
    PeopleDataLabsFinder,
    confidence_from_likelihood,
    error_outcome,
    rate_limit_state,
)
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

KEY = "unit-pdl-key"
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
    country="US",
)
DATA: dict[str, Any] = {
    "work_email": "ada.quill@quillon-widgets.de",
    "emails": [{"address": "ada.quill@quillon-widgets.de", "type": "current_professional"}],
    "mobile_phone": "+12125550142",
    "phone_numbers": ["+12125550142", "+13035550199"],
}


def _body(likelihood: Any = 8, **data: Any) -> dict[str, Any]:
    return {"status": 200, "likelihood": likelihood, "data": {**DATA, **data}}


def _finder(handler: Handler) -> PeopleDataLabsFinder:
    return PeopleDataLabsFinder(mock_http(handler, "https://api.peopledatalabs.com"), {"api_key": KEY})


def _recorded(person: NormalisedPerson, fields: frozenset[RequestedField] = EMAIL) -> list[httpx.Request]:
    vendor = Vendor(200, _body())
    _finder(vendor).find(person, fields)
    return vendor.requests


def _error(status: int, error_type: str) -> dict[str, Any]:
    return {"status": status, "error": {"type": error_type, "message": "x"}}


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [
        ("not_found", AttemptOutcome.NOT_FOUND),
        ("payment_required", AttemptOutcome.QUOTA_EXHAUSTED),
        ("rate_limit_error", AttemptOutcome.THROTTLED),
        ("authentication_error", AttemptOutcome.AUTH_ERROR),
        ("invalid_request_error", AttemptOutcome.BAD_RESPONSE),
        ("api_error", AttemptOutcome.TRANSIENT_ERROR),
        ("NOT_FOUND", AttemptOutcome.NOT_FOUND),
        ("brand_new_error", None),
        (None, None),
    ],
)
def test_error_outcome_type(error_type: str | None, expected: AttemptOutcome | None) -> None:
    assert error_outcome(error_type) is expected


@pytest.mark.parametrize(
    ("likelihood", "expected"),
    [(1, 0.1), (6, 0.6), (10, 1.0), (12, 1.0), (0, 0.0), (None, 0.0), ("8", 0.0), (True, 0.0), (float("nan"), 0.0)],
)
def test_confidence_from_likelihood(likelihood: Any, expected: float) -> None:
    assert confidence_from_likelihood(likelihood) == pytest.approx(expected)


def test_info_describes_finder() -> None:
    assert INFO.name == "peopledatalabs"
    assert INFO.fields == BOTH
    assert INFO.default_base_url == "https://api.peopledatalabs.com"
    assert INFO.api_version == "v5"


def test_request_body_name_domain_and_profile() -> None:
    [request] = _recorded(ADA)
    assert request.method == "POST"
    assert request.url.path == "/v5/person/enrich"
    assert request.headers["X-Api-Key"] == KEY
    assert KEY not in str(request.url)
    assert json.loads(request.content) == {
        "profile": "linkedin.com/in/ada-quill-4d52c31b",
        "first_name": "Ada",
        "last_name": "Quill",
        "company": "quillon-widgets.de",
        "min_likelihood": 6,
        "required": "work_email",
        "data_include": "work_email,emails,mobile_phone,phone_numbers",
    }


@pytest.mark.parametrize(
    ("fields", "required"),
    [
        (EMAIL, "work_email"),
        (PHONE, "mobile_phone OR phone_numbers"),
        (BOTH, "work_email OR mobile_phone OR phone_numbers"),
    ],
)
def test_request_required_follows_fields(fields: frozenset[RequestedField], required: str) -> None:
    [request] = _recorded(ADA, fields)
    assert json.loads(request.content)["required"] == required


def test_request_company_name_and_full_name() -> None:
    [request] = _recorded(NormalisedPerson(full_name="José Núñez", company_name="Quillon Widgets"))
    body = json.loads(request.content)
    assert body["name"] == "José Núñez"
    assert body["company"] == "Quillon Widgets"
    assert "first_name" not in body


def test_request_linkedin_only() -> None:
    [request] = _recorded(NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b"))
    body = json.loads(request.content)
    assert body["profile"] == "linkedin.com/in/ada-quill-4d52c31b"
    assert "company" not in body


def test_request_too_little_input_sends_nothing() -> None:
    requests = _recorded(NormalisedPerson(first_name="Ada", last_name="Quill"))
    assert requests == []


def test_found_email() -> None:
    result = _finder(Vendor(200, _body())).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    [candidate] = result.emails
    assert candidate.address == "ada.quill@quillon-widgets.de"
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.vendor_status is None
    assert candidate.confidence == pytest.approx(0.8)
    assert candidate.flags == frozenset()
    assert result.phones == ()


def test_found_email_from_emails_list() -> None:
    body = _body(work_email=None, emails=[{"address": "old@former.de", "type": "professional"}, *DATA["emails"]])
    [candidate] = _finder(Vendor(200, body)).find(ADA, EMAIL).emails
    assert candidate.address == "ada.quill@quillon-widgets.de"


def test_personal_email_not_returned() -> None:
    body = _body(work_email=None, emails=[{"address": "ada.quill@gmail.com", "type": "personal"}])
    result = _finder(Vendor(200, body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_found_role_email_flagged() -> None:
    [candidate] = _finder(Vendor(200, _body(work_email="sales@quillon-widgets.de"))).find(ADA, EMAIL).emails
    assert candidate.flags == frozenset({EmailFlag.ROLE})


def test_found_phones_mobile_first_without_duplicates() -> None:
    result = _finder(Vendor(200, _body())).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    assert [phone.number for phone in result.phones] == ["+12125550142", "+13035550199"]
    assert [phone.vendor_type for phone in result.phones] == ["mobile_phone", "phone_numbers"]
    assert result.emails == ()


def test_found_phone_line_type_and_verdict() -> None:
    [mobile, _other] = _finder(Vendor(200, _body())).find(ADA, PHONE).phones
    # The US plan leaves the type open; PDL's mobile_phone field is the vendor's evidence that it is a mobile.
    assert mobile.number == "+12125550142"
    assert mobile.line_type is LineType.MOBILE
    assert mobile.verdict is PhoneVerdict.VALID
    assert mobile.confidence == pytest.approx(0.8)


def test_found_invalid_phone_kept_as_invalid() -> None:
    [phone] = _finder(Vendor(200, _body(mobile_phone="+1 555", phone_numbers=[]))).find(ADA, PHONE).phones
    assert phone.verdict is PhoneVerdict.INVALID


def test_found_both_fields() -> None:
    result = _finder(Vendor(200, _body())).find(ADA, BOTH)
    assert len(result.emails) == 1
    assert len(result.phones) == 2


def test_free_plan_flags_not_found() -> None:
    body = _body(work_email=True, emails=True, mobile_phone=True, phone_numbers=True)
    result = _finder(Vendor(200, body)).find(ADA, BOTH)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail == "peopledatalabs returned presence flags instead of contact values (a free plan key)"


def test_match_without_requested_field_not_found() -> None:
    body = _body(work_email=None, emails=[], mobile_phone=None, phone_numbers=[])
    result = _finder(Vendor(200, body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.detail == "peopledatalabs matched the person but returned none of the fields"


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (404, _error(404, "not_found"), AttemptOutcome.NOT_FOUND),
        (402, _error(402, "payment_required"), AttemptOutcome.QUOTA_EXHAUSTED),
        (401, _error(401, "authentication_error"), AttemptOutcome.AUTH_ERROR),
        (403, _error(403, "brand_new_error"), AttemptOutcome.AUTH_ERROR),
        (400, _error(400, "invalid_request_error"), AttemptOutcome.BAD_RESPONSE),
        (405, _error(405, "invalid_request_error"), AttemptOutcome.BAD_RESPONSE),
        (429, _error(429, "rate_limit_error"), AttemptOutcome.THROTTLED),
        (500, _error(500, "api_error"), AttemptOutcome.TRANSIENT_ERROR),
        (502, b"<html>502</html>", AttemptOutcome.TRANSIENT_ERROR),
        (503, b"<html>503</html>", AttemptOutcome.TRANSIENT_ERROR),
        (200, _error(402, "payment_required"), AttemptOutcome.QUOTA_EXHAUSTED),
        (200, _error(404, "not_found"), AttemptOutcome.NOT_FOUND),
        (200, {"status": 500, "data": None}, AttemptOutcome.TRANSIENT_ERROR),
        (200, {"status": 200, "error": {"type": "mystery"}}, AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_error_reply(status: int, body: Any, outcome: AttemptOutcome) -> None:
    result = _finder(Vendor(status, body)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.emails == ()


def test_error_detail_names_type() -> None:
    result = _finder(Vendor(404, _error(404, "not_found"))).find(ADA, EMAIL)
    assert result.detail == "peopledatalabs answered HTTP 404 (not_found)"


def test_error_inside_200_detail() -> None:
    result = _finder(Vendor(200, _error(402, "payment_required"))).find(ADA, EMAIL)
    assert result.detail == "peopledatalabs answered status 402 inside HTTP 200 (payment_required)"


@pytest.mark.parametrize("body", [b"<html>ok</html>", b'{"status": 200, "data": {"work', {"status": 200}, [1, 2]])
def test_bad_response_shapes(body: Any) -> None:
    assert _finder(Vendor(200, body)).find(ADA, EMAIL).outcome is AttemptOutcome.BAD_RESPONSE


def test_throttled_retry_after_header() -> None:
    result = _finder(Vendor(429, _error(429, "rate_limit_error"), {"Retry-After": "12"})).find(ADA, EMAIL)
    assert result.retry_after_seconds == 12.0


def test_throttled_retry_after_from_reset_timestamp() -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = _finder(Vendor(429, _error(429, "rate_limit_error"), {"x-ratelimit-reset": reset})).find(ADA, EMAIL)
    assert result.retry_after_seconds is not None
    assert 27.0 <= result.retry_after_seconds <= 30.0


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        ('{"minute": 998, "day": null, "month": null}', 998),
        ("{'minute': 41, 'day': None, 'month': None}", 41),
        ("250", 250),
        ('{"day": 5}', None),
        ("lots", None),
    ],
)
def test_rate_limit_state_remaining(remaining: str, expected: int | None) -> None:
    state = rate_limit_state(httpx.Headers({"x-ratelimit-remaining": remaining}))
    assert (state.remaining if state is not None else None) == expected


def test_rate_limit_state_limit_and_reset() -> None:
    now = datetime(2026, 12, 4, 15, 0, 10, tzinfo=UTC)
    headers = httpx.Headers(
        {
            "x-ratelimit-limit": '{"minute": 1000, "day": null, "month": null}',
            "x-ratelimit-remaining": '{"minute": 990, "day": null, "month": null}',
            "x-ratelimit-reset": "2026-12-04T15:01:00Z",
        }
    )
    state = rate_limit_state(headers, now=now)
    assert state is not None
    assert state.limit == 1000
    assert state.remaining == 990
    assert state.reset_after_seconds == 50.0


@pytest.mark.parametrize(
    ("reset", "expected"),
    [("1796396460", 50.0), ("45", 45.0), ("2026-12-04T14:59:00Z", 0.0), ("2026-12-04T15:01:00", 50.0), ("soon", None)],
)
def test_rate_limit_state_reset_formats(reset: str, expected: float | None) -> None:
    now = datetime(2026, 12, 4, 15, 0, 10, tzinfo=UTC)
    state = rate_limit_state(httpx.Headers({"x-ratelimit-reset": reset}), now=now)
    assert (state.reset_after_seconds if state is not None else None) == expected


def test_rate_limit_state_absent() -> None:
    assert rate_limit_state(httpx.Headers({})) is None


def test_result_carries_rate_limit() -> None:
    headers = {"x-ratelimit-remaining": '{"minute": 12}', "x-ratelimit-limit": '{"minute": 100}'}
    result = _finder(Vendor(200, _body(), headers)).find(ADA, EMAIL)
    assert result.rate_limit is not None
    assert result.rate_limit.remaining == 12
    assert result.rate_limit.limit == 100


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT), (httpx.ConnectError("no"), AttemptOutcome.TRANSIENT_ERROR)],
)
def test_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _finder(raising(error)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status is None


def test_found_disposable_domain_verdict() -> None:
    [candidate] = _finder(Vendor(200, _body(work_email="ada@mailinator.com"))).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.DISPOSABLE
