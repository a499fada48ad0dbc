from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.models import AttemptOutcome, PhoneVerdict
from cascade.normalise.phones import LineType
from cascade.providers.base import PhoneValidator
from cascade.providers.http import ProviderHttp
from cascade.providers.twilio import INFO, TwilioLookup, line_type
from tests.unit.providers.support import JSON, STATUSES, Handler, Vendor, mock_http, raising

CREDENTIALS = {"account_sid": "ACtest0000000000000000000000000000", "auth_token": "test-token"}


def _lookup(handler: Handler) -> TwilioLookup:
    return TwilioLookup(mock_http(handler, INFO.default_base_url), CREDENTIALS)


def _answer(
    number: str = "+12015550123", twilio_type: str | None = "mobile", carrier: str | None = "Sandbox Mobile"
) -> dict[str, Any]:
    return {
        "calling_country_code": "1",
        "country_code": "US",
        "phone_number": number,
        "national_format": "(201) 555-0123",
        "valid": True,
        "validation_errors": [],
        "line_type_intelligence": {
            "mobile_country_code": "001",
            "mobile_network_code": "01",
            "carrier_name": carrier,
            "type": twilio_type,
            "error_code": None,
        },
        "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
    }


def _twilio_error(status: int, code: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": "Error",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.mark.parametrize(
    ("twilio_type", "expected"),
    [
        ("landline", LineType.FIXED_LINE),
        ("mobile", LineType.MOBILE),
        ("fixedVoip", LineType.VOIP),
        ("nonFixedVoip", LineType.VOIP),
        ("personal", LineType.PERSONAL_NUMBER),
        ("tollFree", LineType.TOLL_FREE),
        ("premium", LineType.PREMIUM_RATE),
        ("sharedCost", LineType.SHARED_COST),
        ("uan", LineType.UAN),
        ("voicemail", LineType.VOICEMAIL),
        ("pager", LineType.PAGER),
        ("unknown", LineType.UNKNOWN),
        ("satellite", LineType.UNKNOWN),
        ("", LineType.UNKNOWN),
        (None, LineType.UNKNOWN),
    ],
)
def test_twilio_line_type(twilio_type: str | None, expected: LineType) -> None:
    assert line_type(twilio_type) is expected


def test_twilio_lookup_satisfies_protocol() -> None:
    assert isinstance(_lookup(Vendor(body=_answer())), PhoneValidator)


def test_twilio_request_shape() -> None:
    vendor = Vendor(body=_answer())
    _lookup(vendor).lookup("+12015550123")
    assert len(vendor.requests) == 1
    request = vendor.requests[0]
    assert request.method == "GET"
    assert request.url.raw_path == b"/v2/PhoneNumbers/%2B12015550123?Fields=line_type_intelligence"
    expected = base64.b64encode(b"ACtest0000000000000000000000000000:test-token").decode()
    assert request.headers["authorization"] == f"Basic {expected}"


def test_twilio_valid_mobile() -> None:
    result = _lookup(Vendor(body=_answer())).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.FOUND
    assert result.e164 == "+12015550123"
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is LineType.MOBILE
    assert result.vendor_type == "mobile"
    assert result.carrier == "Sandbox Mobile"
    assert result.http_status == 200
    assert result.detail is None


def test_twilio_valid_landline_without_carrier() -> None:
    result = _lookup(Vendor(body=_answer(twilio_type="tollFree", carrier=None))).lookup("+18005550199")
    assert result.line_type is LineType.TOLL_FREE
    assert result.carrier is None


def test_twilio_unknown_type_kept_raw() -> None:
    result = _lookup(Vendor(body=_answer(twilio_type="satellite"))).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.FOUND
    assert result.line_type is LineType.UNKNOWN
    assert result.vendor_type == "satellite"


def test_twilio_invalid_number_is_found() -> None:
    body = {"phone_number": "+4412", "valid": False, "validation_errors": ["TOO_SHORT"], "line_type_intelligence": None}
    result = _lookup(Vendor(body=body)).lookup("+4412")
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is PhoneVerdict.INVALID
    assert result.line_type is LineType.UNKNOWN
    assert result.detail is not None
    assert "TOO_SHORT" in result.detail


def test_twilio_validation_errors_filtered() -> None:
    body = {"phone_number": "+4412", "valid": False, "validation_errors": ["+44 12 is odd", "TOO_SHORT"]}
    detail = _lookup(Vendor(body=body)).lookup("+4412").detail or ""
    assert "+44" not in detail
    assert "TOO_SHORT" in detail


def test_twilio_line_type_error_in_200() -> None:
    body = _answer()
    body["line_type_intelligence"] = {"type": None, "carrier_name": None, "error_code": 60600}
    result = _lookup(Vendor(body=body)).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is PhoneVerdict.VALID
    assert result.line_type is LineType.UNKNOWN
    assert result.detail is not None
    assert "60600" in result.detail


def test_twilio_line_type_missing() -> None:
    body = _answer()
    body["line_type_intelligence"] = None
    result = _lookup(Vendor(body=body)).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.FOUND
    assert result.line_type is LineType.UNKNOWN


def test_twilio_unparseable_number_404() -> None:
    result = _lookup(Vendor(status=404, body=_twilio_error(404, 20404))).lookup("abc")
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.verdict is PhoneVerdict.INVALID
    assert result.http_status == 404


def test_twilio_404_without_twilio_body() -> None:
    result = _lookup(Vendor(status=404, body={"error": "no route"})).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.BAD_RESPONSE
    assert result.verdict is PhoneVerdict.UNKNOWN


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (400, 60200, AttemptOutcome.BAD_RESPONSE),
        (401, 20003, AttemptOutcome.AUTH_ERROR),
        (401, 20005, AttemptOutcome.QUOTA_EXHAUSTED),
        (403, 20003, AttemptOutcome.AUTH_ERROR),
        (429, 20429, AttemptOutcome.THROTTLED),
        (500, 20500, AttemptOutcome.TRANSIENT_ERROR),
        (503, 20503, AttemptOutcome.TRANSIENT_ERROR),
        (200, 20429, AttemptOutcome.THROTTLED),
        (200, 99999, AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_twilio_error_code_outcome(status: int, code: int, outcome: AttemptOutcome) -> None:
    result = _lookup(Vendor(status=status, body=_twilio_error(status, code))).lookup("+12015550123")
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.detail is not None
    assert str(code) in result.detail


def test_twilio_error_body_in_200_uses_embedded_status() -> None:
    result = _lookup(Vendor(body=_twilio_error(503, 12345))).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.TRANSIENT_ERROR


def test_twilio_502_html_body() -> None:
    result = _lookup(Vendor(status=502, body=b"<html>502 Bad Gateway</html>")).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.TRANSIENT_ERROR


def test_twilio_throttled_retry_after() -> None:
    vendor = Vendor(status=429, body=_twilio_error(429, 20429), headers={"Retry-After": "4"})
    result = _lookup(vendor).lookup("+12015550123")
    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 4.0


@pytest.mark.parametrize(
    "body",
    [b'{"phone_number": "+1201', {"phone_number": "+12015550123"}, {"valid": "yes"}, ["valid"]],
)
def test_twilio_bad_response(body: Any) -> None:
    assert _lookup(Vendor(body=body)).lookup("+12015550123").outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_twilio_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _lookup(raising(error)).lookup("+12015550123")
    assert result.outcome is outcome
    assert result.verdict is PhoneVerdict.UNKNOWN


@pytest.mark.parametrize("credentials", [{}, {"account_sid": "AC1"}, {"auth_token": "t"}, {"api_key": "k"}])
def test_twilio_missing_credentials_rejected(credentials: dict[str, str]) -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1, read_timeout=2)
    with pytest.raises(ValueError, match="account_sid"):
        TwilioLookup(http, credentials)


@settings(max_examples=200, deadline=None)
@given(
    status=STATUSES,
    body=JSON
    | st.fixed_dictionaries(
        {
            "valid": JSON,
            "phone_number": JSON,
            "validation_errors": JSON,
            "line_type_intelligence": JSON
            | st.fixed_dictionaries({"type": JSON, "carrier_name": JSON, "error_code": JSON}),
            "code": JSON,
            "status": JSON,
        }
    ),
)
def test_twilio_any_reply_never_raises(status: int, body: Any) -> None:
    result = _lookup(Vendor(status=status, body=body)).lookup("+12015550123")
    assert isinstance(result.outcome, AttemptOutcome)
    assert isinstance(result.line_type, LineType)
