from __future__ import annotations

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
from cascade.providers.lusha import INFO, LushaFinder, email_verdict
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
    country="US",
)
ADA_LINKEDIN_ONLY = NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b", country="US")


def _finder(handler: Handler) -> LushaFinder:
    return LushaFinder(mock_http(handler, INFO.default_base_url), {"api_key": "test-lusha-key"})


def _contact(phones: list[dict[str, Any]] | None = None, emails: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data = {"fullName": "Ada Quill", "phoneNumbers": phones or [], "emailAddresses": emails or []}
    return {"contact": {"data": data, "error": None, "isCreditCharged": True}}


def _phone(number: str, phone_type: str | None = "mobile", *, do_not_call: bool = False) -> dict[str, Any]:
    return {"number": number, "phoneType": phone_type, "doNotCall": do_not_call}


def _email(address: str, grade: str | None = "A+", email_type: str = "work") -> dict[str, Any]:
    return {"email": address, "emailType": email_type, "emailConfidence": grade}


@pytest.mark.parametrize(
    ("grade", "verdict"),
    [
        ("A+", EmailVerdict.VALID),
        ("A", EmailVerdict.VALID),
        ("a", EmailVerdict.VALID),
        ("B", EmailVerdict.UNKNOWN),
        ("C", EmailVerdict.UNKNOWN),
        ("D", EmailVerdict.UNKNOWN),
        ("Z", EmailVerdict.UNKNOWN),
        ("", EmailVerdict.UNKNOWN),
        (None, EmailVerdict.UNKNOWN),
    ],
)
def test_lusha_email_verdict(grade: str | None, verdict: EmailVerdict) -> None:
    assert email_verdict(grade) is verdict


def test_lusha_finder_satisfies_protocol() -> None:
    assert isinstance(_finder(Vendor(body=_contact())), ContactFinder)


def test_lusha_request_name_and_company() -> None:
    vendor = Vendor(body=_contact())
    _finder(vendor).find(ADA, BOTH)
    request = vendor.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/v2/person"
    assert request.headers["api_key"] == "test-lusha-key"
    assert dict(request.url.params) == {
        "firstName": "Ada",
        "lastName": "Quill",
        "companyName": "Quillon Widgets",
        "companyDomain": "quillon-widgets.de",
    }
    assert "revealPhones" not in request.url.params
    assert "revealEmails" not in request.url.params


def test_lusha_request_linkedin_only() -> None:
    vendor = Vendor(body=_contact())
    _finder(vendor).find(ADA_LINKEDIN_ONLY, PHONE)
    assert dict(vendor.requests[0].url.params) == {"linkedinUrl": "https://www.linkedin.com/in/ada-quill-4d52c31b"}


def test_lusha_name_without_company_not_called() -> None:
    vendor = Vendor(body=_contact())
    result = _finder(vendor).find(NormalisedPerson(first_name="Ada", last_name="Quill"), BOTH)
    assert vendor.requests == []
    assert result.outcome is AttemptOutcome.NOT_FOUND


@pytest.mark.parametrize(
    ("phone_type", "number", "line_type", "confidence"),
    [
        ("mobile", "+1 201-555-0123", LineType.MOBILE, 0.8),
        ("direct", "+1 201-555-0123", LineType.FIXED_LINE_OR_MOBILE, 0.7),
        ("work", "+1 201-555-0123", LineType.FIXED_LINE_OR_MOBILE, 0.4),
        ("satellite", "+1 201-555-0123", LineType.FIXED_LINE_OR_MOBILE, 0.5),
        (None, "+1 201-555-0123", LineType.FIXED_LINE_OR_MOBILE, 0.5),
        ("mobile", "+44 20 7946 0123", LineType.FIXED_LINE, 0.8),
        ("direct", "+33 6 12 34 56 78", LineType.MOBILE, 0.7),
    ],
)
def test_lusha_phone_type_mapping(phone_type: str | None, number: str, line_type: LineType, confidence: float) -> None:
    result = _finder(Vendor(body=_contact(phones=[_phone(number, phone_type)]))).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.FOUND
    phone = result.phones[0]
    assert phone.line_type is line_type
    assert phone.confidence == pytest.approx(confidence)
    assert phone.verdict is PhoneVerdict.VALID
    assert phone.vendor_type == phone_type


def test_lusha_phone_normalised_to_e164() -> None:
    result = _finder(Vendor(body=_contact(phones=[_phone("(201) 555-0123", "direct")]))).find(ADA, PHONE)
    assert result.phones[0].number == "+12015550123"


def test_lusha_phones_mobile_first() -> None:
    phones = [_phone("+44 20 7946 0123", "work"), _phone("+1 201-555-0124", "direct"), _phone("+33612345678", "mobile")]
    result = _finder(Vendor(body=_contact(phones=phones))).find(ADA, PHONE)
    assert [phone.vendor_type for phone in result.phones] == ["mobile", "direct", "work"]


def test_lusha_do_not_call_skipped() -> None:
    phones = [_phone("+33612345678", "mobile", do_not_call=True), _phone("+1 201-555-0124", "direct")]
    result = _finder(Vendor(body=_contact(phones=phones))).find(ADA, PHONE)
    assert [phone.number for phone in result.phones] == ["+12015550124"]
    assert result.detail is not None
    assert "do-not-call" in result.detail


def test_lusha_only_do_not_call_not_found() -> None:
    phones = [_phone("+33612345678", "mobile", do_not_call=True)]
    result = _finder(Vendor(body=_contact(phones=phones))).find(ADA, PHONE)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.phones == ()


def test_lusha_invalid_phone_kept_as_invalid() -> None:
    result = _finder(Vendor(body=_contact(phones=[_phone("+1 555", "mobile")]))).find(ADA, PHONE)
    assert result.phones[0].verdict is PhoneVerdict.INVALID
    assert result.phones[0].line_type is LineType.UNKNOWN


def test_lusha_email_found_with_grade() -> None:
    result = _finder(Vendor(body=_contact(emails=[_email("ada.quill@quillon-widgets.de", "A")]))).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    email = result.emails[0]
    assert email.address == "ada.quill@quillon-widgets.de"
    assert email.verdict is EmailVerdict.VALID
    assert email.vendor_status == "A"
    assert email.confidence == pytest.approx(0.85)


def test_lusha_emails_work_first() -> None:
    emails = [
        _email("ada.quill@gmail.com", "A+", "private"),
        _email("ada@quillon-widgets.de", "B", "work"),
        _email("ada.quill@quillon-widgets.de", "A", "work"),
    ]
    result = _finder(Vendor(body=_contact(emails=emails))).find(ADA, EMAIL)
    assert [email.address for email in result.emails] == [
        "ada.quill@quillon-widgets.de",
        "ada@quillon-widgets.de",
        "ada.quill@gmail.com",
    ]
    assert EmailFlag.FREE_MAIL in result.emails[2].flags


def test_lusha_unparseable_email_skipped() -> None:
    emails = [_email("not-an-address"), _email("ada.quill@quillon-widgets.de")]
    result = _finder(Vendor(body=_contact(emails=emails))).find(ADA, EMAIL)
    assert [email.address for email in result.emails] == ["ada.quill@quillon-widgets.de"]


def test_lusha_fields_filter_candidates() -> None:
    body = _contact(phones=[_phone("+33612345678")], emails=[_email("ada.quill@quillon-widgets.de")])
    phone_only = _finder(Vendor(body=body)).find(ADA, PHONE)
    both = _finder(Vendor(body=body)).find(ADA, BOTH)
    assert phone_only.emails == ()
    assert len(phone_only.phones) == 1
    assert len(both.emails) == 1
    assert len(both.phones) == 1


def test_lusha_requested_field_missing_not_found() -> None:
    body = _contact(emails=[_email("ada.quill@quillon-widgets.de")])
    assert _finder(Vendor(body=body)).find(ADA, PHONE).outcome is AttemptOutcome.NOT_FOUND


@pytest.mark.parametrize(
    "contact",
    [
        {"data": None, "error": {"code": "NOT_FOUND", "message": "Could not find requested data"}},
        {"data": None, "error": {"code": 3, "name": "EMPTY_DATA", "message": "x"}},
        {"data": None, "error": None, "isCreditCharged": False},
        {"error": "Ada Quill not found"},
    ],
)
def test_lusha_contact_error_not_found(contact: dict[str, Any]) -> None:
    result = _finder(Vendor(body={"contact": contact})).find(ADA, BOTH)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.http_status == 200
    assert "Ada" not in (result.detail or "")


def test_lusha_contact_error_code_in_detail() -> None:
    body = {"contact": {"data": None, "error": {"code": "NOT_FOUND", "message": "Ada Quill not found"}}}
    detail = _finder(Vendor(body=body)).find(ADA, BOTH).detail or ""
    assert "NOT_FOUND" in detail
    assert "Ada" not in detail


@pytest.mark.parametrize(
    "body",
    [
        {"data": {}},
        {"contact": "Ada Quill"},
        {"contact": {"data": "Ada Quill", "error": None}},
        {"contact": {"data": {"phoneNumbers": "+33612345678"}, "error": None}},
        [1],
    ],
)
def test_lusha_bad_structure(body: Any) -> None:
    assert _finder(Vendor(body=body)).find(ADA, BOTH).outcome is AttemptOutcome.BAD_RESPONSE


def test_lusha_malformed_body() -> None:
    assert _finder(Vendor(body=b'{"contact": {"da')).find(ADA, BOTH).outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, AttemptOutcome.BAD_RESPONSE),
        (401, AttemptOutcome.AUTH_ERROR),
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (403, AttemptOutcome.AUTH_ERROR),
        (404, AttemptOutcome.BAD_RESPONSE),
        (412, AttemptOutcome.BAD_RESPONSE),
        (422, AttemptOutcome.BAD_RESPONSE),
        (429, AttemptOutcome.THROTTLED),
        (451, AttemptOutcome.NOT_FOUND),
        (499, AttemptOutcome.TIMEOUT),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (502, AttemptOutcome.TRANSIENT_ERROR),
        (503, AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_lusha_status_outcome(status: int, outcome: AttemptOutcome) -> None:
    body = {"statusCode": status, "message": "Something about Ada Quill", "errors": []}
    result = _finder(Vendor(status=status, body=body)).find(ADA, BOTH)
    assert result.outcome is outcome
    assert result.http_status == status
    assert "Ada" not in (result.detail or "")


def test_lusha_throttled_retry_after_and_budget() -> None:
    headers = {
        "Retry-After": "9",
        "x-rate-limit-minute": "300",
        "x-minute-requests-left": "0",
        "x-rate-limit-daily": "50000",
        "x-daily-requests-left": "49000",
    }
    result = _finder(Vendor(status=429, body={"statusCode": 429}, headers=headers)).find(ADA, BOTH)
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 9.0
    assert result.rate_limit is not None
    assert result.rate_limit.remaining == 0
    assert result.rate_limit.limit == 300


def test_lusha_budget_lowest_window() -> None:
    headers = {
        "x-rate-limit-minute": "300",
        "x-minute-requests-left": "250",
        "x-rate-limit-hourly": "5000",
        "x-hourly-requests-left": "12",
    }
    body = _contact(phones=[_phone("+33612345678")])
    state = _finder(Vendor(body=body, headers=headers)).find(ADA, PHONE).rate_limit
    assert state is not None
    assert state.remaining == 12
    assert state.limit == 5000


def test_lusha_budget_absent() -> None:
    assert _finder(Vendor(body=_contact(phones=[_phone("+33612345678")]))).find(ADA, PHONE).rate_limit is None


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_lusha_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    assert _finder(raising(error)).find(ADA, BOTH).outcome is outcome


def test_lusha_missing_key_rejected() -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1, read_timeout=2)
    with pytest.raises(ValueError, match="api_key"):
        LushaFinder(http, {"token": "x"})


@settings(max_examples=200, deadline=None)
@given(
    status=STATUSES,
    body=JSON
    | st.fixed_dictionaries(
        {
            "contact": st.fixed_dictionaries(
                {
                    "error": JSON,
                    "data": st.fixed_dictionaries(
                        {
                            "phoneNumbers": st.lists(
                                st.fixed_dictionaries({"number": JSON, "phoneType": JSON, "doNotCall": JSON}),
                                max_size=3,
                            )
                            | JSON,
                            "emailAddresses": st.lists(
                                st.fixed_dictionaries({"email": JSON, "emailType": JSON, "emailConfidence": JSON}),
                                max_size=3,
                            )
                            | JSON,
                        }
                    ),
                }
            )
        }
    ),
)
def test_lusha_any_reply_never_raises(status: int, body: Any) -> None:
    result = _finder(Vendor(status=status, body=body)).find(ADA, BOTH)
    assert isinstance(result.outcome, AttemptOutcome)
    assert result.outcome is not AttemptOutcome.FOUND or result.found_anything
