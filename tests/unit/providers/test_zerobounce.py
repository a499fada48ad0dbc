from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict
from cascade.providers.base import EmailVerifier
from cascade.providers.http import ProviderHttp
from cascade.providers.zerobounce import INFO, ZeroBounceVerifier
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

ADDRESS = "ada.quill@quillon-widgets.de"
KEY = "zb-test-key"


def _verifier(handler: Handler, *, vendor_timeout_seconds: int | None = None) -> ZeroBounceVerifier:
    http = mock_http(handler, INFO.default_base_url)
    return ZeroBounceVerifier(http, {"api_key": KEY}, vendor_timeout_seconds=vendor_timeout_seconds)


def _validate_body(status: str, sub_status: str = "", *, free_email: bool = False) -> dict[str, Any]:
    return {
        "address": ADDRESS,
        "status": status,
        "sub_status": sub_status,
        "free_email": free_email,
        "did_you_mean": None,
        "account": "ada.quill",
        "domain": "quillon-widgets.de",
        "mx_found": "true",
        "processed_at": "2026-12-04 15:00:00.000",
    }


def test_verifier_satisfies_protocol() -> None:
    assert isinstance(_verifier(Vendor(body=_validate_body("valid"))), EmailVerifier)


def test_verify_request_query() -> None:
    vendor = Vendor(body=_validate_body("valid"))
    seen = vendor.requests
    _verifier(vendor).verify(ADDRESS)

    assert len(seen) == 1
    request = seen[0]
    assert request.method == "GET"
    assert request.url.host == "api.zerobounce.net"
    assert request.url.path == "/v2/validate"
    assert request.url.params["api_key"] == KEY
    assert request.url.params["email"] == ADDRESS
    assert request.url.params["ip_address"] == ""
    assert "timeout" not in request.url.params


def test_verify_request_encodes_plus() -> None:
    vendor = Vendor(body=_validate_body("valid"))
    seen = vendor.requests
    _verifier(vendor).verify("ada+news@quillon-widgets.de")

    assert b"ada%2Bnews" in seen[0].url.query
    assert seen[0].url.params["email"] == "ada+news@quillon-widgets.de"


@pytest.mark.parametrize(("requested", "sent"), [(3, "10"), (25, "25"), (300, "60")])
def test_verify_request_timeout_clamped(requested: int, sent: str) -> None:
    vendor = Vendor(body=_validate_body("valid"))
    seen = vendor.requests
    _verifier(vendor, vendor_timeout_seconds=requested).verify(ADDRESS)

    assert seen[0].url.params["timeout"] == sent


@pytest.mark.parametrize(
    ("status", "sub_status", "verdict"),
    [
        ("valid", "", EmailVerdict.VALID),
        ("Valid", "", EmailVerdict.VALID),
        ("valid", "alias_address", EmailVerdict.VALID),
        ("valid", "accept_all", EmailVerdict.CATCH_ALL),
        ("valid", "role_based_accept_all", EmailVerdict.CATCH_ALL),
        ("invalid", "mailbox_not_found", EmailVerdict.INVALID),
        ("invalid", "no_dns_entries", EmailVerdict.INVALID),
        ("invalid", "failed_syntax_check", EmailVerdict.INVALID),
        ("catch-all", "", EmailVerdict.CATCH_ALL),
        ("unknown", "greylisted", EmailVerdict.UNKNOWN),
        ("unknown", "mail_server_did_not_respond", EmailVerdict.UNKNOWN),
        ("spamtrap", "", EmailVerdict.INVALID),
        ("abuse", "", EmailVerdict.INVALID),
        ("do_not_mail", "global_suppression", EmailVerdict.INVALID),
        ("do_not_mail", "role_based", EmailVerdict.INVALID),
        ("do_not_mail", "role_based_catch_all", EmailVerdict.INVALID),
        ("do_not_mail", "toxic", EmailVerdict.INVALID),
        ("do_not_mail", "disposable", EmailVerdict.DISPOSABLE),
        ("brand_new_status", "", EmailVerdict.UNKNOWN),
    ],
)
def test_verify_status_mapping(status: str, sub_status: str, verdict: EmailVerdict) -> None:
    result = _verifier(Vendor(body=_validate_body(status, sub_status))).verify(ADDRESS)

    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is verdict


def test_verify_records_vendor_status() -> None:
    result = _verifier(Vendor(body=_validate_body("invalid", "mailbox_not_found"))).verify(ADDRESS)

    assert result.vendor_status == "invalid"
    assert result.vendor_sub_status == "mailbox_not_found"
    assert result.http_status == 200


def test_verify_empty_sub_status_is_none() -> None:
    result = _verifier(Vendor(body=_validate_body("valid"))).verify(ADDRESS)

    assert result.vendor_sub_status is None


@pytest.mark.parametrize(
    ("address", "sub_status", "free_email", "flags"),
    [
        (ADDRESS, "", False, frozenset()),
        (ADDRESS, "role_based", False, frozenset({EmailFlag.ROLE})),
        (ADDRESS, "role_based_catch_all", False, frozenset({EmailFlag.ROLE})),
        (ADDRESS, "", True, frozenset({EmailFlag.FREE_MAIL})),
        ("sales@quillon-widgets.de", "", False, frozenset({EmailFlag.ROLE})),
        ("ada.quill@gmail.com", "", False, frozenset({EmailFlag.FREE_MAIL})),
    ],
)
def test_verify_flags(address: str, sub_status: str, free_email: bool, flags: frozenset[EmailFlag]) -> None:
    result = _verifier(Vendor(body=_validate_body("valid", sub_status, free_email=free_email))).verify(address)

    assert result.flags == flags


def test_verify_free_email_string_true() -> None:
    body = _validate_body("valid")
    body["free_email"] = "true"

    result = _verifier(Vendor(body=body)).verify(ADDRESS)

    assert EmailFlag.FREE_MAIL in result.flags


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("Invalid API key", AttemptOutcome.AUTH_ERROR),
        ("Invalid API Key or your account ran out of credits", AttemptOutcome.AUTH_ERROR),
        ("invalid api key.", AttemptOutcome.AUTH_ERROR),
        ("Insufficient credits", AttemptOutcome.QUOTA_EXHAUSTED),
        ("Your account ran out of credits", AttemptOutcome.QUOTA_EXHAUSTED),
        ("Something nobody documented", AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_verify_error_in_200(message: str, outcome: AttemptOutcome) -> None:
    result = _verifier(Vendor(body={"error": message})).verify(ADDRESS)

    assert result.outcome is outcome
    assert result.http_status == 200
    assert result.verdict is EmailVerdict.UNKNOWN


def test_verify_error_wins_over_status() -> None:
    body = {**_validate_body("valid"), "error": "Invalid API key"}

    result = _verifier(Vendor(body=body)).verify(ADDRESS)

    assert result.outcome is AttemptOutcome.AUTH_ERROR


def test_verify_error_detail_has_no_message() -> None:
    result = _verifier(Vendor(body={"error": f"unexpected problem with {ADDRESS}"})).verify(ADDRESS)

    assert result.detail is not None
    assert ADDRESS not in result.detail


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, AttemptOutcome.BAD_RESPONSE),
        (401, AttemptOutcome.AUTH_ERROR),
        (403, AttemptOutcome.AUTH_ERROR),
        (404, AttemptOutcome.BAD_RESPONSE),
        (405, AttemptOutcome.BAD_RESPONSE),
        (429, AttemptOutcome.THROTTLED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (520, AttemptOutcome.TRANSIENT_ERROR),
        (524, AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_verify_http_status(status: int, outcome: AttemptOutcome) -> None:
    result = _verifier(Vendor(body={"message": "failed"}, status=status)).verify(ADDRESS)

    assert result.outcome is outcome
    assert result.http_status == status


def test_verify_throttled_retry_after() -> None:
    handler = Vendor(body={"error": "Too many requests"}, status=429, headers={"Retry-After": "7"})

    result = _verifier(handler).verify(ADDRESS)

    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds == 7.0


def test_verify_throttled_without_retry_after() -> None:
    result = _verifier(Vendor(body={}, status=429)).verify(ADDRESS)

    assert result.outcome is AttemptOutcome.THROTTLED
    assert result.retry_after_seconds is None


@pytest.mark.parametrize(
    "content",
    [b'{"address": "ada.quill@quillon-widgets.de", "sta', b"", b"<html>oops</html>", b"[1, 2]", b'{"sub_status": ""}'],
)
def test_verify_bad_body(content: bytes) -> None:
    result = _verifier(Vendor(200, content, {"Content-Type": "application/json"})).verify(ADDRESS)

    assert result.outcome is AttemptOutcome.BAD_RESPONSE
    assert result.http_status == 200


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectTimeout("slow connect"), AttemptOutcome.TIMEOUT),
        (httpx.ReadTimeout("slow read"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
        (httpx.RemoteProtocolError("dropped"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_verify_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    result = _verifier(raising(error)).verify(ADDRESS)

    assert result.outcome is outcome
    assert result.http_status is None


def test_verify_invalid_syntax_not_sent() -> None:
    vendor = Vendor(body=_validate_body("valid"))
    seen = vendor.requests
    result = _verifier(vendor).verify("not an address")

    assert seen == []
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID


def test_verifier_requires_api_key() -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1.0, read_timeout=2.0)
    with pytest.raises(ValueError, match="api_key"):
        ZeroBounceVerifier(http, {})


def test_info_describes_verifier() -> None:
    assert INFO.name == "zerobounce"
    assert INFO.api_version == "v2"
    assert INFO.default_base_url == "https://api.zerobounce.net"


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from(["status", "sub_status", "free_email", "error", "address"]), _JSON_VALUES, max_size=5
    ),
    status=st.sampled_from([200, 400, 429, 500]),
)
def test_verify_any_json_never_raises(body: dict[str, Any], status: int) -> None:
    content = json.dumps(body).encode()
    result = _verifier(lambda _request: httpx.Response(status, content=content)).verify(ADDRESS)

    assert isinstance(result.outcome, AttemptOutcome)
    assert isinstance(result.verdict, EmailVerdict)
