"""The calling API key, as the Lambda authorizer describes it in ``requestContext.authorizer``.

Handlers learn who calls only from this context, never from the body or a header, because API
Gateway writes it after the authorizer checked the key. The authorizer sends ``key_id``,
``account_id``, ``mode`` and ``plan`` (the ``KeyPlan`` as a JSON string, because API Gateway passes
only strings, numbers and booleans).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from cascade.api.problems import UnauthenticatedError
from cascade.domain.keys import KEY_ID_PATTERN, KeyMode, validate_account_id
from cascade.domain.plans import KeyPlan
from cascade.observability import get_logger


class Caller(BaseModel):
    """The API key that sent the request, its account, its mode and its plan."""

    # API Gateway adds its own entries (principalId, integrationLatency) next to the authorizer's.
    model_config = ConfigDict(frozen=True, extra="ignore")

    key_id: Annotated[str, Field(pattern=KEY_ID_PATTERN)]
    account_id: Annotated[str, AfterValidator(validate_account_id)]
    mode: KeyMode
    plan: KeyPlan

    @field_validator("plan", mode="before")
    @classmethod
    def _plan_from_json_text(cls, value: Any) -> Any:
        return KeyPlan.model_validate_json(value) if isinstance(value, str | bytes) else value


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    """Read the caller from an API Gateway proxy event.

    Raises ``UnauthenticatedError`` (401) when the event carries no authorizer context with a key id,
    which happens only when the route was deployed without the authorizer. A context that is present
    but invalid raises pydantic's ``ValidationError``, a server fault, because the authorizer wrote it.
    """
    request_context = event.get("requestContext")
    authorizer = request_context.get("authorizer") if isinstance(request_context, Mapping) else None
    if not isinstance(authorizer, Mapping) or not authorizer.get("key_id"):
        raise UnauthenticatedError(
            "this request carries no API key context; send the key as Authorization: Bearer <key> or x-api-key"
        )
    return Caller.model_validate(authorizer)


def current_caller(request: Request) -> Caller:
    """Return the caller of the request being handled and add its key id to every later log line."""
    caller = caller_from_event(request.resolved_event.raw_event)
    get_logger().append_keys(key_id=caller.key_id)
    return caller
