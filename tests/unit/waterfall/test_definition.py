from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.providers.registry import contact_finder_names
from cascade.settings import Settings
from infra.waterfall_definition import (
    DEFINITION_PLACEHOLDERS,
    build_definition,
    default_definition,
    render_definition,
)

FINDERS = contact_finder_names()
# The defaults: ceil(2.0 s connect + 8.0 s read) + 2 s margin.
TASK_TIMEOUT = 12
ARNS = {name: f"arn:aws:lambda:eu-west-1:123456789012:function:cascade-{name}" for name in DEFINITION_PLACEHOLDERS}
LAMBDA_ERRORS = ["Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.SdkClientException"]
PROVIDER_RETRY = [
    {
        "ErrorEquals": ["ProviderThrottledError", "ProviderTransientError", *LAMBDA_ERRORS],
        "IntervalSeconds": 1,
        "MaxAttempts": 2,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 4,
        "JitterStrategy": "FULL",
    }
]
PROVIDER_CATCH = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]
LAMBDA_RETRY = [{**PROVIDER_RETRY[0], "ErrorEquals": LAMBDA_ERRORS}]


def _definition() -> dict[str, Any]:
    return default_definition(Settings(provider_connect_timeout_seconds=2.0, provider_read_timeout_seconds=8.0))


def _keys(value: Any) -> Iterator[str]:
    """Yield every object key of a JSON document, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _transitions(state: dict[str, Any]) -> list[str]:
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [rule["Next"] for rule in state.get("Choices", [])]
    targets += [catcher["Next"] for catcher in state.get("Catch", [])]
    return targets


def _comparisons(rule: dict[str, Any]) -> list[dict[str, Any]]:
    comparisons: list[dict[str, Any]] = rule.get("And", [rule])
    return comparisons


def test_definition_round_trips_as_json() -> None:
    definition = _definition()
    assert json.loads(json.dumps(definition)) == definition


def test_definition_starts_at_plan() -> None:
    definition = _definition()
    assert definition["StartAt"] == "Plan"
    assert definition["QueryLanguage"] == "JSONPath"


def test_definition_transitions_name_existing_states() -> None:
    states = _definition()["States"]
    for name, state in states.items():
        for target in _transitions(state):
            assert target in states, f"{name} moves to {target}, which is not a state"


def test_definition_states_all_reachable() -> None:
    definition = _definition()
    states = definition["States"]
    seen = {definition["StartAt"]}
    pending = [definition["StartAt"]]
    while pending:
        for target in _transitions(states[pending.pop()]):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    assert seen == set(states)


def test_definition_settle_is_only_end() -> None:
    states = _definition()["States"]
    ends = [name for name, state in states.items() if state.get("End")]
    assert ends == ["Settle"]


def test_definition_uses_no_jsonata_or_assign() -> None:
    definition = _definition()
    text = json.dumps(definition)
    assert "JSONata" not in text
    assert "{%" not in text
    keys = set(_keys(definition))
    assert "Assign" not in keys
    assert "Output" not in keys
    assert "Arguments" not in keys


def test_definition_placeholders_are_the_four_functions() -> None:
    found = set(re.findall(r"\$\{([A-Za-z]+)\}", json.dumps(_definition())))
    assert found == set(DEFINITION_PLACEHOLDERS)
    assert len(DEFINITION_PLACEHOLDERS) == 4


def test_definition_provider_states_match_registry() -> None:
    states = _definition()["States"]
    provider_states = {name for name in states if name.startswith("Provider_")}
    assert provider_states == {f"Provider_{name}" for name in FINDERS}


def test_definition_pattern_source_included() -> None:
    assert "Provider_pattern" in _definition()["States"]


@pytest.mark.parametrize("provider", FINDERS)
def test_provider_task_shape(provider: str) -> None:
    state = _definition()["States"][f"Provider_{provider}"]
    assert state["Type"] == "Task"
    assert state["Resource"] == "${StepFunctionArn}"
    assert state["Parameters"] == {"provider": provider, "state.$": "$"}
    assert state["ResultPath"] == "$"
    assert state["TimeoutSeconds"] == TASK_TIMEOUT
    assert state["Retry"] == PROVIDER_RETRY
    assert state["Catch"] == PROVIDER_CATCH
    assert state["Next"] == "Route"


@pytest.mark.parametrize("provider", FINDERS)
def test_dispatch_rule_per_finder(provider: str) -> None:
    dispatch = _definition()["States"]["Dispatch"]
    matching = [rule for rule in dispatch["Choices"] if rule["Next"] == f"Provider_{provider}"]
    assert matching == [
        {
            "And": [
                {"Variable": "$.plan.next", "IsPresent": True},
                {"Variable": "$.plan.next", "StringEquals": provider},
            ],
            "Next": f"Provider_{provider}",
        }
    ]


def test_dispatch_checks_done_first() -> None:
    dispatch = _definition()["States"]["Dispatch"]
    assert dispatch["Type"] == "Choice"
    assert dispatch["Choices"][0] == {
        "And": [{"Variable": "$.done", "IsPresent": True}, {"Variable": "$.done", "BooleanEquals": True}],
        "Next": "Settle",
    }
    assert dispatch["Default"] == "Settle"
    assert len(dispatch["Choices"]) == len(FINDERS) + 1


def test_choice_rules_guarded_by_is_present() -> None:
    for name, state in _definition()["States"].items():
        if state["Type"] != "Choice":
            continue
        for rule in state["Choices"]:
            comparisons = _comparisons(rule)
            guarded: set[str] = set()
            for comparison in comparisons:
                if comparison.get("IsPresent") is True:
                    guarded.add(comparison["Variable"])
                else:
                    assert comparison["Variable"] in guarded, f"{name} reads {comparison['Variable']} unguarded"


def test_route_rules() -> None:
    route = _definition()["States"]["Route"]
    assert route["Type"] == "Choice"
    assert route["Choices"][0]["Next"] == "Settle"
    assert route["Choices"][1] == {
        "And": [
            {"Variable": "$.wait_seconds", "IsPresent": True},
            {"Variable": "$.wait_seconds", "NumericGreaterThan": 0},
        ],
        "Next": "WaitRetryAfter",
    }
    assert route["Default"] == "Dispatch"


def test_wait_retry_after_reads_wait_seconds() -> None:
    state = _definition()["States"]["WaitRetryAfter"]
    assert state == {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Dispatch"}


@pytest.mark.parametrize(
    ("state_name", "placeholder", "next_state"),
    [
        ("Plan", "PlanFunctionArn", "Dispatch"),
        ("RecordFailure", "RecordFailureFunctionArn", "Route"),
    ],
)
def test_lambda_tasks_retry_lambda_errors(state_name: str, placeholder: str, next_state: str | None) -> None:
    state = _definition()["States"][state_name]
    assert state["Type"] == "Task"
    assert state["Resource"] == "${" + placeholder + "}"
    assert state["Retry"] == LAMBDA_RETRY
    assert "Catch" not in state
    assert state.get("Next") == next_state
    assert state.get("End", False) is (next_state is None)


def test_settle_retries_storage_and_lambda_errors() -> None:
    state = _definition()["States"]["Settle"]
    (retry,) = state["Retry"]
    assert retry["ErrorEquals"] == ["RetryableStorageError", *LAMBDA_RETRY[0]["ErrorEquals"]]
    assert retry["JitterStrategy"] == "FULL"
    assert "Catch" not in state
    assert state["End"] is True


def test_default_timeout_rounds_up() -> None:
    definition = default_definition(Settings(provider_connect_timeout_seconds=1.5, provider_read_timeout_seconds=2.2))
    timeouts = {definition["States"][f"Provider_{name}"]["TimeoutSeconds"] for name in FINDERS}
    assert timeouts == {6}


def test_build_extra_provider_gets_state() -> None:
    finders = (*FINDERS, "acme")
    definition = build_definition(finders, task_timeout_seconds=dict.fromkeys(finders, 9))
    states = definition["States"]
    assert states["Provider_acme"]["Parameters"] == {"provider": "acme", "state.$": "$"}
    assert states["Provider_acme"]["TimeoutSeconds"] == 9
    assert states["Dispatch"]["Choices"][-1]["Next"] == "Provider_acme"


def test_build_keeps_finder_order() -> None:
    finders = ("zeta", "alpha")
    definition = build_definition(finders, task_timeout_seconds={"zeta": 3, "alpha": 4})
    targets = [rule["Next"] for rule in definition["States"]["Dispatch"]["Choices"][1:]]
    assert targets == ["Provider_zeta", "Provider_alpha"]


@pytest.mark.parametrize(
    ("finders", "timeouts", "message"),
    [
        ((), {}, "finders is empty"),
        (("hunter", "hunter"), {"hunter": 5}, "repeats"),
        (("hunter lead",), {"hunter lead": 5}, "invalid provider name"),
        (("x" * 80,), {"x" * 80: 5}, "invalid provider name"),
        (("hunter", "apollo"), {"hunter": 5}, "missing"),
        (("hunter",), {"hunter": 5, "apollo": 5}, "not finders"),
        (("hunter",), {"hunter": 0}, "invalid Task timeout"),
        (("hunter",), {"hunter": True}, "invalid Task timeout"),
        (("hunter",), {"hunter": 2.5}, "invalid Task timeout"),
    ],
)
def test_build_rejects_invalid_input(finders: tuple[str, ...], timeouts: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_definition(finders, task_timeout_seconds=timeouts)


def test_render_substitutes_every_placeholder() -> None:
    text = render_definition(_definition(), ARNS)
    rendered = json.loads(text)
    assert "${" not in text
    assert rendered["States"]["Plan"]["Resource"] == ARNS["PlanFunctionArn"]
    assert rendered["States"]["Provider_hunter"]["Resource"] == ARNS["StepFunctionArn"]
    assert rendered["States"]["RecordFailure"]["Resource"] == ARNS["RecordFailureFunctionArn"]
    assert rendered["States"]["Settle"]["Resource"] == ARNS["SettleFunctionArn"]


def test_render_leaves_definition_unchanged() -> None:
    definition = _definition()
    render_definition(definition, ARNS)
    assert definition == _definition()


def test_render_escapes_arn_for_json() -> None:
    arns = {**ARNS, "SettleFunctionArn": 'arn:with"quote'}
    rendered = json.loads(render_definition(_definition(), arns))
    assert rendered["States"]["Settle"]["Resource"] == 'arn:with"quote'


def test_render_rejects_missing_arn() -> None:
    arns = {name: arn for name, arn in ARNS.items() if name != "SettleFunctionArn"}
    with pytest.raises(ValueError, match="SettleFunctionArn"):
        render_definition(_definition(), arns)


def test_render_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="VerifyFunctionArn"):
        render_definition(_definition(), {**ARNS, "VerifyFunctionArn": "arn:x"})


def test_render_rejects_unfilled_placeholder() -> None:
    definition = _definition()
    definition["States"]["Extra"] = {"Type": "Task", "Resource": "${VerifyFunctionArn}", "End": True}
    with pytest.raises(ValueError, match="VerifyFunctionArn"):
        render_definition(definition, ARNS)


_PROVIDER_NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), min_size=1, max_size=12, unique=True)


@settings(max_examples=200, deadline=None)
@given(_PROVIDER_NAMES)
def test_build_state_and_rule_per_name(names: list[str]) -> None:
    definition = build_definition(names, task_timeout_seconds=dict.fromkeys(names, 5))
    states = definition["States"]
    rules = states["Dispatch"]["Choices"][1:]
    assert {name for name in states if name.startswith("Provider_")} == {f"Provider_{name}" for name in names}
    assert [rule["And"][1]["StringEquals"] for rule in rules] == names
