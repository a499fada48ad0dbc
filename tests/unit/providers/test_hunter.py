from __future__ import annotations

from typing import Any

import httpx
import pytest

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict, NormalisedPerson, RequestedField
from cascade.providers.http import ProviderHttp
from cascade.providers.hunter import INFO, HunterFinder, email_verdict
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

KEY = "unit-hunter-key"
EMAIL = frozenset({RequestedField.EMAIL})
ADA = NormalisedPerson(
    first_name="Ada",
    last_name="Quill",
    full_name="Ada Quill",
    company_name="Quillon Widgets",
    company_domain="quillon-widgets.de",
    linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b",
)
FOUND_BODY: dict[str, Any] = {
    "data": {
        "first_name": "Ada",
        "last_name": "Quill",
        "email": "ada.quill@quillon-widgets.de",
        "score": 91,
        "domain": "quillon-widgets.de",
        "accept_all": False,
        "verification": {"date": "2025-06-02", "status": "valid"},
        "sources": [],
    },
    "meta": {"params": {}},
}


def _finder(handler: Handler, api_key: str = KEY) -> HunterFinder:
    return HunterFinder(mock_http(handler, "https://api.hunter.io"), {"api_key": api_key})


def _recorded(person: NormalisedPerson) -> list[httpx.Request]:
    vendor = Vendor(200, FOUND_BODY)
    _finder(vendor).find(person, EMAIL)
    return vendor.requests


def _found_with(**data: Any) -> dict[str, Any]:
    return {"data": {**FOUND_BODY["data"], **data}, "meta": {}}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("valid", EmailVerdict.VALID),
        ("invalid", EmailVerdict.INVALID),
        ("accept_all", EmailVerdict.CATCH_ALL),
        ("webmail", EmailVerdict.UNKNOWN),
        ("disposable", EmailVerdict.DISPOSABLE),
        ("unknown", EmailVerdict.UNKNOWN),
        ("VALID", EmailVerdict.VALID),
        (" accept_all ", EmailVerdict.CATCH_ALL),
        ("blocked_by_policy", EmailVerdict.UNKNOWN),
        ("", EmailVerdict.UNKNOWN),
        (None, EmailVerdict.UNKNOWN),
    ],
)
def test_email_verdict_status(status: str | None, expected: EmailVerdict) -> None:
    assert email_verdict(status) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("valid", EmailVerdict.CATCH_ALL),
        ("unknown", EmailVerdict.CATCH_ALL),
        (None, EmailVerdict.CATCH_ALL),
        ("accept_all", EmailVerdict.CATCH_ALL),
        ("invalid", EmailVerdict.INVALID),
        ("disposable", EmailVerdict.DISPOSABLE),
    ],
)
def test_email_verdict_accept_all_domain(status: str | None, expected: EmailVerdict) -> None:
    assert email_verdict(status, accept_all=True) is expected


def test_info_describes_email_finder() -> None:
    assert INFO.name == "hunter"
    assert INFO.fields == frozenset({RequestedField.EMAIL})
    assert INFO.default_base_url == "https://api.hunter.io"
    assert INFO.api_version == "v2"


def test_finder_requires_api_key() -> None:
    http = ProviderHttp("https://api.hunter.io", connect_timeout=1.0, read_timeout=2.0)
    with pytest.raises(ValueError, match="api_key"):
        HunterFinder(http, {})


def test_request_name_and_domain() -> None:
    [request] = _recorded(ADA)
    assert request.method == "GET"
    assert request.url.path == "/v2/email-finder"
    assert dict(request.url.params) == {"domain": "quillon-widgets.de", "first_name": "Ada", "last_name": "Quill"}
    assert request.headers["X-API-KEY"] == KEY


def test_request_key_stays_out_of_url() -> None:
    [request] = _recorded(ADA)
    assert KEY not in str(request.url)


def test_request_company_name_without_domain() -> None:
    person = NormalisedPerson(first_name="Ada", last_name="Quill", company_name="Quillon Widgets")
    [request] = _recorded(person)
    assert dict(request.url.params) == {"company": "Quillon Widgets", "first_name": "Ada", "last_name": "Quill"}


def test_request_full_name_only() -> None:
    person = NormalisedPerson(full_name="Åsa Lindqvist", company_domain="quillon-widgets.de")
    [request] = _recorded(person)
    assert dict(request.url.params) == {"domain": "quillon-widgets.de", "full_name": "Åsa Lindqvist"}


def test_request_linkedin_only_sends_handle() -> None:
    person = NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b")
    [request] = _recorded(person)
    assert dict(request.url.params) == {"linkedin_handle": "ada-quill-4d52c31b"}


def test_request_name_without_company_uses_handle() -> None:
    person = NormalisedPerson(
        first_name="Ada", last_name="Quill", linkedin_url="https://www.linkedin.com/in/ada-quill-4d52c31b"
    )
    [request] = _recorded(person)
    assert dict(request.url.params) == {"linkedin_handle": "ada-quill-4d52c31b"}


def test_request_too_little_input_sends_nothing() -> None:
    requests = _recorded(NormalisedPerson(first_name="Ada", last_name="Quill"))
    result = _finder(Vendor(200, FOUND_BODY)).find(NormalisedPerson(first_name="Ada", last_name="Quill"), EMAIL)
    assert requests == []
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_phone_only_request_sends_nothing() -> None:
    vendor = Vendor(200, FOUND_BODY)
    requests = vendor.requests
    result = _finder(vendor).find(ADA, frozenset({RequestedField.PHONE}))
    assert requests == []
    assert result.outcome is AttemptOutcome.NOT_FOUND


def test_found_candidate() -> None:
    result = _finder(Vendor(200, FOUND_BODY)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.http_status == 200
    [candidate] = result.emails
    assert candidate.address == "ada.quill@quillon-widgets.de"
    assert candidate.verdict is EmailVerdict.VALID
    assert candidate.vendor_status == "valid"
    assert candidate.confidence == pytest.approx(0.91)
    assert candidate.flags == frozenset()
    assert result.phones == ()


def test_found_on_accept_all_domain_is_catch_all() -> None:
    result = _finder(Vendor(200, _found_with(accept_all=True))).find(ADA, EMAIL)
    [candidate] = result.emails
    assert candidate.verdict is EmailVerdict.CATCH_ALL
    assert candidate.vendor_status == "valid"


def test_found_without_verification() -> None:
    body = _found_with(verification={"date": None, "status": None}, score=None)
    [candidate] = _finder(Vendor(200, body)).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.vendor_status is None
    assert candidate.confidence == 0.0


def test_found_unknown_vendor_status() -> None:
    body = _found_with(verification={"date": "2025-06-02", "status": "quarantined"})
    [candidate] = _finder(Vendor(200, body)).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.UNKNOWN
    assert candidate.vendor_status == "quarantined"


@pytest.mark.parametrize(("score", "expected"), [(0, 0.0), (100, 1.0), (150, 1.0), (-5, 0.0), ("97", 0.0), (True, 0.0)])
def test_found_score_scaling(score: Any, expected: float) -> None:
    [candidate] = _finder(Vendor(200, _found_with(score=score))).find(ADA, EMAIL).emails
    assert candidate.confidence == expected


def test_found_role_address_flagged() -> None:
    [candidate] = _finder(Vendor(200, _found_with(email="sales@quillon-widgets.de"))).find(ADA, EMAIL).emails
    assert candidate.flags == frozenset({EmailFlag.ROLE})


def test_found_webmail_flagged_free_mail() -> None:
    body = _found_with(email="ada.quill@gmail.com", verification={"date": None, "status": "webmail"})
    [candidate] = _finder(Vendor(200, body)).find(ADA, EMAIL).emails
    assert candidate.flags == frozenset({EmailFlag.FREE_MAIL})
    assert candidate.verdict is EmailVerdict.UNKNOWN


def test_found_detail_has_no_personal_data() -> None:
    result = _finder(Vendor(200, FOUND_BODY)).find(ADA, EMAIL)
    assert result.detail is None


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (_found_with(email=None), "hunter found no email"),
        (_found_with(email=""), "hunter found no email"),
        ({"data": None}, "hunter found no email"),
        (_found_with(email="not an address"), "hunter returned an email that is not a valid address"),
    ],
)
def test_not_found_in_200(body: dict[str, Any], detail: str) -> None:
    result = _finder(Vendor(200, body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.NOT_FOUND
    assert result.emails == ()
    assert result.detail == detail


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "retry_after"),
    [
        (404, {"errors": [{"id": "not_found", "code": 404, "details": "x"}]}, None, AttemptOutcome.NOT_FOUND, None),
        (451, {"errors": [{"id": "restricted", "code": 451, "details": "x"}]}, None, AttemptOutcome.NOT_FOUND, None),
        (401, {"errors": [{"id": "authentication_failed", "code": 401}]}, None, AttemptOutcome.AUTH_ERROR, None),
        (402, {"errors": [{"id": "usage_limit", "code": 402}]}, None, AttemptOutcome.QUOTA_EXHAUSTED, None),
        (403, {"errors": [{"id": "too_many_requests", "code": 403}]}, None, AttemptOutcome.THROTTLED, None),
        (403, None, {"Retry-After": "7"}, AttemptOutcome.THROTTLED, 7.0),
        (
            429,
            {"errors": [{"id": "too_many_requests", "code": 429}]},
            {"Retry-After": "5"},
            AttemptOutcome.THROTTLED,
            5.0,
        ),
        (429, {"errors": [{"id": "too_many_requests", "code": 429}]}, None, AttemptOutcome.QUOTA_EXHAUSTED, None),
        (400, {"errors": [{"id": "wrong_params", "code": 400}]}, None, AttemptOutcome.BAD_RESPONSE, None),
        (422, {"errors": [{"id": "invalid_argument", "code": 422}]}, None, AttemptOutcome.BAD_RESPONSE, None),
        (500, {"errors": [{"id": "internal_server_error", "code": 500}]}, None, AttemptOutcome.TRANSIENT_ERROR, None),
        (502, b"<html>502 Bad Gateway</html>", None, AttemptOutcome.TRANSIENT_ERROR, None),
        (503, b"<html>503</html>", None, AttemptOutcome.TRANSIENT_ERROR, None),
        (202, {"data": {"email": None}}, None, AttemptOutcome.TRANSIENT_ERROR, None),
        (222, {"data": {"email": None}}, None, AttemptOutcome.TRANSIENT_ERROR, None),
    ],
)
def test_error_status(
    status: int, body: Any, headers: dict[str, str] | None, outcome: AttemptOutcome, retry_after: float | None
) -> None:
    result = _finder(Vendor(status, body, headers)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == status
    assert result.retry_after_seconds == retry_after
    assert result.emails == ()


def test_error_detail_names_error_id() -> None:
    body = {"errors": [{"id": "wrong_params", "code": 400, "details": "Ada Quill is missing a domain"}]}
    result = _finder(Vendor(400, body)).find(ADA, EMAIL)
    assert result.detail == "hunter answered HTTP 400 (wrong_params)"


def test_error_detail_drops_free_text_id() -> None:
    body = {"errors": [{"id": "Ada Quill at quillon", "code": 400}]}
    result = _finder(Vendor(400, body)).find(ADA, EMAIL)
    assert result.detail == "hunter answered HTTP 400"


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (403, AttemptOutcome.THROTTLED),
        (401, AttemptOutcome.AUTH_ERROR),
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        ("oops", AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_error_envelope_inside_200(code: Any, outcome: AttemptOutcome) -> None:
    body = {"errors": [{"id": "too_many_requests", "code": code, "details": "x"}]}
    result = _finder(Vendor(200, body)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status == 200


@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b'{"data": {"email": "ada', b"", {"meta": {}}, {"data": ["ada"]}, _found_with(email=42)],
)
def test_bad_response_shapes(body: Any) -> None:
    result = _finder(Vendor(200, body)).find(ADA, EMAIL)
    assert result.outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ReadTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectTimeout("slow"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
        (httpx.RemoteProtocolError("closed"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _finder(raising(error)).find(ADA, EMAIL)
    assert result.outcome is outcome
    assert result.http_status is None
    assert result.detail == f"hunter request failed: {type(error).__name__}"


def test_rate_limit_absent_without_headers() -> None:
    result = _finder(Vendor(200, FOUND_BODY)).find(ADA, EMAIL)
    assert result.rate_limit is None


def test_found_disposable_domain_overrides_status() -> None:
    [candidate] = _finder(Vendor(200, _found_with(email="ada@mailinator.com"))).find(ADA, EMAIL).emails
    assert candidate.verdict is EmailVerdict.DISPOSABLE
    assert candidate.vendor_status == "valid"
