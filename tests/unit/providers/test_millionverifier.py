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
from cascade.providers.millionverifier import INFO, MillionVerifierVerifier
from tests.unit.providers.support import Handler, Vendor, mock_http, raising

ADDRESS = "ada.quill@quillon-widgets.de"
KEY = "mv-test-key"


def _verifier(handler: Handler, *, vendor_timeout_seconds: int | None = None) -> MillionVerifierVerifier:
    http = mock_http(handler, INFO.default_base_url)
    return MillionVerifierVerifier(http, {"api_key": KEY}, vendor_timeout_seconds=vendor_timeout_seconds)


def _verify_body(
    result: object, resultcode: object, *, role: object = False, free: object = False, subresult: str = ""
) -> dict[str, Any]:
    return {
        "email": ADDRESS,
        "quality": "good",
        "result": result,
        "resultcode": resultcode,
        "subresult": subresult,
        "free": free,
        "role": role,
        "didyoumean": "",
        "credits": 9_876,
        "executiontime": 1,
        "error": "",
        "livemode": True,
    }


def _error_body(message: str) -> dict[str, Any]:
    return {**_verify_body("error", 4), "quality": "", "credits": 0, "error": message}


def test_verifier_satisfies_protocol() -> None:
    assert isinstance(_verifier(Vendor(body=_verify_body("ok", 1))), EmailVerifier)


def test_verify_request_query() -> None:
    vendor = Vendor(body=_verify_body("ok", 1))
    seen = vendor.requests
    _verifier(vendor).verify(ADDRESS)

    assert len(seen) == 1
    request = seen[0]
    assert request.method == "GET"
    assert request.url.host == "api.millionverifier.com"
    assert request.url.path == "/api/v3/"
    assert request.url.params["api"] == KEY
    assert request.url.params["email"] == ADDRESS
    assert "timeout" not in request.url.params


@pytest.mark.parametrize(("requested", "sent"), [(1, "2"), (10, "10"), (90, "60")])
def test_verify_request_timeout_clamped(requested: int, sent: str) -> None:
    vendor = Vendor(body=_verify_body("ok", 1))
    seen = vendor.requests
    _verifier(vendor, vendor_timeout_seconds=requested).verify(ADDRESS)

    assert seen[0].url.params["timeout"] == sent


@pytest.mark.parametrize(
    ("result", "resultcode", "verdict", "vendor_status"),
    [
        ("ok", 1, EmailVerdict.VALID, "ok"),
        ("catch_all", 2, EmailVerdict.CATCH_ALL, "catch_all"),
        ("unknown", 3, EmailVerdict.UNKNOWN, "unknown"),
        ("error", 4, EmailVerdict.UNKNOWN, "error"),
        ("disposable", 5, EmailVerdict.DISPOSABLE, "disposable"),
        ("invalid", 6, EmailVerdict.INVALID, "invalid"),
        ("OK", 1, EmailVerdict.VALID, "ok"),
        (None, 1, EmailVerdict.VALID, "ok"),
        (None, 2, EmailVerdict.CATCH_ALL, "catch_all"),
        (None, 3, EmailVerdict.UNKNOWN, "unknown"),
        (None, 4, EmailVerdict.UNKNOWN, "error"),
        (None, 5, EmailVerdict.DISPOSABLE, "disposable"),
        (None, 6, EmailVerdict.INVALID, "invalid"),
        (None, "6", EmailVerdict.INVALID, "invalid"),
        ("spamtrap_new", 6, EmailVerdict.INVALID, "invalid"),
        ("spamtrap_new", None, EmailVerdict.UNKNOWN, "spamtrap_new"),
        ("spamtrap_new", 9, EmailVerdict.UNKNOWN, "spamtrap_new"),
        (None, 9, EmailVerdict.UNKNOWN, "9"),
    ],
)
def test_verify_result_mapping(result: object, resultcode: object, verdict: EmailVerdict, vendor_status: str) -> None:
    answer = _verifier(Vendor(body=_verify_body(result, resultcode))).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.FOUND
    assert answer.verdict is verdict
    assert answer.vendor_status == vendor_status


def test_verify_result_and_code_missing() -> None:
    answer = _verifier(Vendor(body=_verify_body(None, None))).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.BAD_RESPONSE


def test_verify_records_subresult() -> None:
    answer = _verifier(Vendor(body=_verify_body("invalid", 6, subresult="mailbox_not_found"))).verify(ADDRESS)

    assert answer.vendor_sub_status == "mailbox_not_found"


def test_verify_empty_subresult_is_none() -> None:
    answer = _verifier(Vendor(body=_verify_body("ok", 1))).verify(ADDRESS)

    assert answer.vendor_sub_status is None


@pytest.mark.parametrize(
    ("address", "role", "free", "flags"),
    [
        (ADDRESS, False, False, frozenset()),
        (ADDRESS, True, False, frozenset({EmailFlag.ROLE})),
        (ADDRESS, False, True, frozenset({EmailFlag.FREE_MAIL})),
        (ADDRESS, "true", "1", frozenset({EmailFlag.ROLE, EmailFlag.FREE_MAIL})),
        (ADDRESS, "false", 0, frozenset()),
        ("support@quillon-widgets.de", False, False, frozenset({EmailFlag.ROLE})),
        ("ada.quill@yahoo.com", False, False, frozenset({EmailFlag.FREE_MAIL})),
    ],
)
def test_verify_flags(address: str, role: object, free: object, flags: frozenset[EmailFlag]) -> None:
    answer = _verifier(Vendor(body=_verify_body("ok", 1, role=role, free=free))).verify(address)

    assert answer.flags == flags


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("Apikey not found", AttemptOutcome.AUTH_ERROR),
        ("Invalid API key", AttemptOutcome.AUTH_ERROR),
        ("Insufficient credits", AttemptOutcome.QUOTA_EXHAUSTED),
        ("Insufficient credits.", AttemptOutcome.QUOTA_EXHAUSTED),
        ("IP address blocked", AttemptOutcome.AUTH_ERROR),
        ("Internal error", AttemptOutcome.TRANSIENT_ERROR),
        ("No email address", AttemptOutcome.BAD_RESPONSE),
        ("Something nobody documented", AttemptOutcome.BAD_RESPONSE),
    ],
)
def test_verify_error_in_200(message: str, outcome: AttemptOutcome) -> None:
    answer = _verifier(Vendor(body=_error_body(message))).verify(ADDRESS)

    assert answer.outcome is outcome
    assert answer.http_status == 200
    assert answer.verdict is EmailVerdict.UNKNOWN


def test_verify_error_detail_has_no_message() -> None:
    answer = _verifier(Vendor(body=_error_body(f"cannot verify {ADDRESS}"))).verify(ADDRESS)

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


def test_verify_known_error_wins_over_status() -> None:
    answer = _verifier(Vendor(body=_error_body("Insufficient credits"), status=403)).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.QUOTA_EXHAUSTED


def test_verify_throttled_retry_after() -> None:
    answer = _verifier(Vendor(body={}, status=429, headers={"Retry-After": "3"})).verify(ADDRESS)

    assert answer.outcome is AttemptOutcome.THROTTLED
    assert answer.retry_after_seconds == 3.0


@pytest.mark.parametrize("content", [b'{"email": "ada.quill@quill', b"", b"<html></html>", b'"ok"', b"[1]"])
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
    vendor = Vendor(body=_verify_body("ok", 1))
    seen = vendor.requests
    answer = _verifier(vendor).verify("ada.quill@")

    assert seen == []
    assert answer.verdict is EmailVerdict.INVALID


def test_verifier_requires_api_key() -> None:
    http = ProviderHttp(INFO.default_base_url, connect_timeout=1.0, read_timeout=2.0)
    with pytest.raises(ValueError, match="api_key"):
        MillionVerifierVerifier(http, {"token": "x"})


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from(["result", "resultcode", "subresult", "role", "free", "error"]), _JSON_VALUES, max_size=6
    )
)
def test_verify_any_json_never_raises(body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    answer = _verifier(lambda _request: httpx.Response(200, content=content)).verify(ADDRESS)

    assert isinstance(answer.outcome, AttemptOutcome)
    assert isinstance(answer.verdict, EmailVerdict)
