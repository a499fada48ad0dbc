"""Requests rejected before any storage or waterfall work: parsing, size, media type, validation, headers."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.api.app import CascadeApi, check_body, create_app, parse_json_body
from cascade.api.problems import MalformedRequestError, RequestTooLargeError, UnsupportedMediaTypeError
from cascade.api.services import install_services
from cascade.settings import Settings
from tests.conftest import LambdaContext, load_event
from tests.unit.api.conftest import MAX_REQUEST_BYTES
from tests.unit.api.support import post_event, problem_of, unused_services

VALID_BODY = {"first_name": "Ada", "last_name": "Quill", "company_domain": "example.com"}


def _send(api: CascadeApi, event: dict[str, Any]) -> dict[str, Any]:
    return api.handle(event, LambdaContext())


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        '{"first_name": "Ada",}',
        '{"first_name": "Ada"} trailing',
        "{'first_name': 'Ada'}",
        '{"first_name": "Ada", "first_name": "Bea"}',
        '{"max_age_days": NaN}',
        '{"max_age_days": Infinity}',
        "[" * 2000,
    ],
)
def test_post_malformed_json_400(api: CascadeApi, raw: str) -> None:
    reply = _send(api, post_event(raw=raw))
    assert reply["statusCode"] == 400
    assert problem_of(reply)["type"] == "urn:cascade:problem:malformed-request"


def test_post_repeated_key_named(api: CascadeApi) -> None:
    reply = _send(api, post_event(raw='{"first_name": "Ada", "first_name": "Bea"}'))
    assert "'first_name'" in problem_of(reply)["detail"]


def test_post_problem_carries_request_id(api: CascadeApi) -> None:
    document = problem_of(_send(api, post_event(raw="{")))
    assert document["request_id"] == "c6af9ac6-7b61-4f1e-9a2b-6a0f4d1e2b3c"


def test_post_too_large_413(api: CascadeApi) -> None:
    padding = "x" * MAX_REQUEST_BYTES
    reply = _send(api, post_event(VALID_BODY | {"external_id": padding}))
    document = problem_of(reply)
    assert reply["statusCode"] == 413
    assert document["type"] == "urn:cascade:problem:request-too-large"
    assert str(MAX_REQUEST_BYTES) in document["detail"]


def test_post_too_large_before_json_parse(api: CascadeApi) -> None:
    reply = _send(api, post_event(raw="{" * (MAX_REQUEST_BYTES + 1)))
    assert reply["statusCode"] == 413


def test_check_body_limit_counts_utf8_bytes() -> None:
    # 700 three-byte characters are 2100 bytes, over a 2048-byte limit, though only 700 characters long.
    event = {"body": json.dumps({"full_name": "\u4e2d" * 700}, ensure_ascii=False)}
    with pytest.raises(RequestTooLargeError):
        check_body(event, max_bytes=2048)


def test_check_body_exact_limit_accepted() -> None:
    check_body({"body": "x" * 2048}, max_bytes=2048)


def test_check_body_base64_counts_decoded_bytes() -> None:
    encoded = base64.b64encode(b"{" + b" " * 1800 + b"}").decode()
    check_body({"body": encoded, "isBase64Encoded": True}, max_bytes=2048)
    assert len(encoded) > 2048


def test_check_body_invalid_base64() -> None:
    with pytest.raises(MalformedRequestError, match="base64"):
        check_body({"body": "not base64!", "isBase64Encoded": True}, max_bytes=2048)


def test_check_body_base64_not_utf8() -> None:
    encoded = base64.b64encode(b'{"first_name": "\xff"}').decode()
    with pytest.raises(MalformedRequestError, match="UTF-8"):
        check_body({"body": encoded, "isBase64Encoded": True}, max_bytes=2048)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_check_body_rejects_media_type(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="application/json"):
        check_body({"body": "{}", "headers": {"content-type": content_type}}, max_bytes=2048)


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8"])
def test_check_body_accepts_json_media_type(content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    check_body({"body": "{}", "headers": headers}, max_bytes=2048)


def test_post_form_encoded_415(api: CascadeApi) -> None:
    reply = _send(api, post_event(VALID_BODY, headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert reply["statusCode"] == 415
    assert problem_of(reply)["type"] == "urn:cascade:problem:unsupported-media-type"


def test_post_unknown_field_names_it(api: CascadeApi) -> None:
    body = {"first_name": "Ada", "last_name": "Quill", "company_domian": "example.com"}
    reply = _send(api, post_event(body))
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert document["type"] == "urn:cascade:problem:invalid-input"
    assert [error["field"] for error in document["errors"]] == ["company_domian"]
    assert "company_domain" in document["errors"][0]["message"]


def test_post_couple_in_full_name_422(api: CascadeApi) -> None:
    reply = _send(api, post_event({"full_name": "John and Jane Smith", "company_domain": "example.com"}))
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert [error["field"] for error in document["errors"]] == ["full_name"]


def test_post_too_little_input_422(api: CascadeApi) -> None:
    reply = _send(api, post_event({"first_name": "Ada"}))
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert document["errors"][0]["field"] == "body"
    assert "too little to identify a person" in document["errors"][0]["message"]


def test_post_float_amount_422(api: CascadeApi) -> None:
    reply = _send(api, post_event(VALID_BODY | {"waterfall": {"max_amount": 0.2}}))
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert document["errors"][0]["field"] == "waterfall.max_amount"
    assert '"0.20"' in document["errors"][0]["message"]


def test_post_unknown_provider_422(api: CascadeApi) -> None:
    body = VALID_BODY | {"waterfall": {"order": ["hunter", "nosuchvendor"], "skip": ["othervendor"]}}
    reply = _send(api, post_event(body))
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert [error["field"] for error in document["errors"]] == ["waterfall.order", "waterfall.skip"]
    assert "'nosuchvendor'" in document["errors"][0]["message"]
    assert "hunter" in document["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "kind"),
    [([VALID_BODY], "array"), ("Ada Quill", "string"), (42, "number"), (True, "boolean"), (None, "null")],
)
def test_post_body_not_object_422(api: CascadeApi, body: Any, kind: str) -> None:
    reply = _send(api, post_event(body))
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert document["errors"] == [
        {"field": "body", "message": f"the request body is a JSON {kind}; send a JSON object"}
    ]


def test_post_empty_body_422(api: CascadeApi) -> None:
    reply = _send(api, post_event(raw=""))
    assert reply["statusCode"] == 422
    assert problem_of(reply)["errors"] == [{"field": "body", "message": "this field is required"}]


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "caf\u00e9-1", "line\nbreak", "tab\tkey", "\x7f"],
    ids=["empty", "too-long", "non-ascii", "newline", "tab", "delete"],
)
def test_post_invalid_idempotency_key_400(api: CascadeApi, key: str) -> None:
    reply = _send(api, post_event(VALID_BODY, headers={"Idempotency-Key": key}))
    assert reply["statusCode"] == 400
    assert problem_of(reply)["type"] == "urn:cascade:problem:invalid-idempotency-key"


def test_post_idempotency_key_checked_after_body(api: CascadeApi) -> None:
    reply = _send(api, post_event({"first_name": "Ada"}, headers={"Idempotency-Key": ""}))
    assert reply["statusCode"] == 422


def test_post_without_authorizer_401(api: CascadeApi) -> None:
    event = post_event(VALID_BODY)
    del event["requestContext"]["authorizer"]
    reply = _send(api, event)
    assert reply["statusCode"] == 401
    assert problem_of(reply)["type"] == "urn:cascade:problem:unauthenticated"


def test_usage_bad_month_422(api: CascadeApi) -> None:
    event = load_event("apigateway/get_usage.json")
    event["queryStringParameters"] = {"month": "2026-13"}
    event["multiValueQueryStringParameters"] = {"month": ["2026-13"]}
    reply = _send(api, event)
    document = problem_of(reply)
    assert reply["statusCode"] == 422
    assert document["errors"][0]["field"] == "month"
    assert "YYYY-MM" in document["errors"][0]["message"]


def test_usage_missing_month_422(api: CascadeApi) -> None:
    event = load_event("apigateway/get_usage.json")
    event["queryStringParameters"] = None
    event["multiValueQueryStringParameters"] = None
    reply = _send(api, event)
    assert reply["statusCode"] == 422
    assert problem_of(reply)["errors"] == [{"field": "month", "message": "this field is required"}]


def test_unknown_route_404(api: CascadeApi) -> None:
    event = load_event("apigateway/get_usage.json")
    event["path"] = "/v1/nothing-here"
    reply = _send(api, event)
    assert reply["statusCode"] == 404
    assert problem_of(reply)["type"] == "urn:cascade:problem:not-found"


def test_parse_json_body_plain_object() -> None:
    assert parse_json_body('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


@functools.cache
def _shared_api() -> CascadeApi:
    return create_app(Settings(max_request_bytes=MAX_REQUEST_BYTES))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_post_arbitrary_text_rejected_cleanly(raw: str) -> None:
    install_services(unused_services())
    try:
        reply = _shared_api().handle(post_event(raw=raw), LambdaContext())
    finally:
        install_services(None)
    assert reply["statusCode"] in {400, 422}
