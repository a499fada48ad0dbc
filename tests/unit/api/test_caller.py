from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cascade.api.caller import Caller, caller_from_event
from cascade.api.problems import UnauthenticatedError
from cascade.domain.keys import KeyMode
from tests.conftest import load_event


def _event_with(authorizer: Any) -> dict[str, Any]:
    event = load_event("apigateway/post_people_enrich.json")
    event["requestContext"]["authorizer"] = authorizer
    return event


def test_caller_from_sample_event() -> None:
    caller = caller_from_event(load_event("apigateway/post_people_enrich.json"))
    assert caller.key_id == "key_5f1e2d3c4b5a6978"
    assert caller.account_id == "acct_1f2e3d4c5b6a7988"
    assert caller.mode is KeyMode.TEST
    assert caller.plan.email_price == Decimal("0.20")


def test_caller_plan_parsed_from_json_text() -> None:
    context = load_event("apigateway/post_people_enrich.json")["requestContext"]["authorizer"]
    context["plan"] = '{"email_price": "0.15", "default_order": ["hunter", "apollo"], "accept_catch_all": true}'
    caller = caller_from_event(_event_with(context))
    assert caller.plan.email_price == Decimal("0.15")
    assert caller.plan.default_order == ["hunter", "apollo"]
    assert caller.plan.accept_catch_all is True


@pytest.mark.parametrize("authorizer", [None, {}, {"principalId": "key_5f1e2d3c4b5a6978"}, "key"])
def test_caller_missing_context_401(authorizer: Any) -> None:
    with pytest.raises(UnauthenticatedError):
        caller_from_event(_event_with(authorizer))


def test_caller_missing_request_context_401() -> None:
    with pytest.raises(UnauthenticatedError):
        caller_from_event({"body": None})


@pytest.mark.parametrize(
    ("name", "value"),
    [("plan", "{not json"), ("plan", '{"email_price": 0.2}'), ("mode", "sandbox"), ("key_id", "key_XYZ")],
)
def test_caller_invalid_context_raises(name: str, value: str) -> None:
    context = load_event("apigateway/post_people_enrich.json")["requestContext"]["authorizer"]
    context[name] = value
    with pytest.raises(ValidationError):
        caller_from_event(_event_with(context))


def test_caller_ignores_gateway_entries() -> None:
    caller = caller_from_event(load_event("apigateway/get_usage.json"))
    assert isinstance(caller, Caller)
    assert not hasattr(caller, "integrationLatency")
