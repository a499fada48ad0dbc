"""Problem documents (RFC 9457) and the one table that maps errors to HTTP statuses.

Routes and storage raise exceptions. The app's single exception handler turns each one into an
``application/problem+json`` reply with ``problem_for``, so a status is chosen here and nowhere else.
An exception that the table does not list is a server fault: it becomes a 500 with a generic
detail and the request id, and the app logs it with its traceback.

Problem ``type`` values are URNs: stable identifiers that clients can compare, not pages to fetch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from cascade.billing.caps import SpendCapExceededError
from cascade.billing.errors import BillingError, MatchNotFoundError
from cascade.domain.errors import FieldError, InvalidInputError, field_errors
from cascade.storage.dynamo import RetryableStorageError

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:cascade:problem:"
# Powertools puts where a value came from before its path: ("body", "waterfall", "order") or ("query", "month").
_REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})
_JSON_INVALID = "json_invalid"


@dataclass(frozen=True, slots=True)
class ProblemType:
    """One kind of problem: its status, a short title that never varies, and a slug for its ``type`` URN."""

    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return f"{_TYPE_PREFIX}{self.slug}"


MALFORMED_REQUEST = ProblemType("malformed-request", 400, "Malformed request")
INVALID_IDEMPOTENCY_KEY = ProblemType("invalid-idempotency-key", 400, "Invalid Idempotency-Key header")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "Unauthenticated")
SPEND_CAP_EXCEEDED = ProblemType("spend-cap-exceeded", 402, "Monthly spend cap reached")
NOT_FOUND = ProblemType("not-found", 404, "Not found")
IDEMPOTENCY_KEY_REUSED = ProblemType("idempotency-key-reused", 409, "Idempotency-Key reused with another body")
IDEMPOTENCY_IN_PROGRESS = ProblemType("idempotency-in-progress", 409, "Request with this Idempotency-Key in progress")
JOB_NOT_CANCELABLE = ProblemType("job-not-cancelable", 409, "Job cannot be canceled")
REQUEST_TOO_LARGE = ProblemType("request-too-large", 413, "Request body too large")
UNSUPPORTED_MEDIA_TYPE = ProblemType("unsupported-media-type", 415, "Unsupported media type")
INVALID_INPUT = ProblemType("invalid-input", 422, "Invalid input")
INTERNAL_ERROR = ProblemType("internal-error", 500, "Internal server error")
PROVIDERS_UNAVAILABLE = ProblemType("providers-unavailable", 503, "No provider available")
STORAGE_BUSY = ProblemType("storage-busy", 503, "Service busy")
REGISTRIES_UNAVAILABLE = ProblemType("registries-unavailable", 503, "No company registry available")


class ApiError(Exception):
    """An error that the API returns as a problem document. ``retry_after`` (seconds) adds a Retry-After header."""

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class MalformedRequestError(ApiError):
    """The body is not one valid JSON document (or not valid base64 or UTF-8)."""


class InvalidIdempotencyKeyError(ApiError):
    """The Idempotency-Key header is empty, too long, or contains characters other than printable ASCII."""


class UnauthenticatedError(ApiError):
    """The request reached a handler without the authorizer's context, so the route lacks the authorizer."""


class ResourceNotFoundError(ApiError):
    """The id is unknown or belongs to another API key.

    Both cases get the same reply, so no key can discover another key's ids.
    """


class IdempotencyKeyReusedError(ApiError):
    """The Idempotency-Key was first used with a different request body."""


class IdempotencyInProgressError(ApiError):
    """The first request with this Idempotency-Key has not finished yet."""


class JobNotCancelableError(ApiError):
    """The bulk job has finished (completed or failed) or is writing its results, so it cannot be canceled."""


class RequestTooLargeError(ApiError):
    """The body is larger than the ``max_request_bytes`` setting."""


class UnsupportedMediaTypeError(ApiError):
    """The body is declared as something other than ``application/json``."""


class ProvidersUnavailableError(ApiError):
    """Every provider call failed or timed out, so nothing was found and nothing was charged."""


class RegistriesUnavailableError(ApiError):
    """Every government registry that a company lookup asked failed, timed out or throttled the request."""


# The status of every error the API expects, looked up along each exception's class hierarchy.
_PROBLEM_TYPES: Mapping[type[Exception], ProblemType] = {
    MalformedRequestError: MALFORMED_REQUEST,
    InvalidIdempotencyKeyError: INVALID_IDEMPOTENCY_KEY,
    UnauthenticatedError: UNAUTHENTICATED,
    ResourceNotFoundError: NOT_FOUND,
    MatchNotFoundError: NOT_FOUND,
    SpendCapExceededError: SPEND_CAP_EXCEEDED,
    RouteNotFoundError: NOT_FOUND,
    IdempotencyKeyReusedError: IDEMPOTENCY_KEY_REUSED,
    IdempotencyInProgressError: IDEMPOTENCY_IN_PROGRESS,
    JobNotCancelableError: JOB_NOT_CANCELABLE,
    RequestTooLargeError: REQUEST_TOO_LARGE,
    UnsupportedMediaTypeError: UNSUPPORTED_MEDIA_TYPE,
    RequestUnsupportedContentType: UNSUPPORTED_MEDIA_TYPE,
    RequestValidationError: INVALID_INPUT,
    InvalidInputError: INVALID_INPUT,
    ProvidersUnavailableError: PROVIDERS_UNAVAILABLE,
    RegistriesUnavailableError: REGISTRIES_UNAVAILABLE,
    RetryableStorageError: STORAGE_BUSY,
}
_STORAGE_RETRY_AFTER_SECONDS = 1


class FieldErrorDocument(BaseModel):
    """One invalid field of a 422 reply: its dotted path and what to send instead."""

    field: str
    message: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document, with the request id and, for 422, the invalid fields."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[FieldErrorDocument] | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem ready to send: its type, the detail of this occurrence, and any extra headers."""

    problem_type: ProblemType
    detail: str
    request_id: str | None = None
    errors: tuple[FieldError, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.problem_type.status

    def document(self) -> ProblemDocument:
        return ProblemDocument(
            type=self.problem_type.uri,
            title=self.problem_type.title,
            status=self.status,
            detail=self.detail,
            request_id=self.request_id,
            errors=[FieldErrorDocument(field=error.field, message=error.message) for error in self.errors] or None,
        )

    def body(self) -> str:
        return self.document().model_dump_json(exclude_none=True)

    def to_response(self) -> Response[str]:
        return Response(
            status_code=self.status, content_type=PROBLEM_CONTENT_TYPE, body=self.body(), headers=dict(self.headers)
        )

    def to_proxy_result(self) -> dict[str, Any]:
        """Return the reply as an API Gateway proxy result, for problems found before routing."""
        headers = {"Content-Type": PROBLEM_CONTENT_TYPE, **self.headers}
        return {
            "statusCode": self.status,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "body": self.body(),
            "isBase64Encoded": False,
        }


def problem_type_of(error: BaseException) -> ProblemType:
    """Return the problem type of ``error``'s class or nearest listed base class. Unlisted errors are 500."""
    if isinstance(error, RequestValidationError) and _is_json_error(error):
        return MALFORMED_REQUEST
    for cls in type(error).__mro__:
        found = _PROBLEM_TYPES.get(cls)
        if found is not None:
            return found
    return INTERNAL_ERROR


def problem_for(error: BaseException, *, request_id: str | None, body_model: type[BaseModel] | None = None) -> Problem:
    """Build the problem to send for ``error``. ``body_model`` names the accepted fields in a 422 reply."""
    problem_type = problem_type_of(error)
    if problem_type is INTERNAL_ERROR:
        detail = "the request failed because of an unexpected error on our side; retry it later"
        if request_id:
            detail += f", and quote request id {request_id} if it keeps failing"
        return Problem(problem_type, detail, request_id=request_id)
    if isinstance(error, BillingError):
        return Problem(problem_type, error.detail, request_id=request_id)
    if isinstance(error, ApiError):
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
        return Problem(problem_type, error.detail, request_id=request_id, headers=headers)
    if isinstance(error, InvalidInputError):
        return _invalid_input(error.errors, request_id)
    if isinstance(error, RequestValidationError):
        if problem_type is MALFORMED_REQUEST:
            return Problem(
                problem_type, "the request body is not valid JSON; send one JSON object", request_id=request_id
            )
        return _invalid_input(request_field_errors(error.errors(), body_model), request_id)
    if isinstance(error, RequestUnsupportedContentType):
        detail = "the request body is not JSON; send it with Content-Type: application/json"
        return Problem(problem_type, detail, request_id=request_id)
    if isinstance(error, RouteNotFoundError):
        detail = "no endpoint matches this method and path; GET /v1/openapi.json lists every endpoint"
        return Problem(problem_type, detail, request_id=request_id)
    detail = "storage is busy; retry the request in a second"
    return Problem(
        problem_type, detail, request_id=request_id, headers={"Retry-After": str(_STORAGE_RETRY_AFTER_SECONDS)}
    )


def request_field_errors(
    errors: Sequence[Mapping[str, Any]], body_model: type[BaseModel] | None = None
) -> list[FieldError]:
    """Turn Powertools' request validation errors into field errors, with paths relative to their request part.

    The errors are pydantic's own, with the request part (``body``, ``query`` ...) in front of each
    location, so they are rebuilt as a ``ValidationError`` and described by ``field_errors``.
    """
    details: list[InitErrorDetails] = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        if location and location[0] in _REQUEST_PARTS:
            location = location[1:]
        kind = str(error.get("type", "value_error"))
        context = error.get("ctx")
        if kind == "value_error" and context is not None:
            # field_errors reads a validator's own message from the exception stored in ctx.
            details.append({"type": kind, "loc": location, "input": error.get("input"), "ctx": context})
        else:
            # A custom error keeps the type and the rendered message, including types pydantic does not define.
            message = str(error.get("msg", "invalid value"))
            details.append({"type": PydanticCustomError(kind, message), "loc": location, "input": error.get("input")})
    rebuilt = ValidationError.from_exception_data("request", details)
    return field_errors(rebuilt, body_model)


def problem_responses(*problem_types: ProblemType) -> dict[int, OpenAPIResponse]:
    """Return the OpenAPI ``responses`` entries for the problems an operation can send, one per status."""
    responses: dict[int, OpenAPIResponse] = {}
    for problem_type in problem_types:
        existing = responses.get(problem_type.status)
        description = problem_type.title if existing is None else f"{existing['description']}; {problem_type.title}"
        responses[problem_type.status] = {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"model": ProblemDocument}},
        }
    return responses


def _invalid_input(errors: Sequence[FieldError], request_id: str | None) -> Problem:
    names = ", ".join(dict.fromkeys(error.field for error in errors))
    detail = f"the request has invalid fields: {names}; see errors for what to send instead"
    return Problem(INVALID_INPUT, detail, request_id=request_id, errors=tuple(errors))


def _is_json_error(error: RequestValidationError) -> bool:
    return any(item.get("type") == _JSON_INVALID for item in error.errors())
