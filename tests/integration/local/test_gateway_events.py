"""The gateway's translation between HTTP and API Gateway events, without sockets."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.gateway import (
    PROXY_RESOURCE,
    ApiGateway,
    AuthorizerCache,
    AuthorizerDecision,
    GatewayRequest,
    RouteTable,
    authorizer_context,
    authorizer_event,
    policy_allows,
    proxy_event,
)
from tests.conftest import load_event

ROUTES = RouteTable(["/v1/people/enrich", "/v1/enrichments/{id}", "/v1/jobs/{id}/cancel", "/v1/jobs/export"])
ROUTES_WITH_GREEDY = RouteTable(["/v1/files/{path+}", "/v1/jobs/{id}"])
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:local/local/GET/v1/usage"
RECEIVED_AT = datetime(2026, 12, 4, 15, 30, 12, tzinfo=UTC)


def _request(
    target: str = "/v1/people/enrich?a=1&a=2&b=",
    *,
    method: str = "POST",
    body: bytes = b'{"first_name": "Ada"}',
    headers: list[tuple[str, str]] | None = None,
) -> GatewayRequest:
    return GatewayRequest(
        method=method,
        target=target,
        headers=headers or [("Host", "127.0.0.1:8787"), ("User-Agent", "curl/8.5.0"), ("X-Tag", "a"), ("X-Tag", "b")],
        body=body,
        source_ip="127.0.0.1",
    )


def _allow(
    effect: str = "Allow", resource: str = "arn:aws:execute-api:us-east-1:123456789012:local/local/*/*"
) -> dict[str, Any]:
    return {
        "principalId": "key_0123456789abcdef",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}],
        },
        "context": {"key_id": "key_0123456789abcdef", "rank": 3, "test": True},
    }


# Routes


@pytest.mark.parametrize(
    ("path", "resource", "parameters"),
    [
        ("/v1/people/enrich", "/v1/people/enrich", None),
        ("/v1/people/enrich/", "/v1/people/enrich", None),
        ("/v1/enrichments/enr_1", "/v1/enrichments/{id}", {"id": "enr_1"}),
        ("/v1/enrichments/a%20b", "/v1/enrichments/{id}", {"id": "a b"}),
        ("/v1/jobs/job_1/cancel", "/v1/jobs/{id}/cancel", {"id": "job_1"}),
        ("/v1/jobs/export", "/v1/jobs/export", None),
        ("/v1/nothing", PROXY_RESOURCE, {"proxy": "v1/nothing"}),
        ("/v1/enrichments/", PROXY_RESOURCE, {"proxy": "v1/enrichments/"}),
    ],
)
def test_route_table_matches(path: str, resource: str, parameters: dict[str, str] | None) -> None:
    match = ROUTES.match(path)
    assert match.resource == resource
    assert match.path_parameters == parameters


def test_route_table_literal_beats_parameter() -> None:
    table = RouteTable(["/v1/jobs/{id}", "/v1/jobs/export"])
    assert table.match("/v1/jobs/export").resource == "/v1/jobs/export"


def test_route_table_greedy_takes_rest() -> None:
    match = ROUTES_WITH_GREEDY.match("/v1/files/a/b/c.csv")
    assert match.resource == "/v1/files/{path+}"
    assert match.path_parameters == {"path": "a/b/c.csv"}


def test_route_table_rejects_relative_template() -> None:
    with pytest.raises(ValueError, match="does not start"):
        RouteTable(["v1/people"])


# Events


def test_proxy_event_has_sample_fields() -> None:
    sample = load_event("apigateway/get_openapi.json")
    event = proxy_event(
        _request(),
        ROUTES.match("/v1/people/enrich"),
        request_id="r-1",
        account_id="123456789012",
        received_at=RECEIVED_AT,
    )
    assert set(event) == set(sample)
    assert set(sample["requestContext"]) <= set(event["requestContext"])
    assert set(sample["requestContext"]["identity"]) <= set(event["requestContext"]["identity"])


def test_proxy_event_values() -> None:
    event = proxy_event(
        _request(),
        ROUTES.match("/v1/people/enrich"),
        request_id="r-1",
        account_id="123456789012",
        received_at=RECEIVED_AT,
    )
    context = event["requestContext"]
    assert event["resource"] == "/v1/people/enrich"
    assert event["path"] == "/v1/people/enrich"
    assert event["httpMethod"] == "POST"
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["headers"]["X-Tag"] == "b"
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["pathParameters"] is None
    assert event["body"] == '{"first_name": "Ada"}'
    assert event["isBase64Encoded"] is False
    assert context["stage"] == "local"
    assert context["requestId"] == "r-1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "curl/8.5.0"
    assert context["requestTime"] == "04/Dec/2026:15:30:12 +0000"
    assert context["requestTimeEpoch"] == 1796398212000
    assert context["resourcePath"] == "/v1/people/enrich"


def test_proxy_event_binary_body_base64() -> None:
    event = proxy_event(
        _request(body=b"\xff\xfe\x00"),
        ROUTES.match("/v1/people/enrich"),
        request_id="r-1",
        account_id="123456789012",
        received_at=RECEIVED_AT,
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_proxy_event_without_query_or_body() -> None:
    event = proxy_event(
        _request("/v1/enrichments/enr_1", method="GET", body=b""),
        ROUTES.match("/v1/enrichments/enr_1"),
        request_id="r-1",
        account_id="123456789012",
        received_at=RECEIVED_AT,
    )
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None
    assert event["pathParameters"] == {"id": "enr_1"}


def test_authorizer_event_has_sample_fields() -> None:
    sample = load_event("apigateway/authorizer_request.json")
    event = proxy_event(
        _request(),
        ROUTES.match("/v1/people/enrich"),
        request_id="r-1",
        account_id="123456789012",
        received_at=RECEIVED_AT,
    )
    request = authorizer_event(event, METHOD_ARN)
    assert set(request) == set(sample)
    assert request["type"] == "REQUEST"
    assert request["methodArn"] == METHOD_ARN


# Policies and context


@pytest.mark.parametrize(
    ("result", "allowed"),
    [
        (_allow(), True),
        (_allow("Deny"), False),
        (_allow(resource="arn:aws:execute-api:us-east-1:123456789012:local/local/POST/*"), False),
        (_allow(resource="arn:aws:execute-api:us-east-1:123456789012:local/local/GET/v1/usage"), True),
    ],
)
def test_policy_allows(result: dict[str, Any], allowed: bool) -> None:
    assert policy_allows(result, METHOD_ARN) is allowed


def test_policy_deny_wins_over_allow() -> None:
    result = _allow()
    result["policyDocument"]["Statement"].append(
        {"Action": "execute-api:*", "Effect": "Deny", "Resource": "arn:aws:execute-api:*"}
    )
    assert policy_allows(result, METHOD_ARN) is False


@pytest.mark.parametrize("broken", [{}, {"principalId": "p"}, {"principalId": "p", "policyDocument": {"Statement": 3}}])
def test_policy_rejects_malformed_result(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="authorizer"):
        policy_allows(broken, METHOD_ARN)


def test_authorizer_context_strings_and_principal() -> None:
    context = authorizer_context(_allow())
    assert context == {
        "key_id": "key_0123456789abcdef",
        "rank": "3",
        "test": "true",
        "principalId": "key_0123456789abcdef",
    }


def test_authorizer_context_rejects_object_value() -> None:
    result = _allow() | {"context": {"plan": {"email_price": "0.20"}}}
    with pytest.raises(ValueError, match="plan"):
        authorizer_context(result)


# Cache


def test_authorizer_cache_expires_after_ttl() -> None:
    now = [100.0]
    cache = AuthorizerCache(60, clock=lambda: now[0])
    decision = AuthorizerDecision(allowed=True, context={"key_id": "key_0123456789abcdef"})
    cache.put(("Bearer a", None), decision)
    now[0] = 159.9
    fresh = cache.get(("Bearer a", None))
    other = cache.get(("Bearer b", None))
    now[0] = 160.0
    expired = cache.get(("Bearer a", None))
    assert fresh == decision
    assert other is None
    assert expired is None


def test_authorizer_cache_disabled_with_zero_ttl() -> None:
    cache = AuthorizerCache(0)
    cache.put(("Bearer a",), AuthorizerDecision(allowed=True, context={}))
    assert cache.get(("Bearer a",)) is None


# The gateway with stand-in handlers


class _Calls:
    def __init__(self, authorizer_result: dict[str, Any] | Exception, api_result: Any) -> None:
        self.authorizer_result = authorizer_result
        self.api_result = api_result
        self.authorizer_events: list[dict[str, Any]] = []
        self.api_events: list[dict[str, Any]] = []

    def authorizer(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        self.authorizer_events.append(event)
        if isinstance(self.authorizer_result, Exception):
            raise self.authorizer_result
        return self.authorizer_result

    def api(self, event: dict[str, Any], _context: Any) -> Any:
        self.api_events.append(event)
        if isinstance(self.api_result, Exception):
            raise self.api_result
        return self.api_result


def _gateway(calls: _Calls) -> ApiGateway:
    return ApiGateway(
        api=calls.api,
        authorizer=calls.authorizer,
        route_templates=["/v1/usage", "/v1/enrichments/{id}"],
        region="us-east-1",
        account_id="123456789012",
    )


OK_RESULT = {
    "statusCode": 201,
    "headers": {"Content-Type": "application/json", "X-One": "single", "Content-Length": "999"},
    "multiValueHeaders": {"X-One": ["first", "second"], "Set-Cookie": ["a=1", "b=2"]},
    "body": base64.b64encode(b'{"ok": true}').decode(),
    "isBase64Encoded": True,
}


def test_gateway_passes_authorizer_context() -> None:
    calls = _Calls(_allow(), OK_RESULT)
    reply = _gateway(calls).handle(_request("/v1/usage?month=2026-12", method="GET", body=b""))
    assert reply.status == 201
    assert reply.body == b'{"ok": true}'
    assert calls.api_events[0]["requestContext"]["authorizer"]["key_id"] == "key_0123456789abcdef"
    assert calls.authorizer_events[0]["methodArn"] == METHOD_ARN


def test_gateway_merges_reply_headers() -> None:
    reply = _gateway(_Calls(_allow(), OK_RESULT)).handle(_request("/v1/usage", method="GET", body=b""))
    names = [name for name, _ in reply.headers]
    assert ("X-One", "first") in reply.headers
    assert ("X-One", "second") in reply.headers
    assert ("X-One", "single") not in reply.headers
    assert names.count("Set-Cookie") == 2
    assert "Content-Length" not in names
    assert "x-amzn-RequestId" in names


def test_gateway_caches_authorizer_decision() -> None:
    calls = _Calls(_allow(), OK_RESULT)
    gateway = _gateway(calls)
    headers = [("Authorization", "Bearer cas_test_x")]
    gateway.handle(_request("/v1/usage", method="GET", body=b"", headers=headers))
    gateway.handle(_request("/v1/enrichments/enr_1", method="GET", body=b"", headers=headers))
    assert len(calls.authorizer_events) == 1
    assert len(calls.api_events) == 2


def test_gateway_unauthorized_is_401() -> None:
    calls = _Calls(Exception("Unauthorized"), OK_RESULT)
    reply = _gateway(calls).handle(_request("/v1/usage", method="GET", body=b""))
    assert reply.status == 401
    assert json.loads(reply.body)["type"] == "urn:cascade:problem:unauthenticated"
    assert calls.api_events == []


@pytest.mark.parametrize("result", [["not", "an", "object"], {"principalId": "p"}])
def test_gateway_invalid_authorizer_result_is_500(result: Any) -> None:
    calls = _Calls(result, OK_RESULT)
    reply = _gateway(calls).handle(_request("/v1/usage", method="GET", body=b""))
    assert reply.status == 500
    assert calls.api_events == []


def test_gateway_authorizer_crash_is_500() -> None:
    reply = _gateway(_Calls(RuntimeError("table missing"), OK_RESULT)).handle(_request("/v1/usage", method="GET"))
    assert reply.status == 500


def test_gateway_public_route_skips_authorizer() -> None:
    calls = _Calls(Exception("Unauthorized"), OK_RESULT)
    reply = _gateway(calls).handle(_request("/v1/openapi.json", method="GET", body=b""))
    assert reply.status == 201
    assert calls.authorizer_events == []
    assert "authorizer" not in calls.api_events[0]["requestContext"]


@pytest.mark.parametrize("api_result", [RuntimeError("boom"), {"statusCode": "200"}, ["not", "an", "object"]])
def test_gateway_broken_api_is_502(api_result: Any) -> None:
    reply = _gateway(_Calls(_allow(), api_result)).handle(_request("/v1/usage", method="GET", body=b""))
    assert reply.status == 502
    assert json.loads(reply.body)["type"] == "urn:cascade:problem:bad-gateway"


def test_gateway_head_has_no_body() -> None:
    reply = _gateway(_Calls(_allow(), OK_RESULT)).handle(_request("/v1/usage", method="HEAD", body=b""))
    assert reply.status == 201
    assert reply.body == b""
