from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.models import (
    AttemptOutcome,
    EmailFlag,
    EmailVerdict,
    NormalisedPerson,
    PhoneVerdict,
    RequestedField,
)
from cascade.normalise.phones import LineType
from cascade.providers.base import ContactFinder
from cascade.providers.http import ProviderHttp
from cascade.providers.leadmagic import INFO, LeadMagicFinder, email_verdict
from tests.unit.providers.support import JSON, STATUSES, Handler, Vendor, mock_http, raising

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
ADA_LINKEDIN_ONLY = NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b", country="US")


def _finder(handler: Handler) -> LeadMagicFinder:
    return LeadMagicFinder(mock_http(handler, INFO.default_base_url), {"api_key": "test-leadmagic-key"})


def _found_email(address: str = "ada.quill@quillon-widgets.de", status: str = "valid") -> dict[str, Any]:
    return {"email": address, "status": status, "credits_consumed": 1, "message": "Email found"}


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("valid", EmailVerdict.VALID),
        ("valid_catch_all", EmailVerdict.CATCH_ALL),
        ("catch_all", EmailVerdict.CATCH_ALL),
        ("invalid", EmailVerdict.INVALID),
        ("unknown", EmailVerdict.UNKNOWN),
        ("VALID", EmailVerdict.VALID),
        ("risky_new_status", EmailVerdict.UNKNOWN),
        ("", EmailVerdict.UNKNOWN),
        (None, EmailVerdict.UNKNOWN),
    ],
)
def test_leadmagic_email_verdict(status: str | None, verdict: EmailVerdict) -> None:
    assert email_verdict(status) is verdict


def test_leadmagic_finder_satisfies_protocol() -> None:
    assert isinstance(_finder(Vendor(body=_found_email())), ContactFinder)


def test_leadmagic_info_records_v1_paths() -> None:
    assert INFO.name == "leadmagic"
    assert INFO.api_version == "v1"
    assert INFO.extra["path_set"] == "/v1"
    assert INFO.default_base_url == "https://api.leadmagic.io"


def test_leadmagic_request_name_and_domain() -> None:
    vendor = Vendor(body=_found_email())
    _finder(vendor).find(ADA, EMAIL)
    assert len(vendor.requests) == 1
    request = vendor.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/v1/people/email-finder"
    assert request.headers["x-api-key"] == "test-leadmagic-key"
    assert json.loads(request.content) == {"first_name": "Ada", "last_name": "Quill", "domain": "quillon-widgets.de"}


def test_leadmagic_request_company_name_without_domain() -> None:
    vendor = Vendor(body=_found_email())
    person = NormalisedPerson(first_name="Ada", last_name="Quill", company_name="Quillon Widgets")
    _finder(vendor).find(person, EMAIL)
    assert json.loads(vendor.requests[0].content) == {
        "first_name": "Ada",
        "last_name": "Quill",
        "company_name": "Quillon Widgets",
    }


def test_leadmagic_request_linkedin_only_email() -> None:
    vendor = Vendor(body={"email": None, "profile_url": ADA_LINKEDIN_ONLY.linkedin_url, "credits_consumed": 0})
    _finder(vendor).find(ADA_LINKEDIN_ONLY, EMAIL)
    request = vendor.requests[0]
    assert request.url.path == "/v1/people/b2b-profile-email"
    assert json.loads(request.content) == {"profile_url": "https://www.linkedin.com/in/ada-quill-4d52c31b"}


def test_leadmagic_request_phone_uses_mobile_finder() -> None:
    vendor = Vendor(body={"mobile_number": None, "credits_consumed": 0, "message": "mobile not found"})
    _finder(vendor).find(ADA, PHONE)
    request = vendor.requests[0]
    assert request.url.path == "/v1/people/mobile-finder"
    assert json.loads(request.content) == {"profile_url": "https://www.linkedin.com/in/ada-quill-4d52c31b"}


def test_leadmagic_request_both_fields_asks_email() -> None:
    vendor = Vendor(body=_found_email())
    _finder(vendor).find(ADA, BOTH)
    assert len(vendor.requests) == 1
    assert vendor.requests[0].url.path == "/v1/people/email-finder"


def test_leadmagic_phone_without_linkedin_not_called() -> None:
    vendor = Vendor(body={})
    person = NormalisedPerson(first_name="Ada", last_name="Quill", company_domain="quillon-widgets.de")
    result = _finder(vendor).find(person, PHONE)
    assert vendor.requests == []
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status is None


def test_leadmagic_email_found() -> None:
    result = _finder(Vendor(body=_found_email())).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert len(result.emails) == 1
    candidate = result.emails[0]
    assert candidate.address == "ada.quill@quillon-widgets.de"
    assert candidate.verdict is EmailVerdict.VALID
    assert candidate.vendor_status == "valid"
    assert candidate.confidence == pytest.approx(0.95)
    assert candidate.flags == frozenset()
    assert result.http_status == 200
    assert result.phones == ()


def test_leadmagic_email_catch_all_lower_confidence() -> None:
    result = _finder(Vendor(body=_found_email(status="catch_all"))).find(ADA, EMAIL)
    candidate = result.emails[0]
    assert candidate.verdict is EmailVerdict.CATCH_ALL
    assert candidate.confidence < 0.95


def test_leadmagic_email_unknown_status_kept() -> None:
    result = _finder(Vendor(body=_found_email(status="brand_new"))).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].verdict is EmailVerdict.UNKNOWN
    assert result.emails[0].vendor_status == "brand_new"


def test_leadmagic_email_role_and_free_mail_flags() -> None:
    role = _finder(Vendor(body=_found_email("sales@quillon-widgets.de"))).find(ADA, EMAIL)
    free = _finder(Vendor(body=_found_email("ada.quill@gmail.com"))).find(ADA, EMAIL)
    assert EmailFlag.ROLE in role.emails[0].flags
    assert EmailFlag.FREE_MAIL in free.emails[0].flags


def test_leadmagic_profile_email_without_status() -> None:
    body = {
        "email": "ada.quill@quillon-widgets.de",
        "profile_url": "x",
        "credits_consumed": 5,
        "message": "Email found.",
    }
    result = _finder(Vendor(body=body)).find(ADA_LINKEDIN_ONLY, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.emails[0].verdict is EmailVerdict.UNKNOWN
    assert result.emails[0].vendor_status is None
    assert result.emails[0].confidence == pytest.approx(0.6)


@pytest.mark.parametrize(
    "body",
    [
        {"email": None, "status": "not_found", "credits_consumed": 0, "message": "No email found"},
        {"email": "", "credits_consumed": 0},
        {"email": "ada.quill@quillon-widgets.de", "status": "not_found"},
    ],
)
def test_leadmagic_email_not_found(body: dict[str, Any]) -> None:
    result = _finder(Vendor(body=body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()


@pytest.mark.parametrize(
    "body",
    [
        {"status": "valid", "credits_consumed": 1},
        {"email": 42, "status": "valid"},
        {"email": "not an address", "status": "valid"},
        [1, 2, 3],
    ],
)
def test_leadmagic_email_bad_structure(body: Any) -> None:
    assert _finder(Vendor(body=body)).find(ADA, EMAIL).outcome is AttemptOutcome.BAD_RESPONSE


def test_leadmagic_malformed_body() -> None:
    result = _finder(Vendor(body=b'{"email": "ada.qu')).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.BAD_RESPONSE


def test_leadmagic_mobile_settles_shared_plan() -> None:
    body = {"mobile_number": "+1 201-555-0123", "credits_consumed": 5, "message": "Mobile found"}
    result = _finder(Vendor(body=body)).find(ADA_LINKEDIN_ONLY, PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    phone = result.phones[0]
    assert phone.number == "+12015550123"
    assert phone.line_type is LineType.MOBILE
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.vendor_type == "mobile"


def test_leadmagic_mobile_does_not_override_plan() -> None:
    body = {"mobile_number": "+442079460123", "credits_consumed": 5, "message": "Mobile found"}
    result = _finder(Vendor(body=body)).find(ADA, PHONE)
    assert result.phones[0].line_type is LineType.FIXED_LINE


def test_leadmagic_mobile_invalid_number() -> None:
    body = {"mobile_number": "+4412", "credits_consumed": 5}
    result = _finder(Vendor(body=body)).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.phones[0].verdict is PhoneVerdict.INVALID
    assert result.phones[0].line_type is LineType.UNKNOWN


def test_leadmagic_mobile_national_without_country_unknown() -> None:
    body = {"mobile_number": "0301234567", "credits_consumed": 5}
    person = NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b")
    result = _finder(Vendor(body=body)).find(person, PHONE)
    assert result.phones[0].verdict is PhoneVerdict.UNKNOWN


def test_leadmagic_mobile_not_found() -> None:
    body = {"mobile_number": None, "credits_consumed": 0, "message": "mobile not found"}
    result = _finder(Vendor(body=body)).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_leadmagic_mobile_missing_field() -> None:
    result = _finder(Vendor(body={"credits_consumed": 0})).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.BAD_RESPONSE


def _problem(status: int, code: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"type": "about:blank", "title": "Error", "status": status, "code": code, "docs": "x"}],
        "meta": {"request_id": "req-1", "timestamp": "2026-12-04T15:00:00Z"},
    }


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, AttemptOutcome.BAD_RESPONSE),
        (401, AttemptOutcome.AUTH_ERROR),
        (403, AttemptOutcome.AUTH_ERROR),
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (404, AttemptOutcome.BAD_RESPONSE),
        (422, AttemptOutcome.BAD_RESPONSE),
        (429, AttemptOutcome.THROTTLED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (502, AttemptOutcome.TRANSIENT_ERROR),
        (503, AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_leadmagic_status_outcome(status: int, outcome: AttemptOutcome) -> None:
    result = _finder(Vendor(status=status, body=_problem(status, "some_code"))).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.detail is not None
    assert "some_code" in result.detail


def test_leadmagic_throttled_retry_after() -> None:
    vendor = Vendor(status=429, body=_problem(429, "rate_limited"), headers={"Retry-After": "7"})
    result = _finder(vendor).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 7.0


@pytest.mark.parametrize(
    ("embedded", "outcome"),
    [
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (404, AttemptOutcome.BAD_RESPONSE),
        ("odd", AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_leadmagic_error_envelope_in_200(embedded: Any, outcome: AttemptOutcome) -> None:
    body = _problem(500, "internal_error")
    body["errors"][0]["status"] = embedded
    result = _finder(Vendor(body=body)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == 200


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_leadmagic_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _finder(raising(error)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status is None


def test_leadmagic_detail_has_no_personal_data() -> None:
    bodies = [
        _found_email(),
        {"email": None, "status": "not_found", "first_name": "Ada", "last_name": "Quill"},
        _problem(400, "ada.quill@quillon-widgets.de"),
    ]
    for body in bodies:
        detail = _finder(Vendor(status=400 if "errors" in body else 200, body=body)).find(ADA, EMAIL).detail or ""
        assert "Ada" not in detail
        assert "Quill" not in detail
        assert "quillon" not in detail


def test_leadmagic_rate_limit_headers_read() -> None:
    vendor = Vendor(body=_found_email(), headers={"X-RateLimit-Remaining": "41", "X-RateLimit-Limit": "300"})
    state = _finder(vendor).find(ADA, EMAIL).rate_limit
    assert state is not None
    assert state.remaining == 41
    assert state.limit == 300


def test_leadmagic_missing_key_rejected() -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1, read_timeout=2)
    with pytest.raises(ValueError, match="api_key"):
        LeadMagicFinder(http, {})


@settings(max_examples=200, deadline=None)
@given(
    status=STATUSES,
    body=JSON
    | st.fixed_dictionaries({"email": JSON, "status": JSON, "mobile_number": JSON, "success": JSON, "errors": JSON}),
    fields=st.sampled_from([EMAIL, PHONE]),
)
def test_leadmagic_any_reply_never_raises(status: int, body: Any, fields: frozenset[RequestedField]) -> None:
    result = _finder(Vendor(status=status, body=body)).find(ADA, fields)
    assert isinstance(result.outcome, AttemptOutcome)
    assert result.outcome is not AttemptOutcome.FOUND or result.found_anything
