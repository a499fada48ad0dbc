"""The waterfall state machine in Amazon States Language, generated from the provider registry.

CDK deploys this definition and the local stack runs the very same one in moto. Every contact finder in
the registry gets its own Task state, so a provider added to the registry gets its state here with no
hand-editing. Lambda ARNs are ``${...}`` placeholders: CDK fills them through ``definition_substitutions``
and ``render_definition`` fills them for moto.

The definition uses JSONPath only, because moto 5.2's interpreter supports neither JSONata nor ``Assign``.
Every Choice rule that reads a field checks ``IsPresent`` first, because a rule that reads a missing path
fails the execution with ``States.Runtime`` on AWS.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cascade.providers.registry import contact_finder_names
from cascade.settings import Settings

PLAN_FUNCTION_ARN = "PlanFunctionArn"
STEP_FUNCTION_ARN = "StepFunctionArn"
RECORD_FAILURE_FUNCTION_ARN = "RecordFailureFunctionArn"
SETTLE_FUNCTION_ARN = "SettleFunctionArn"
DEFINITION_PLACEHOLDERS: tuple[str, ...] = (
    PLAN_FUNCTION_ARN,
    STEP_FUNCTION_ARN,
    RECORD_FAILURE_FUNCTION_ARN,
    SETTLE_FUNCTION_ARN,
)

# Transient errors of the Lambda service itself, for a Task that invokes a function by ARN. Every Lambda Task
# retries them.
_LAMBDA_SERVICE_ERRORS = ("Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.SdkClientException")
# The step handler's exception class names, which the Lambda runtime reports as the error name.
_PROVIDER_RETRY_ERRORS = ("ProviderThrottledError", "ProviderTransientError", *_LAMBDA_SERVICE_ERRORS)
# Settle may be run again safely: the ledger's conditional put turns a repeated charge into a duplicate.
_SETTLE_RETRY_ERRORS = ("RetryableStorageError", *_LAMBDA_SERVICE_ERRORS)

# Time a provider Task allows on top of the provider's HTTP connect and read timeouts, for the Lambda
# invocation and the step handler's own work.
TASK_TIMEOUT_MARGIN_SECONDS = 2

# AWS limits a state name to 80 characters.
_MAX_STATE_NAME_LENGTH = 80
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]+")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def build_definition(finders: Sequence[str], *, task_timeout_seconds: Mapping[str, int]) -> dict[str, Any]:
    """Build the waterfall definition with one Task state per contact finder, in the order given.

    ``task_timeout_seconds`` maps every finder to its Task's ``TimeoutSeconds`` and must name no other
    provider. Raises ``ValueError`` for an empty, repeated or unusable finder name and for a missing,
    extra or non-positive timeout.
    """
    _check_finders(finders, task_timeout_seconds)
    states: dict[str, Any] = {
        "Plan": _lambda_task(PLAN_FUNCTION_ARN, next_state="Dispatch"),
        "Dispatch": _dispatch(finders),
    }
    for name in finders:
        states[_provider_state(name)] = _provider_task(name, task_timeout_seconds[name])
    states["RecordFailure"] = _lambda_task(RECORD_FAILURE_FUNCTION_ARN, next_state="Route")
    states["Route"] = _route()
    states["WaitRetryAfter"] = {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Dispatch"}
    states["Settle"] = _lambda_task(SETTLE_FUNCTION_ARN, next_state=None, retry_errors=_SETTLE_RETRY_ERRORS)
    return {
        "Comment": "Cascade waterfall: tries contact finders in the planned order until the requested fields are found",
        "QueryLanguage": "JSONPath",
        "StartAt": "Plan",
        "States": states,
    }


def render_definition(definition: Mapping[str, Any], arns: Mapping[str, str]) -> str:
    """Return the definition as JSON text with every ``${Name}`` placeholder replaced by ``arns[Name]``.

    ``arns`` must name exactly the placeholders in ``DEFINITION_PLACEHOLDERS``. Raises ``ValueError`` when
    one is missing or unknown, or when the definition contains a placeholder that ``arns`` does not fill.
    """
    missing = [name for name in DEFINITION_PLACEHOLDERS if name not in arns]
    unknown = sorted(set(arns) - set(DEFINITION_PLACEHOLDERS))
    if missing or unknown:
        raise ValueError(
            f"ARNs for the waterfall definition are missing {missing} and include unknown names {unknown}; "
            f"pass exactly these names: {', '.join(DEFINITION_PLACEHOLDERS)}"
        )
    text = json.dumps(definition)
    for name, arn in arns.items():
        # The ARN lands inside a JSON string literal, so it is escaped the way json.dumps escapes a string.
        text = text.replace("${" + name + "}", json.dumps(arn)[1:-1])
    left = sorted(set(_PLACEHOLDER.findall(text)))
    if left:
        raise ValueError(f"the waterfall definition contains placeholders {left} that no ARN replaces")
    return text


def default_definition(settings: Settings) -> dict[str, Any]:
    """Build the definition for every contact finder in the provider registry.

    Each provider Task times out ``TASK_TIMEOUT_MARGIN_SECONDS`` after the provider's HTTP connect and
    read timeouts, rounded up to whole seconds.
    """
    http_seconds = settings.provider_connect_timeout_seconds + settings.provider_read_timeout_seconds
    timeout = math.ceil(http_seconds) + TASK_TIMEOUT_MARGIN_SECONDS
    finders = contact_finder_names()
    return build_definition(finders, task_timeout_seconds=dict.fromkeys(finders, timeout))


def _check_finders(finders: Sequence[str], task_timeout_seconds: Mapping[str, int]) -> None:
    if not finders:
        raise ValueError("finders is empty; pass the contact finder names from the provider registry")
    repeated = sorted({name for name in finders if finders.count(name) > 1})
    if repeated:
        raise ValueError(f"finders repeats {repeated}; pass each contact finder once")
    for name in finders:
        if not _PROVIDER_NAME.fullmatch(name) or len(_provider_state(name)) > _MAX_STATE_NAME_LENGTH:
            raise ValueError(
                f"invalid provider name {name!r} for a state name; use letters, digits, '_' and '-', "
                f"at most {_MAX_STATE_NAME_LENGTH - len(_provider_state(''))} characters"
            )
    missing = [name for name in finders if name not in task_timeout_seconds]
    extra = sorted(set(task_timeout_seconds) - set(finders))
    if missing or extra:
        raise ValueError(
            f"task_timeout_seconds is missing {missing} and names providers that are not finders {extra}; "
            "give exactly one timeout per finder"
        )
    for name in finders:
        seconds = task_timeout_seconds[name]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            raise ValueError(
                f"invalid Task timeout {seconds!r} for provider {name!r}; pass a whole number of seconds >= 1"
            )


def _provider_state(name: str) -> str:
    return f"Provider_{name}"


def _retry(errors: Sequence[str]) -> dict[str, Any]:
    return {
        "ErrorEquals": list(errors),
        "IntervalSeconds": 1,
        "MaxAttempts": 2,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 4,
        "JitterStrategy": "FULL",
    }


def _lambda_task(
    placeholder: str, *, next_state: str | None, retry_errors: Sequence[str] = _LAMBDA_SERVICE_ERRORS
) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "${" + placeholder + "}",
        "Retry": [_retry(retry_errors)],
    }
    if next_state is None:
        task["End"] = True
    else:
        task["Next"] = next_state
    return task


def _provider_task(name: str, timeout_seconds: int) -> dict[str, Any]:
    # The step handler returns the whole updated state document, so its result replaces the input.
    return {
        "Type": "Task",
        "Resource": "${" + STEP_FUNCTION_ARN + "}",
        "Parameters": {"provider": name, "state.$": "$"},
        "ResultPath": "$",
        "TimeoutSeconds": timeout_seconds,
        "Retry": [_retry(_PROVIDER_RETRY_ERRORS)],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}],
        "Next": "Route",
    }


def _is_done_rule() -> dict[str, Any]:
    return {
        "And": [
            {"Variable": "$.done", "IsPresent": True},
            {"Variable": "$.done", "BooleanEquals": True},
        ],
        "Next": "Settle",
    }


def _dispatch(finders: Sequence[str]) -> dict[str, Any]:
    rules = [_is_done_rule()]
    for name in finders:
        rules.append(
            {
                "And": [
                    {"Variable": "$.plan.next", "IsPresent": True},
                    {"Variable": "$.plan.next", "StringEquals": name},
                ],
                "Next": _provider_state(name),
            }
        )
    return {"Type": "Choice", "Choices": rules, "Default": "Settle"}


def _route() -> dict[str, Any]:
    wait_rule = {
        "And": [
            {"Variable": "$.wait_seconds", "IsPresent": True},
            {"Variable": "$.wait_seconds", "NumericGreaterThan": 0},
        ],
        "Next": "WaitRetryAfter",
    }
    return {"Type": "Choice", "Choices": [_is_done_rule(), wait_rule], "Default": "Dispatch"}
