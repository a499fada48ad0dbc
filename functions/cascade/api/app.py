"""The HTTP API application: one Powertools resolver with every ``/v1`` route and one error handler.

A request goes through these steps, and the first that fails decides the reply:

1. ``check_body``, before routing: the body must decode (base64 and UTF-8, 400), fit
   ``max_request_bytes`` (413) and be declared as JSON when a Content-Type is sent (415).
2. The resolver parses the body with ``parse_json_body`` (400 for malformed JSON) and validates the
   body, path and query against each route's signature (422).
3. The route runs; whatever it raises goes to the one exception handler, which sends the problem
   document that ``cascade.api.problems`` maps the error to.

``get_app`` builds the application once per cold start. Run ``python -m cascade.api.app PATH`` to
write the OpenAPI document to ``PATH`` (``make openapi``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from cascade.api.problems import (
    INTERNAL_ERROR,
    ApiError,
    MalformedRequestError,
    Problem,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
    problem_for,
)
from cascade.api.routes import billing, companies, enrichments, jobs, openapi, people, usage
from cascade.domain.errors import FieldError, InvalidInputError
from cascade.observability import get_logger
from cascade.settings import Settings, get_settings

JSON_MEDIA_TYPE = "application/json"
_JSON_KINDS: dict[type, str] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_ROUTERS = (
    people.router,
    companies.router,
    enrichments.router,
    usage.router,
    billing.router,
    jobs.router,
    openapi.router,
)


@dataclass(frozen=True, slots=True)
class CascadeApi:
    """The resolver with every route, and the checks that run before it receives a request."""

    resolver: APIGatewayRestResolver
    max_request_bytes: int

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Return the proxy result for one API Gateway REST proxy event."""
        request_id = request_id_of(event)
        logger = get_logger()
        # lambda_entry clears log keys at each invocation, but a direct caller such as the local stack does not.
        logger.remove_keys(["key_id", "enrichment_id"])
        logger.append_keys(request_id=request_id)
        try:
            check_body(event, max_bytes=self.max_request_bytes)
        except ApiError as error:
            problem = problem_for(error, request_id=request_id)
            _log_problem(problem, error)
            return problem.to_proxy_result()
        return self.resolver.resolve(event, context)


def create_app(settings: Settings) -> CascadeApi:
    """Build the resolver with validation on, include every router and register the error handler."""
    # debug=False keeps POWERTOOLS_DEV from printing whole events, which carry API keys and personal data.
    resolver = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body, debug=False)
    for router in _ROUTERS:
        resolver.include_router(router)

    def handle_error(error: Exception) -> Response[str]:
        problem = problem_for(
            error, request_id=request_id_of(resolver.current_event.raw_event), body_model=_body_model(resolver)
        )
        _log_problem(problem, error)
        return problem.to_response()

    resolver.exception_handler(Exception)(handle_error)
    return CascadeApi(resolver=resolver, max_request_bytes=settings.max_request_bytes)


@functools.cache
def get_app() -> CascadeApi:
    return create_app(get_settings())


def check_body(event: Mapping[str, Any], *, max_bytes: int) -> None:
    """Reject a body that does not decode, is larger than ``max_bytes`` bytes, or is declared as non-JSON."""
    body = event.get("body")
    if not body:
        return
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRequestError("the request body is marked as base64 but is not valid base64") from None
    else:
        raw = str(body).encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise RequestTooLargeError(f"the request body has {len(raw)} bytes; send at most {max_bytes} bytes")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequestError("the request body is not UTF-8 text; send JSON encoded as UTF-8") from None
    content_type = _header(event, "content-type")
    media_type = content_type.partition(";")[0].strip().lower() if content_type else None
    if media_type and media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaTypeError(
            f"the request body is declared as {media_type!r}; send JSON with Content-Type: {JSON_MEDIA_TYPE}"
        )


def parse_json_body(text: str) -> dict[str, Any]:
    """Parse a request body as one strict JSON object.

    Raises ``MalformedRequestError`` (400) for text that is not JSON, repeats a key, or contains NaN or
    Infinity, and ``InvalidInputError`` (422) for JSON that is not an object. Powertools would otherwise
    validate the first element of a JSON array as if it were the whole body.
    """
    try:
        parsed = json.loads(text, object_pairs_hook=_object_without_repeated_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise MalformedRequestError(
            f"the request body is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            "send one JSON object"
        ) from None
    except RecursionError:
        raise MalformedRequestError(
            "the request body nests arrays or objects too deeply to parse; send a flat JSON object"
        ) from None
    if not isinstance(parsed, dict):
        kind = _JSON_KINDS.get(type(parsed), "value")
        raise InvalidInputError([FieldError("body", f"the request body is a JSON {kind}; send a JSON object")])
    return parsed


def request_id_of(event: Mapping[str, Any]) -> str | None:
    """Return API Gateway's request id, which clients also see in the ``x-amzn-RequestId`` reply header."""
    request_context = event.get("requestContext")
    request_id = request_context.get("requestId") if isinstance(request_context, Mapping) else None
    return str(request_id) if request_id else None


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        if key in parsed:
            raise MalformedRequestError(f"the request body repeats the key {key!r}; send each key once")
        parsed[key] = value
    return parsed


def _reject_constant(name: str) -> Any:
    raise MalformedRequestError(f"the request body contains {name}, which JSON does not allow; send a number")


def _header(event: Mapping[str, Any], name: str) -> str | None:
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name and isinstance(value, str):
            return value
    return None


def _body_model(resolver: APIGatewayRestResolver) -> type[BaseModel] | None:
    """Return the body model of the route being served, so a 422 can list its accepted fields."""
    # Powertools keeps the matched route under "_route" in the resolver's context while it serves a request.
    route = resolver.context.get("_route")
    body_field = getattr(route, "body_field", None)
    annotation = getattr(getattr(body_field, "field_info", None), "annotation", None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _log_problem(problem: Problem, error: BaseException) -> None:
    logger = get_logger()
    if problem.problem_type is INTERNAL_ERROR:
        logger.exception("request failed", status=problem.status, error=type(error).__name__, exc_info=error)
    elif problem.status >= 500:
        logger.warning("request not served", status=problem.status, problem=problem.problem_type.slug)
    else:
        # Field names only: a detail can repeat the caller's input, which may be personal data.
        fields = [field_error.field for field_error in problem.errors]
        logger.info("request rejected", status=problem.status, problem=problem.problem_type.slug, fields=fields)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the OpenAPI document, or write it to the path given."""
    parser = argparse.ArgumentParser(prog="python -m cascade.api.app", description=main.__doc__)
    parser.add_argument("path", nargs="?", type=Path, help="file to write the document to; omit to print it")
    arguments = parser.parse_args(argv)
    document = openapi.openapi_document(create_app(get_settings()).resolver)
    if arguments.path is None:
        sys.stdout.write(document)
    else:
        arguments.path.write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
