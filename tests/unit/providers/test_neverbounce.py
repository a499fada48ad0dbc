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
from cascade.providers.neverbounce import INFO, NeverBounceVerifier
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

ADDRESS = "ada.quill@quillon-widgets.de"
KEY = "nb-test-key"


def _verifier(handler: Handler, *, vendor_timeout_seconds: int | None = None) -> NeverBounceVerifier:
    http = mock_http(handler, INFO.default_base_url)
    return NeverBounceVerifier(http, {"api_key": KEY}, vendor_timeout_seconds=vendor_timeout_seconds)


def _check_body(result: object, flags: list[str] | None = None) -> dict[str, Any]:
    return {
        "status": "success",
        "result": result,
        "flags": flags if flags is not None else ["has_dns", "has_dns_mx"],
        "suggested_correction": "",
        "execution_time": 285,
    }


def test_verifier_satisfies_protocol() -> None:
    assert isinstance(_verifier(Vendor(body=_check_body("valid"))), EmailVerifier)


def test_verify_request_body() -> None:
    vendor = Vendor(body=_check_body("valid"))
    seen = vendor.requests
    _verifier(vendor).verify(ADDRESS)

    assert len(seen) == 1
    request = seen[0]
    payload = json.loads(request.content)
    assert request.method == "POST"
    assert request.url.host == "api.neverbounce.com"
    assert request.url.path == "/v4/single/check"
    assert request.url.query == b""
    assert request.headers["content-type"] == "application/json"
    assert payload == {"key": KEY, "email": ADDRESS, "address_info": 0, "credits_info": 0}


def test_verify_request_timeout() -> None:
    vendor = Vendor(body=_check_body("valid"))
    seen = vendor.requests
    _verifier(vendor, vendor_timeout_seconds=8).verify(ADDRESS)

    assert json.loads(seen[0].content)["timeout"] == 8


@pytest.mark.parametrize(
    ("result", "verdict", "vendor_status"),
    [
        ("valid", EmailVerdict.VALID, "valid"),
        ("invalid", EmailVerdict.INVALID, "invalid"),
        ("disposable", EmailVerdict.DISPOSABLE, "disposable"),
        ("catchall", EmailVerdict.CATCH_ALL, "catchall"),
        ("unknown", EmailVerdict.UNKNOWN, "unknown"),
        ("Valid", EmailVerdict.VALID, "valid"),
        (0, EmailVerdict.VALID, "valid"),
        (1, EmailVerdict.INVALID, "invalid"),
        (2, EmailVerdict.DISPOSABLE, "disposable"),
        (3, EmailVerdict.CATCH_ALL, "catchall"),
        (4, EmailVerdict.UNKNOWN, "unknown"),
        ("3", EmailVerdict.CATCH_ALL, "catchall"),
        (9, EmailVerdict.UNKNOWN, "9"),
        ("accept_all_new", EmailVerdict.UNKNOWN, "accept_all_new"),
    ],
)
def test_verify_result_mapping(result: object, verdict: EmailVerdict, vendor_status: str) -> None:
    answer = _verifier(Vendor(body=_check_body(result))).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.FOUND
    assert answer.verdict is verdict
    assert answer.vendor_status == vendor_status


@pytest.mark.parametrize("result", [None, "", True, ["valid"]])
def test_verify_result_missing(result: object) -> None:
    answer = _verifier(Vendor(body=_check_body(result))).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("address", "vendor_flags", "flags"),
    [
        (ADDRESS, ["has_dns", "smtp_connectable"], frozenset()),
        (ADDRESS, ["role_account"], frozenset({EmailFlag.ROLE})),
        (ADDRESS, ["free_email_host"], frozenset({EmailFlag.FREE_MAIL})),
        (ADDRESS, ["role_account", "free_email_host", "profanity"], frozenset({EmailFlag.ROLE, EmailFlag.FREE_MAIL})),
        ("info@quillon-widgets.de", [], frozenset({EmailFlag.ROLE})),
        ("ada.quill@outlook.com", [], frozenset({EmailFlag.FREE_MAIL})),
    ],
)
def test_verify_flags(address: str, vendor_flags: list[str], flags: frozenset[EmailFlag]) -> None:
    answer = _verifier(Vendor(body=_check_body("valid", vendor_flags))).verify(address)

    assert answer.flags == flags


def test_verify_flags_not_a_list() -> None:
    body = _check_body("valid")
    body["flags"] = "role_account"

    answer = _verifier(Vendor(body=body)).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.FOUND
    assert answer.flags == frozenset()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("general_failure", AttemptOutcome.TRANSIENT_ERROR),
        ("auth_failure", AttemptOutcome.AUTH_ERROR),
        ("temp_unavail", AttemptOutcome.TRANSIENT_ERROR),
        ("throttle_triggered", AttemptOutcome.THROTTLED),
        ("bad_referrer", AttemptOutcome.AUTH_ERROR),
        ("brand_new_failure", AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_verify_error_status_in_200(status: str, outcome: AttemptOutcome) -> None:
    body = {"status": status, "message": "Something went wrong", "execution_time": 30}

    answer = _verifier(Vendor(body=body)).verify(ADDRESS)

    assert answer.outcome is outcome
    assert answer.http_status == 200
    assert answer.verdict is EmailVerdict.UNKNOWN


def test_verify_throttle_without_retry_after() -> None:
    answer = _verifier(Vendor(body={"status": "throttle_triggered", "message": "slow down"})).verify(ADDRESS)

    assert answer.retry_after_seconds is None


def test_verify_throttle_reads_retry_after() -> None:
    handler = Vendor(body={"status": "throttle_triggered", "message": "slow down"}, headers={"Retry-After": "4"})

    answer = _verifier(handler).verify(ADDRESS)

    assert answer.retry_after_seconds == 4.0


def test_verify_error_detail_has_no_message() -> None:
    body = {"status": "general_failure", "message": f"could not check {ADDRESS}"}

    answer = _verifier(Vendor(body=body)).verify(ADDRESS)

    assert answer.detail is not None
    assert ADDRESS not in answer.detail


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, AttemptOutcome.BAD_RESPONSE),
        (401, AttemptOutcome.AUTH_ERROR),
        (402, AttemptOutcome.QUOTA_EXHAUSTED),
        (403, AttemptOutcome.AUTH_ERROR),
        (404, AttemptOutcome.BAD_RESPONSE),
        (429, AttemptOutcome.THROTTLED),
        (500, AttemptOutcome.TRANSIENT_ERROR),
        (502, AttemptOutcome.TRANSIENT_ERROR),
        (503, AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_verify_http_status(status: int, outcome: AttemptOutcome) -> None:
    answer = _verifier(Vendor(body={"message": "failed"}, status=status)).verify(ADDRESS)

    assert answer.outcome is outcome
    assert answer.http_status == status


def test_verify_http_429_retry_after() -> None:
    answer = _verifier(Vendor(body={}, status=429, headers={"Retry-After": "12"})).verify(ADDRESS)

    assert answer.retry_after_seconds == 12.0


@pytest.mark.parametrize(
    "content", [b'{"status": "success", "res', b"", b"<html></html>", b"[]", b'{"result": "valid"}']
)
def test_verify_bad_body(content: bytes) -> None:
    answer = _verifier(Vendor(200, content)).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.BAD_RESPONSE


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectTimeout("slow connect"), AttemptOutcome.TIMEOUT),
        (httpx.ReadTimeout("slow read"), AttemptOutcome.TIMEOUT),
        (httpx.ConnectError("refused"), AttemptOutcome.TRANSIENT_ERROR),
    ],
)
def test_verify_transport_error(error: httpx.HTTPError, outcome: AttemptOutcome) -> None:
    answer = _verifier(raising(error)).verify(ADDRESS)

    assert answer.outcome is outcome


def test_verify_invalid_syntax_not_sent() -> None:
    vendor = Vendor(body=_check_body("valid"))
    seen = vendor.requests
    answer = _verifier(vendor).verify("ada@@quillon-widgets.de")

    assert seen == []
    assert answer.verdict is EmailVerdict.INVALID


def test_verifier_requires_api_key() -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1.0, read_timeout=2.0)
    with pytest.raises(ValueError, match="api_key"):
        NeverBounceVerifier(http, {"api_key": " "})


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    body=st.dictionaries(st.sampled_from(["status", "result", "flags", "message"]), _JSON_VALUES, max_size=4),
    success=st.booleans(),
)
def test_verify_any_json_never_raises(body: dict[str, Any], success: bool) -> None:
    if success:
        body["status"] = "success"
    content = json.dumps(body).encode()
    answer = _verifier(lambda _request: httpx.Response(200, content=content)).verify(ADDRESS)

    assert isinstance(answer.outcome, AttemptOutcome)
    assert isinstance(answer.verdict, EmailVerdict)
