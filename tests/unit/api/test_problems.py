from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from cascade.api import problems
from cascade.domain.errors import FieldError, InvalidInputError
from cascade.domain.models import PersonEnrichmentRequest
from cascade.storage.dynamo import RetryableStorageError, StorageError, TableNotFoundError


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (problems.MalformedRequestError("x"), 400, "malformed-request"),
        (problems.InvalidIdempotencyKeyError("x"), 400, "invalid-idempotency-key"),
        (problems.UnauthenticatedError("x"), 401, "unauthenticated"),
        (problems.ResourceNotFoundError("x"), 404, "not-found"),
        (NotFoundError(), 404, "not-found"),
        (problems.IdempotencyKeyReusedError("x"), 409, "idempotency-key-reused"),
        (problems.IdempotencyInProgressError("x"), 409, "idempotency-in-progress"),
        (problems.RequestTooLargeError("x"), 413, "request-too-large"),
        (problems.UnsupportedMediaTypeError("x"), 415, "unsupported-media-type"),
        (InvalidInputError([FieldError("full_name", "two people")]), 422, "invalid-input"),
        (RequestValidationError([{"type": "missing", "loc": ("query", "month")}]), 422, "invalid-input"),
        (RequestValidationError([{"type": "json_invalid", "loc": ("body", 1)}]), 400, "malformed-request"),
        (problems.ProvidersUnavailableError("x"), 503, "providers-unavailable"),
        (RetryableStorageError("x", code="ThrottlingException"), 503, "storage-busy"),
        (StorageError("x", code="ValidationException"), 500, "internal-error"),
        (TableNotFoundError("x", code="ResourceNotFoundException"), 500, "internal-error"),
        (ValueError("x"), 500, "internal-error"),
        (KeyError("x"), 500, "internal-error"),
    ],
)
def test_problem_type_of_error(error: Exception, status: int, slug: str) -> None:
    problem_type = problems.problem_type_of(error)
    assert problem_type.status == status
    assert problem_type.slug == slug


def test_problem_document_members() -> None:
    problem = problems.problem_for(problems.ResourceNotFoundError("no enrichment"), request_id="req-1")
    document = json.loads(problem.body())
    assert document == {
        "type": "urn:cascade:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no enrichment",
        "request_id": "req-1",
    }


def test_problem_internal_error_hides_detail() -> None:
    problem = problems.problem_for(RuntimeError("table cascade-ledger is gone"), request_id="req-9")
    document = json.loads(problem.body())
    assert document["status"] == 500
    assert "cascade-ledger" not in document["detail"]
    assert "req-9" in document["detail"]
    assert document["request_id"] == "req-9"


def test_problem_retry_after_header() -> None:
    error = problems.IdempotencyInProgressError("still running", retry_after=1)
    problem = problems.problem_for(error, request_id=None)
    assert problem.headers == {"Retry-After": "1"}
    assert problem.to_response().headers["Retry-After"] == "1"


def test_problem_storage_busy_retry_after() -> None:
    problem = problems.problem_for(RetryableStorageError("throttled", code="ThrottlingException"), request_id=None)
    assert problem.status == 503
    assert problem.headers == {"Retry-After": "1"}


def test_problem_invalid_input_errors() -> None:
    error = InvalidInputError([FieldError("full_name", "names two people"), FieldError("company_domain", "bad")])
    document = json.loads(problems.problem_for(error, request_id=None).body())
    assert document["status"] == 422
    assert document["errors"] == [
        {"field": "full_name", "message": "names two people"},
        {"field": "company_domain", "message": "bad"},
    ]
    assert "full_name, company_domain" in document["detail"]


def test_problem_errors_absent_outside_422() -> None:
    document = json.loads(problems.problem_for(problems.RequestTooLargeError("big"), request_id=None).body())
    assert "errors" not in document


def test_problem_proxy_result_shape() -> None:
    result = problems.problem_for(problems.RequestTooLargeError("big"), request_id="r").to_proxy_result()
    assert result["statusCode"] == 413
    assert result["multiValueHeaders"] == {"Content-Type": ["application/problem+json"]}
    assert result["isBase64Encoded"] is False
    assert json.loads(result["body"])["detail"] == "big"


def test_request_field_errors_strip_request_part() -> None:
    errors = problems.request_field_errors(
        [
            {"type": "missing", "loc": ("query", "month"), "msg": "Field required", "input": None},
            {
                "type": "string_too_long",
                "loc": ("body", "waterfall", "order", 0),
                "msg": "String should have at most 40 characters",
                "input": "x" * 41,
            },
        ]
    )
    assert [error.field for error in errors] == ["month", "waterfall.order.0"]
    assert errors[0].message == "this field is required"
    assert errors[1].message.startswith("String should have at most 40 characters")


def test_request_field_errors_keep_validator_message() -> None:
    cause = ValueError('amount 0.2 must be a decimal string such as "0.20"')
    errors = problems.request_field_errors(
        [{"type": "value_error", "loc": ("body", "waterfall", "max_amount"), "input": 0.2, "ctx": {"error": cause}}]
    )
    assert errors == [FieldError("waterfall.max_amount", 'amount 0.2 must be a decimal string such as "0.20"')]


def test_request_field_errors_unknown_field_hint() -> None:
    errors = problems.request_field_errors(
        [{"type": "extra_forbidden", "loc": ("body", "company_domian"), "msg": "Extra inputs", "input": "x.com"}],
        PersonEnrichmentRequest,
    )
    assert errors[0].field == "company_domian"
    assert "unknown field 'company_domian'" in errors[0].message
    assert "company_domain" in errors[0].message


def test_request_field_errors_whole_body() -> None:
    errors = problems.request_field_errors([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    assert errors == [FieldError("body", "this field is required")]


def test_problem_responses_merge_same_status() -> None:
    responses = problems.problem_responses(problems.MALFORMED_REQUEST, problems.INVALID_IDEMPOTENCY_KEY)
    assert list(responses) == [400]
    assert responses[400]["description"] == "Malformed request; Invalid Idempotency-Key header"
    assert responses[400]["content"] == {"application/problem+json": {"model": problems.ProblemDocument}}
