from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cascade.domain.models import AttemptOutcome, EmailVerdict, NormalisedPerson
from cascade.domain.plans import KeyPlan
from cascade.providers.base import ProviderResult
from cascade.waterfall.errors import ProviderThrottledError, ProviderTransientError
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.state import (
    EnrichmentContext,
    FoundEmail,
    StepError,
    StepEvent,
    WaterfallState,
    found_from_fresh,
    fresh_value,
)
from cascade.waterfall.step import record_failure, run_step
from tests.unit.waterfall.fakes import (
    PHONE,
    RECEIVED_AT,
    Clock,
    FakeFinder,
    FakeRegistry,
    dependencies,
    email_result,
    fresh,
    outcome,
    phone_result,
    start,
)


def _planned(fields: tuple[str, ...] = ("email", "phone")) -> WaterfallState:
    registry = FakeRegistry([FakeFinder("hunter"), FakeFinder("lusha")])
    return plan_waterfall(start(fields, waterfall={"order": ["hunter", "lusha"]}), dependencies(registry))


def _round_trip(document: dict[str, Any]) -> dict[str, Any]:
    # Through JSON text as well, as Step Functions passes the state between states.
    return WaterfallState.from_json(json.loads(json.dumps(document))).to_json()


def test_state_round_trip_planned() -> None:
    document = _planned().to_json()
    assert _round_trip(document) == document


def test_state_round_trip_with_found_attempts_and_error() -> None:
    registry = FakeRegistry([FakeFinder("hunter", [email_result()]), FakeFinder("lusha", [phone_result()])])
    deps = dependencies(registry)
    state = plan_waterfall(start(("email", "phone"), waterfall={"order": ["hunter", "lusha"]}), deps)
    state = run_step("hunter", state, deps)
    failed = state.to_json() | {"error": {"Error": "States.Timeout", "Cause": "the task timed out"}}
    assert _round_trip(failed) == failed


def test_state_document_keys() -> None:
    document = _planned().to_json()
    assert set(document) == {
        "request",
        "context",
        "plan",
        "person",
        "company",
        "found",
        "attempts",
        "suppressed",
        "done",
        "wait_seconds",
    }
    assert set(document["plan"]) == {"remaining", "next", "deadline_ms", "waits", "fields", "unaffordable"}
    assert document["found"] == {"email": None, "phone": None}
    assert document["context"]["received_at"] == "2026-03-02T10:00:00Z"
    assert document["context"]["plan"]["email_price"] == "0.20"


def test_state_person_keeps_every_person_field() -> None:
    document = _planned().to_json()
    assert set(document["person"]) == set(NormalisedPerson.model_fields)
    assert document["person"]["ascii_first"] == "ada"


def test_state_error_written_by_catch() -> None:
    document = _planned().to_json() | {"error": {"Error": "ProviderThrottledError", "Cause": "{}"}}
    state = WaterfallState.from_json(document)
    assert state.error == StepError(error="ProviderThrottledError", cause="{}")


def test_state_unknown_key_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        WaterfallState.from_json(_planned().to_json() | {"surprise": 1})


def test_step_event_parsed() -> None:
    event = StepEvent.model_validate({"provider": "hunter", "state": _planned().to_json()})
    assert event.provider == "hunter"
    assert event.state.plan.next == "hunter"


@pytest.mark.parametrize(
    "ids",
    [
        {},
        {"request_id": "req_1", "job_id": "job_1", "row": 3},
        {"job_id": "job_1"},
    ],
)
def test_context_needs_request_or_job_row(ids: dict[str, Any]) -> None:
    document = {"key_id": "k", "account_id": "a", "enrichment_id": "e", "received_at": RECEIVED_AT, "sync": True}
    with pytest.raises(ValidationError, match="request_id alone, or job_id together with row"):
        EnrichmentContext.model_validate(document | ids)


def test_context_bulk_row_reference() -> None:
    document = {"key_id": "k", "account_id": "a", "enrichment_id": "e", "received_at": RECEIVED_AT, "sync": False}
    context = EnrichmentContext.model_validate(document | {"job_id": "job_1", "row": 7})
    assert context.reference == "job:job_1:row:7"


def test_context_naive_received_at_rejected() -> None:
    document = {"key_id": "k", "account_id": "a", "enrichment_id": "e", "request_id": "r", "sync": True}
    with pytest.raises(ValidationError, match="timezone"):
        EnrichmentContext.model_validate(document | {"received_at": "2026-03-02T10:00:00"})


def test_key_plan_defaults() -> None:
    plan = KeyPlan()
    assert plan.model_dump(mode="json") == {
        "email_price": "0.20",
        "phone_price": "0.30",
        "default_order": None,
        "accept_catch_all": False,
        "monthly_cap": None,
    }


@pytest.mark.parametrize(
    "document",
    [{"email_price": 0.2}, {"phone_price": "0.305"}, {"monthly_cap": "-1.00"}, {"price": "0.20"}],
)
def test_key_plan_rejects_invalid(document: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        KeyPlan.model_validate(document)


def test_fresh_value_round_trip() -> None:
    email = FoundEmail(
        address="ada.quill@example.com",
        verdict=EmailVerdict.CATCH_ALL,
        flags=["role"],
        provider="apollo",
        confidence=0.42,
        verified_at=RECEIVED_AT,
    )
    back = found_from_fresh(fresh_value(email, match_id="mat_1"))
    assert isinstance(back, FoundEmail)
    assert back.model_dump(exclude={"source"}) == email.model_dump(exclude={"source"})
    assert back.source.value == "freshness"


def test_found_from_fresh_rejects_bad_item() -> None:
    with pytest.raises(ValueError, match="e164"):
        found_from_fresh(fresh(PHONE, "12"))


SCRIPTED = st.sampled_from(
    [
        outcome(AttemptOutcome.NOT_FOUND),
        outcome(AttemptOutcome.AUTH_ERROR),
        outcome(AttemptOutcome.TRANSIENT_ERROR),
        outcome(AttemptOutcome.TIMEOUT),
        outcome(AttemptOutcome.THROTTLED),
        outcome(AttemptOutcome.THROTTLED, retry_after=2),
        email_result(),
        email_result(verdict=EmailVerdict.UNKNOWN),
        phone_result(),
    ]
)


@settings(max_examples=200, deadline=None)
@given(scripts=st.lists(st.lists(SCRIPTED, max_size=4), min_size=1, max_size=4), pause=st.floats(0, 8))
def test_waterfall_invariants_property(scripts: list[list[ProviderResult]], pause: float) -> None:
    names = ["hunter", "prospeo", "lusha", "pattern"][: len(scripts)]
    clock = Clock()
    finders = [
        FakeFinder(name, list(script), clock=clock, latency_seconds=pause)
        for name, script in zip(names, scripts, strict=True)
    ]
    deps = dependencies(FakeRegistry(finders), clock=clock)
    state = plan_waterfall(start(("email", "phone"), waterfall={"order": names}), deps)
    for _ in range(40):
        document = state.to_json()
        assert _round_trip(document) == document
        if state.done:
            break
        assert state.plan.next == state.plan.remaining[0]
        before = len(state.attempts)
        try:
            state = run_step(state.plan.next, state, deps)
        except (ProviderThrottledError, ProviderTransientError) as error:
            failed = state.model_copy(update={"error": StepError(error=type(error).__name__, cause=str(error))})
            state = record_failure(failed, deps)
        assert len(state.attempts) >= before
        clock.advance(state.wait_seconds)
    assert state.done
    assert state.plan.next is None
