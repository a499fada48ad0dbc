"""A local HTTP front door that works like API Gateway's REST API in front of the API Lambda.

Each request becomes an API Gateway REST (v1) proxy event, with the same fields as the samples in
``events/apigateway/``. Every route except the public ``GET /v1/openapi.json`` first goes through
the REQUEST authorizer, as on AWS:

- the authorizer raises ``Exception("Unauthorized")``: 401;
- its policy denies the method ARN: 403;
- its policy allows it: its ``context`` and ``principalId`` become ``requestContext.authorizer``
  and the API handler serves the request.

Allow and Deny results are cached for 60 seconds per presented credential, as API Gateway caches
authorizer results, so a revoked key keeps working until its cached result expires. Bodies larger
than 10 MB, API Gateway's payload limit, are rejected with 413 before they are read. The replies
that the gateway writes itself (API Gateway's "gateway responses") are problem documents, all
defined in ``GATEWAY_RESPONSES``.

The handlers run in this process, one thread per connection.
NOTE: unlike API Gateway, the gateway does not end a request after 29 seconds, because a Python
thread cannot be stopped. The waterfall's own deadline ends an enrichment before then.
"""

from __future__ import annotations

import base64
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from cascade.api.problems import INTERNAL_ERROR, REQUEST_TOO_LARGE, UNAUTHENTICATED, Problem, ProblemType
from infra.local.moto_bridge import LocalLambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

STAGE = "local"
API_ID = "local"
# API Gateway's limit on a request payload.
MAX_BODY_BYTES = 10 * 1024 * 1024
# API Gateway's default TTL for authorizer results. The deployed stack turns API Gateway's cache off,
# but its authorizer caches key lookups for the same 60 seconds (``KEY_CACHE_SECONDS``).
AUTHORIZER_CACHE_SECONDS = 60
# The time API Gateway gives a Lambda integration, used as the handler's remaining time.
INTEGRATION_TIMEOUT_SECONDS = 29
AUTHORIZER_TIMEOUT_SECONDS = 10
OPENAPI_PATH = "/v1/openapi.json"
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", OPENAPI_PATH)})
# The resource of a request that matches no route template: a greedy proxy resource, as an API that
# sends every path to one Lambda function would have.
PROXY_RESOURCE = "/{proxy+}"

# The exact exception message that makes API Gateway reply 401 to a REQUEST authorizer's caller.
_UNAUTHORIZED_MESSAGE = "Unauthorized"
_INVOKE_ACTION = "execute-api:Invoke"
# Idle keep-alive connections are closed after this many seconds, which also bounds a stuck client.
_CONNECTION_IDLE_SECONDS = 60
_CHUNK_SIZE_LINE_LIMIT = 1024
# How often the serving thread checks for shutdown(), in seconds.
_SHUTDOWN_POLL_SECONDS = 0.05
# Headers that describe the connection or the framing, which the gateway sets itself.
_HOP_BY_HOP = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding", "upgrade"})
_logger = logging.getLogger(__name__)

FORBIDDEN = ProblemType("forbidden", 403, "Forbidden")
BAD_GATEWAY = ProblemType("bad-gateway", 502, "Bad gateway")


class GatewayResponseType(StrEnum):
    """The replies that API Gateway writes itself, named as in its gateway response types."""

    UNAUTHORIZED = "UNAUTHORIZED"
    ACCESS_DENIED = "ACCESS_DENIED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    AUTHORIZER_FAILURE = "AUTHORIZER_FAILURE"
    AUTHORIZER_CONFIGURATION_ERROR = "AUTHORIZER_CONFIGURATION_ERROR"
    INTEGRATION_FAILURE = "INTEGRATION_FAILURE"


@dataclass(frozen=True, slots=True)
class GatewayResponse:
    """The problem type and detail of one gateway response."""

    problem_type: ProblemType
    detail: str


GATEWAY_RESPONSES: Mapping[GatewayResponseType, GatewayResponse] = {
    GatewayResponseType.UNAUTHORIZED: GatewayResponse(
        UNAUTHENTICATED,
        "the request has no API key, or an unknown one; send an active key as Authorization: Bearer <key> "
        "or x-api-key: <key>",
    ),
    GatewayResponseType.ACCESS_DENIED: GatewayResponse(
        FORBIDDEN, "this API key is revoked; send an active key, or create one with `cascade keys create`"
    ),
    GatewayResponseType.REQUEST_TOO_LARGE: GatewayResponse(
        REQUEST_TOO_LARGE,
        f"the request body is larger than {MAX_BODY_BYTES} bytes, the API's limit; send a smaller body",
    ),
    GatewayResponseType.AUTHORIZER_FAILURE: GatewayResponse(
        INTERNAL_ERROR, "the API key could not be checked because of an error on our side; retry the request later"
    ),
    GatewayResponseType.AUTHORIZER_CONFIGURATION_ERROR: GatewayResponse(
        INTERNAL_ERROR, "the API key check returned an invalid result; retry the request later"
    ),
    GatewayResponseType.INTEGRATION_FAILURE: GatewayResponse(
        BAD_GATEWAY, "the API function failed or returned an invalid reply; retry the request later"
    ),
}


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One HTTP request as the gateway received it. ``target`` is the path with its query string."""

    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True, slots=True)
class GatewayReply:
    """The HTTP reply to write: status, headers in order (names may repeat) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The resource template that a path matched, and its path parameters (``None`` when it has none)."""

    resource: str
    path_parameters: dict[str, str] | None


class RouteTable:
    """Resource templates such as ``/v1/enrichments/{id}``, matched against request paths as API Gateway does.

    A literal segment wins over a parameter at the same position, so ``/v1/jobs/export`` matches
    ``/v1/jobs/export`` before ``/v1/jobs/{id}``. ``{name+}`` at the end matches the rest of the path.
    A path that matches no template gets ``PROXY_RESOURCE``. Parameter values are URL-decoded.
    """

    def __init__(self, templates: Iterable[str]) -> None:
        self._templates = tuple(dict.fromkeys(templates))
        for template in self._templates:
            if not template.startswith("/"):
                raise ValueError(f"resource template {template!r} does not start with '/'; send a path template")

    @property
    def templates(self) -> tuple[str, ...]:
        return self._templates

    def match(self, path: str) -> RouteMatch:
        segments = path.strip("/").split("/") if path.strip("/") else []
        best: tuple[tuple[int, ...], RouteMatch] | None = None
        for template in self._templates:
            found = _match_template(template, segments)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is not None:
            return best[1]
        return RouteMatch(PROXY_RESOURCE, {"proxy": unquote(path.lstrip("/"))})


def _match_template(template: str, segments: list[str]) -> tuple[tuple[int, ...], RouteMatch] | None:
    parts = template.strip("/").split("/") if template.strip("/") else []
    parameters: dict[str, str] = {}
    # One rank per segment: 0 for a literal, 1 for a parameter, 2 for a greedy parameter. Lower is more specific.
    ranks: list[int] = []
    for index, part in enumerate(parts):
        greedy = re.fullmatch(r"\{([A-Za-z0-9_]+)\+\}", part)
        if greedy is not None and index == len(parts) - 1:
            rest = segments[index:]
            if not rest:
                return None
            parameters[greedy.group(1)] = unquote("/".join(rest))
            ranks.append(2)
            return tuple(ranks), RouteMatch(template, parameters)
        if index >= len(segments):
            return None
        parameter = re.fullmatch(r"\{([A-Za-z0-9_]+)\}", part)
        if parameter is not None:
            if not segments[index]:
                return None
            parameters[parameter.group(1)] = unquote(segments[index])
            ranks.append(1)
        elif part == segments[index]:
            ranks.append(0)
        else:
            return None
    if len(parts) != len(segments):
        return None
    return tuple(ranks), RouteMatch(template, parameters or None)


def proxy_event(
    request: GatewayRequest,
    route: RouteMatch,
    *,
    request_id: str,
    account_id: str,
    received_at: datetime,
) -> dict[str, Any]:
    """Build the API Gateway REST proxy event (payload version 1.0) for ``request``.

    Header and query values keep the last of repeated values in ``headers`` and
    ``queryStringParameters`` and all of them in the ``multiValue...`` fields. A body that is not
    UTF-8 text is sent base64-encoded with ``isBase64Encoded`` true.
    """
    split = urlsplit(request.target)
    path = split.path or "/"
    headers, multi_headers = _single_and_multi(request.headers)
    query_pairs = parse_qsl(split.query, keep_blank_values=True)
    query, multi_query = _single_and_multi(query_pairs)
    body, is_base64 = _event_body(request.body)
    host = headers.get("Host") or next((value for name, value in headers.items() if name.lower() == "host"), None)
    user_agent = next((value for name, value in headers.items() if name.lower() == "user-agent"), None)
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": route.path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": _resource_id(route.resource),
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": received_at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            # Like a custom domain: the URL carries no stage prefix.
            "path": path,
            "accountId": account_id,
            "protocol": request.protocol,
            "stage": STAGE,
            "domainPrefix": (host or "localhost").split(".")[0],
            "requestTimeEpoch": int(received_at.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": host or "localhost",
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def authorizer_event(event: Mapping[str, Any], method_arn: str) -> dict[str, Any]:
    """Build the REQUEST authorizer event that API Gateway sends for the proxy ``event``."""
    names = (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    )
    return {"type": "REQUEST", "methodArn": method_arn, **{name: event.get(name) for name in names}}


def policy_allows(result: Mapping[str, Any], method_arn: str) -> bool:
    """Return whether an authorizer's policy allows ``execute-api:Invoke`` on ``method_arn``.

    As in IAM, a matching Deny statement wins over any Allow, and no matching statement denies.
    Raises ``ValueError`` when the result has no principal id or no policy document.
    """
    if not isinstance(result, Mapping):
        raise ValueError(f"the authorizer result is a {type(result).__name__}, not an object")
    principal = result.get("principalId")
    document = result.get("policyDocument")
    if not isinstance(principal, str) or not principal or not isinstance(document, Mapping):
        raise ValueError("the authorizer result has no principalId or no policyDocument")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise ValueError("the authorizer's policyDocument has no Statement list")
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise ValueError("a statement of the authorizer's policyDocument is not an object")
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if not any(_wildcard_match(action, _INVOKE_ACTION) for action in actions):
            continue
        if not any(_wildcard_match(resource, method_arn) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def authorizer_context(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``requestContext.authorizer`` for an allowed request: the result's context and its principal id.

    NOTE: API Gateway hands the context values of a REST API to the Lambda as strings, so numbers and
    booleans are converted here too. Objects and arrays are not allowed and raise ``ValueError``.
    """
    context = result.get("context") or {}
    if not isinstance(context, Mapping):
        raise ValueError("the authorizer result's context is not an object")
    converted: dict[str, Any] = {}
    for name, value in context.items():
        if isinstance(value, bool):
            converted[str(name)] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            converted[str(name)] = str(value)
        elif value is not None:
            raise ValueError(f"the authorizer context value {name!r} is not a string, number or boolean")
    converted["principalId"] = str(result.get("principalId"))
    return converted


@dataclass(frozen=True, slots=True)
class AuthorizerDecision:
    """The authorizer's verdict on one credential, and the context it gave the API handler."""

    allowed: bool
    context: dict[str, Any]


@dataclass
class AuthorizerCache:
    """Authorizer decisions per presented credential, kept for ``ttl_seconds`` of ``clock`` time."""

    ttl_seconds: float
    clock: Callable[[], float] = time.monotonic
    # identity -> (expiry on the clock, decision)
    _entries: dict[tuple[str | None, ...], tuple[float, AuthorizerDecision]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, identity: tuple[str | None, ...]) -> AuthorizerDecision | None:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None or entry[0] <= now:
                self._entries.pop(identity, None)
                return None
            return entry[1]

    def put(self, identity: tuple[str | None, ...], decision: AuthorizerDecision) -> None:
        if self.ttl_seconds <= 0:
            return
        now = self.clock()
        with self._lock:
            # Expired entries are dropped here, so the cache contains at most the credentials of the last TTL.
            for expired in [key for key, (expires_at, _) in self._entries.items() if expires_at <= now]:
                del self._entries[expired]
            self._entries[identity] = (now + self.ttl_seconds, decision)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ApiGateway:
    """An in-process API Gateway that authorizes each request and calls the API handler with a proxy event.

    The handler's proxy result is shaped into the HTTP reply. ``identity_headers`` are the headers whose
    values key the authorizer cache, like the identity sources of an API Gateway authorizer.
    ``clock`` drives the cache, and ``now`` stamps the events.
    """

    def __init__(
        self,
        *,
        api: LambdaHandler,
        authorizer: LambdaHandler,
        route_templates: Iterable[str],
        region: str,
        account_id: str,
        authorizer_cache_seconds: float = AUTHORIZER_CACHE_SECONDS,
        identity_headers: Sequence[str] = ("authorization", "x-api-key"),
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._api = api
        self._authorizer = authorizer
        self._routes = RouteTable([*route_templates, OPENAPI_PATH])
        self._region = region
        self._account_id = account_id
        self._identity_headers = tuple(name.lower() for name in identity_headers)
        self._now = now
        self.cache = AuthorizerCache(authorizer_cache_seconds, clock)

    @property
    def routes(self) -> RouteTable:
        return self._routes

    def handle(self, request: GatewayRequest) -> GatewayReply:
        """Handle one request as API Gateway and the API Lambda behind it would, and return the reply."""
        request_id = str(uuid.uuid4())
        route = self._routes.match(urlsplit(request.target).path or "/")
        event = proxy_event(request, route, request_id=request_id, account_id=self._account_id, received_at=self._now())
        if (request.method, route.resource) not in PUBLIC_ROUTES:
            rejection = self._authorize(event, request, request_id)
            if rejection is not None:
                return rejection
        return self._invoke_api(event, request_id, head=request.method == "HEAD")

    def gateway_reply(self, response_type: GatewayResponseType, request_id: str) -> GatewayReply:
        """Return the gateway response of ``response_type`` as a problem document."""
        response = GATEWAY_RESPONSES[response_type]
        problem = Problem(response.problem_type, response.detail, request_id=request_id)
        headers = (("Content-Type", "application/problem+json"), ("x-amzn-RequestId", request_id))
        return GatewayReply(problem.status, headers, problem.body().encode("utf-8"))

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self._region}:{self._account_id}:{API_ID}/{STAGE}/{method}{path}"

    def _authorize(self, event: dict[str, Any], request: GatewayRequest, request_id: str) -> GatewayReply | None:
        """Put the authorizer's context into ``event``, or return the 401, 403 or 500 reply that stops the request."""
        identity = self._identity(request.headers)
        decision = self.cache.get(identity)
        if decision is None:
            called = self._call_authorizer(event, request_id)
            if isinstance(called, GatewayReply):
                return called
            decision = called
            self.cache.put(identity, decision)
        if not decision.allowed:
            return self.gateway_reply(GatewayResponseType.ACCESS_DENIED, request_id)
        event["requestContext"]["authorizer"] = dict(decision.context)
        return None

    def _call_authorizer(self, event: dict[str, Any], request_id: str) -> AuthorizerDecision | GatewayReply:
        method_arn = self.method_arn(event["httpMethod"], event["path"])
        context = local_lambda_context(
            "cascade-local-authorizer", AUTHORIZER_TIMEOUT_SECONDS, self._region, self._account_id
        )
        try:
            result = self._authorizer(authorizer_event(event, method_arn), context)
        except Exception as error:
            if str(error) == _UNAUTHORIZED_MESSAGE:
                return self.gateway_reply(GatewayResponseType.UNAUTHORIZED, request_id)
            _logger.exception("authorizer failed", extra={"request_id": request_id})
            return self.gateway_reply(GatewayResponseType.AUTHORIZER_FAILURE, request_id)
        try:
            allowed = policy_allows(result, method_arn)
            authorizer = authorizer_context(result) if allowed else {}
        except ValueError as error:
            _logger.error("authorizer returned an invalid result: %s", error, extra={"request_id": request_id})
            return self.gateway_reply(GatewayResponseType.AUTHORIZER_CONFIGURATION_ERROR, request_id)
        return AuthorizerDecision(allowed=allowed, context=authorizer)

    def _invoke_api(self, event: dict[str, Any], request_id: str, *, head: bool) -> GatewayReply:
        context = local_lambda_context("cascade-local-api", INTEGRATION_TIMEOUT_SECONDS, self._region, self._account_id)
        try:
            result = self._api(event, context)
            reply = _reply_from_proxy_result(result, request_id)
        except Exception:
            _logger.exception("API handler failed", extra={"request_id": request_id})
            return self.gateway_reply(GatewayResponseType.INTEGRATION_FAILURE, request_id)
        if head:
            return GatewayReply(reply.status, reply.headers, b"")
        return reply

    def _identity(self, headers: Sequence[tuple[str, str]]) -> tuple[str | None, ...]:
        by_name = {name.lower(): value for name, value in headers}
        return tuple(by_name.get(name) for name in self._identity_headers)


def _reply_from_proxy_result(result: Any, request_id: str) -> GatewayReply:
    """Shape a Lambda proxy result into a reply, or raise ``ValueError`` when it is not a valid proxy result.

    As API Gateway does, values of ``multiValueHeaders`` replace a ``headers`` value of the same name.
    """
    if not isinstance(result, Mapping):
        raise ValueError(f"the proxy result is a {type(result).__name__}, not an object")
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"the proxy result's statusCode {status!r} is not an HTTP status")
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, Mapping) or not isinstance(single, Mapping):
        raise ValueError("the proxy result's headers or multiValueHeaders is not an object")
    headers: list[tuple[str, str]] = []
    multi_names = {str(name).lower() for name in multi}
    for name, values in multi.items():
        for value in _as_list(values):
            headers.append((str(name), _header_text(value)))
    for name, value in single.items():
        if str(name).lower() not in multi_names:
            headers.append((str(name), _header_text(value)))
    headers = [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
    if not any(name.lower() == "x-amzn-requestid" for name, _ in headers):
        headers.append(("x-amzn-RequestId", request_id))
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(str(body), validate=True)
    else:
        payload = str(body).encode("utf-8")
    return GatewayReply(status, tuple(headers), payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def local_lambda_context(function_name: str, timeout_seconds: int, region: str, account_id: str) -> LocalLambdaContext:
    """Return a Lambda context for one in-process invocation of ``function_name``."""
    return LocalLambdaContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account_id}:function:{function_name}",
        memory_limit_in_mb=512,
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name=f"local/[$LATEST]{uuid.uuid4().hex}",
        deadline=time.monotonic() + timeout_seconds,
    )


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _event_body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _resource_id(resource: str) -> str:
    # API Gateway's resource ids are short random strings. A stable one per resource keeps logs comparable.
    return uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _wildcard_match(pattern: Any, value: str) -> bool:
    """Match an IAM action or resource pattern, where ``*`` is any run of characters and ``?`` one character."""
    if not isinstance(pattern, str):
        return False
    parts: list[str] = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.fullmatch("".join(parts), value, flags=re.DOTALL) is not None


class _BodyTooLargeError(Exception):
    """The request body is larger than the gateway accepts."""


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    server: GatewayHttpServer
    protocol_version = "HTTP/1.1"
    timeout = _CONNECTION_IDLE_SECONDS

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        _logger.debug(format, *args)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.monotonic()
        gateway = self.server.gateway
        try:
            body = self._read_body(MAX_BODY_BYTES)
        except _BodyTooLargeError:
            # The unread body makes the connection unusable for another request.
            self.close_connection = True
            reply = gateway.gateway_reply(GatewayResponseType.REQUEST_TOO_LARGE, str(uuid.uuid4()))
        except ValueError as error:
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST, f"invalid request framing: {error}")
            return
        else:
            request = GatewayRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            reply = gateway.handle(request)
        self._write(reply)
        elapsed_ms = (time.monotonic() - started) * 1000
        _logger.info("%s %s %d %.0f ms", self.command, urlsplit(self.path).path, reply.status, elapsed_ms)

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        length = int(length_text)
        if length < 0:
            raise ValueError(f"Content-Length {length} is negative")
        if length > limit:
            raise _BodyTooLargeError
        return self.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(_CHUNK_SIZE_LINE_LIMIT)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # The trailer section ends with an empty line.
                while self.rfile.readline(_CHUNK_SIZE_LINE_LIMIT).strip():
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _BodyTooLargeError
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_CHUNK_SIZE_LINE_LIMIT)

    def _write(self, reply: GatewayReply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


class GatewayHttpServer(ThreadingHTTPServer):
    """The gateway's HTTP server: one thread per connection, every thread joined by ``server_close``."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        super().__init__(address, _GatewayRequestHandler)
        self.gateway = gateway
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_idle_reads(self) -> None:
        """End every connection's wait for another request. A request being served still gets its reply."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RD)
            except OSError:
                # The client closed the connection in the meantime.
                continue


class GatewayServer:
    """An HTTP server for an ``ApiGateway``, run from a background thread on ``host``:``port`` (0 picks a free port)."""

    def __init__(self, gateway: ApiGateway, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = GatewayHttpServer((host, port), gateway)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_SHUTDOWN_POLL_SECONDS,), name="local-api-gateway", daemon=True
        )
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, let requests in progress finish, close idle connections and join every thread."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.close_idle_reads()
        self._server.server_close()
