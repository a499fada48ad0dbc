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
from cascade.providers.findymail import INFO, FindymailFinder, email_verdict, error_outcome
from cascade.providers.http import ProviderHttp
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
ADA_BY_NAME = NormalisedPerson(
    first_name="Ada", last_name="Quill", full_name="Ada Quill", company_domain="quillon-widgets.de", country="DE"
)


def _finder(handler: Handler) -> FindymailFinder:
    return FindymailFinder(mock_http(handler, INFO.default_base_url), {"api_key": "test-findymail-key"})


def _contact(address: str = "ada.quill@quillon-widgets.de", **extra: Any) -> dict[str, Any]:
    return {"contact": {"name": "Ada Quill", "domain": "quillon-widgets.de", "email": address, **extra}}


@pytest.mark.parametrize(
    ("contact", "verdict", "status"),
    [
        ({"email": "a@b.de"}, EmailVerdict.VALID, "verified"),
        ({"email": "a@b.de", "verified": True}, EmailVerdict.VALID, "verified"),
        ({"email": "a@b.de", "verified": False}, EmailVerdict.UNKNOWN, "unverified"),
        ({"email": "a@b.de", "verified": "maybe"}, EmailVerdict.UNKNOWN, "unknown"),
        ({"email": "a@b.de", "verified": None}, EmailVerdict.UNKNOWN, "unknown"),
    ],
)
def test_findymail_email_verdict(contact: dict[str, Any], verdict: EmailVerdict, status: str) -> None:
    assert email_verdict(contact) == (verdict, status)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        ("Not enough credits", AttemptOutcome.QUOTA_EXHAUSTED),
        ("not enough credits", AttemptOutcome.BAD_RESPONSE),
        ("Something else went wrong", AttemptOutcome.BAD_RESPONSE),
        ("", AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_findymail_error_outcome(error: str, outcome: AttemptOutcome) -> None:
    assert error_outcome(error) is outcome


def test_findymail_finder_satisfies_protocol() -> None:
    assert isinstance(_finder(Vendor(body=_contact())), ContactFinder)


def test_findymail_request_prefers_linkedin() -> None:
    vendor = Vendor(body=_contact())
    _finder(vendor).find(ADA, EMAIL)
    request = vendor.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/api/search/linkedin"
    assert request.headers["authorization"] == "Bearer test-findymail-key"
    assert json.loads(request.content) == {"linkedin_url": "https://www.linkedin.com/in/ada-quill-4d52c31b"}


def test_findymail_request_name_and_domain() -> None:
    vendor = Vendor(body=_contact())
    _finder(vendor).find(ADA_BY_NAME, EMAIL)
    request = vendor.requests[0]
    assert request.url.path == "/api/search/name"
    assert json.loads(request.content) == {"name": "Ada Quill", "domain": "quillon-widgets.de"}


def test_findymail_request_company_name_as_domain() -> None:
    vendor = Vendor(body=_contact())
    person = NormalisedPerson(first_name="Ada", last_name="Quill", company_name="Quillon Widgets")
    _finder(vendor).find(person, EMAIL)
    assert json.loads(vendor.requests[0].content) == {"name": "Ada Quill", "domain": "Quillon Widgets"}


def test_findymail_request_phone_search() -> None:
    vendor = Vendor(body={"phone": "+33612345678"})
    _finder(vendor).find(ADA, PHONE)
    request = vendor.requests[0]
    assert request.url.path == "/api/search/phone"
    assert json.loads(request.content) == {"linkedin_url": "https://www.linkedin.com/in/ada-quill-4d52c31b"}


def test_findymail_request_both_fields_asks_email() -> None:
    vendor = Vendor(body=_contact())
    _finder(vendor).find(ADA, BOTH)
    assert len(vendor.requests) == 1
    assert vendor.requests[0].url.path == "/api/search/linkedin"


def test_findymail_phone_without_linkedin_not_called() -> None:
    vendor = Vendor(body={})
    result = _finder(vendor).find(ADA_BY_NAME, PHONE)
    assert vendor.requests == []
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_findymail_email_found() -> None:
    result = _finder(Vendor(body=_contact())).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    candidate = result.emails[0]
    assert candidate.address == "ada.quill@quillon-widgets.de"
    assert candidate.verdict is EmailVerdict.VALID
    assert candidate.vendor_status == "verified"
    assert candidate.confidence == pytest.approx(0.9)
    assert result.phones == ()


def test_findymail_email_flags() -> None:
    role = _finder(Vendor(body=_contact("info@quillon-widgets.de"))).find(ADA, EMAIL)
    free = _finder(Vendor(body=_contact("ada.quill@outlook.com"))).find(ADA, EMAIL)
    assert EmailFlag.ROLE in role.emails[0].flags
    assert EmailFlag.FREE_MAIL in free.emails[0].flags


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"contact": None}),
        (200, {}),
        (200, {"contact": {"name": "Ada Quill", "email": None}}),
        (200, {"contact": {"name": "Ada Quill", "email": ""}}),
        (404, {"error": "Contact not found"}),
    ],
)
def test_findymail_email_not_found(status: int, body: dict[str, Any]) -> None:
    result = _finder(Vendor(status=status, body=body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()


@pytest.mark.parametrize(
    "body",
    [
        {"contact": "ada.quill@quillon-widgets.de"},
        {"contact": {"email": 7}},
        {"contact": {"email": "no at sign"}},
        ["contact"],
    ],
)
def test_findymail_email_bad_structure(body: Any) -> None:
    assert _finder(Vendor(body=body)).find(ADA, EMAIL).outcome is AttemptOutcome.BAD_RESPONSE


def test_findymail_malformed_body() -> None:
    assert _finder(Vendor(body=b'{"contact": {"em')).find(ADA, EMAIL).outcome is AttemptOutcome.BAD_RESPONSE


def test_findymail_credit_error_in_200() -> None:
    result = _finder(Vendor(body={"error": "Not enough credits"})).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.QUOTA_EXHAUSTED
    assert result.http_status == 200
    assert result.detail is not None
    assert "Not enough credits" in result.detail


def test_findymail_unknown_error_in_200() -> None:
    result = _finder(Vendor(body={"error": "Ada Quill is on a blocklist"})).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.BAD_RESPONSE
    assert result.detail is not None
    assert "Ada" not in result.detail


def test_findymail_error_beats_contact_in_200() -> None:
    body = {"error": "Not enough credits", **_contact()}
    assert _finder(Vendor(body=body)).find(ADA, EMAIL).outcome is AttemptOutcome.QUOTA_EXHAUSTED


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, AttemptOutcome.BAD_RESPONSE),
        (401, AttemptOutcome.AUTH_ERROR),
        (403, AttemptOutcome.AUTH_ERROR),
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (404, AttemptOutcome.NOT_FOUND),
        (422, AttemptOutcome.BAD_RESPONSE),
        (429, AttemptOutcome.THROTTLED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (502, AttemptOutcome.TRANSIENT_ERROR),
        (503, AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_findymail_status_outcome(status: int, outcome: AttemptOutcome) -> None:
    result = _finder(Vendor(status=status, body={"error": "The name field is required."})).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status


def test_findymail_credit_error_on_other_4xx() -> None:
    result = _finder(Vendor(status=400, body={"error": "Not enough credits"})).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.QUOTA_EXHAUSTED


def test_findymail_throttled_retry_after() -> None:
    vendor = Vendor(status=429, body={"error": "Too Many Attempts."}, headers={"Retry-After": "12"})
    result = _finder(vendor).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 12.0


def test_findymail_phone_found_keeps_plan_type() -> None:
    result = _finder(Vendor(body={"phone": "+1 (201) 555-0123"})).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    phone = result.phones[0]
    assert phone.number == "+12015550123"
    assert phone.line_type is LineType.FIXED_LINE_OR_MOBILE
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.vendor_type is None


def test_findymail_phone_inside_contact() -> None:
    result = _finder(Vendor(body={"contact": {"phone": "+33612345678"}})).find(ADA, PHONE)
    assert result.phones[0].number == "+33612345678"
    assert result.phones[0].line_type is LineType.MOBILE


def test_findymail_phone_invalid_number() -> None:
    result = _finder(Vendor(body={"phone": "+49 12"})).find(ADA, PHONE)
    assert result.phones[0].verdict is PhoneVerdict.INVALID


@pytest.mark.parametrize(("status", "body"), [(404, {"error": "No phone found"}), (200, {"phone": None}), (200, {})])
def test_findymail_phone_not_found(status: int, body: dict[str, Any]) -> None:
    assert _finder(Vendor(status=status, body=body)).find(ADA, PHONE).outcome is AttemptOutcome.NOT_FOUND


def test_findymail_phone_bad_type() -> None:
    assert _finder(Vendor(body={"phone": ["+33612345678"]})).find(ADA, PHONE).outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_findymail_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    assert _finder(raising(error)).find(ADA, EMAIL).outcome is outcome


def test_findymail_missing_key_rejected() -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1, read_timeout=2)
    with pytest.raises(ValueError, match="api_key"):
        FindymailFinder(http, {"api_key": "  "})


@settings(max_examples=200, deadline=None)
@given(
    status=STATUSES,
    body=JSON
    | st.fixed_dictionaries(
        {"contact": JSON | st.fixed_dictionaries({"email": JSON, "verified": JSON}), "phone": JSON, "error": JSON}
    ),
    fields=st.sampled_from([EMAIL, PHONE]),
)
def test_findymail_any_reply_never_raises(status: int, body: Any, fields: frozenset[RequestedField]) -> None:
    result = _finder(Vendor(status=status, body=body)).find(ADA, fields)
    assert isinstance(result.outcome, AttemptOutcome)
    assert result.outcome is not AttemptOutcome.FOUND or result.found_anything
