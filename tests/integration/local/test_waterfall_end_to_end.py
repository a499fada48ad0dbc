"""The real waterfall definition, executed by moto's interpreter with the real handlers, the sandbox
over HTTP and DynamoDB in moto: the cases that decide what is charged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest

from cascade.domain.models import PersonEnrichmentRequest
from cascade.domain.money import from_micros
from cascade.domain.plans import KeyPlan
from cascade.storage.usage import UsageRepository
from cascade.waterfall.runner import PollingRunner
from cascade.waterfall.state import EnrichmentContext, WaterfallInput
from infra.local.stack import LocalStack
from infra.sandbox.directory import SandboxPerson, default_directory
from infra.sandbox.faults import FaultKind, FaultPlan

KEY_ID = "key_0000000000e2e000"
ACCOUNT_ID = "acct_e2e"
DIRECTORY = default_directory()


@pytest.fixture(autouse=True)
def _no_faults(local_stack: LocalStack) -> Iterator[None]:
    local_stack.sandbox.state.faults.reset()
    yield
    local_stack.sandbox.state.faults.reset()


def _run(
    local_stack: LocalStack,
    person: SandboxPerson | dict[str, Any],
    *,
    order: list[str],
    fields: tuple[str, ...] = ("email",),
    request_id: str | None = None,
    accept_catch_all: bool = False,
    received_at: datetime | None = None,
) -> dict[str, Any]:
    identity = (
        person
        if isinstance(person, dict)
        else {"first_name": person.first_name, "last_name": person.last_name, "company_domain": person.company.domain}
    )
    request = PersonEnrichmentRequest.model_validate(
        {
            **identity,
            "fields": list(fields),
            "waterfall": {"order": order, "accept_catch_all": accept_catch_all},
            # Each case looks the person up afresh. The freshness store is exercised elsewhere.
            "max_age_days": 0,
        }
    )
    request_id = request_id or uuid.uuid4().hex
    context = EnrichmentContext(
        key_id=KEY_ID,
        account_id=ACCOUNT_ID,
        enrichment_id=f"enr_{request_id[:24]}",
        request_id=request_id,
        received_at=received_at or datetime.now(UTC),
        sync=True,
        plan=KeyPlan(),
    )
    state = WaterfallInput(request=request, context=context).model_dump(mode="json")
    runner = PollingRunner(
        lambda: boto3.client(
            "stepfunctions",
            endpoint_url=local_stack.endpoints.aws_endpoint_url,
            region_name=local_stack.endpoints.region,
        ),
        local_stack.endpoints.state_machine_arn,
        timeout_seconds=60,
    )
    return runner.run(state, name=f"e2e-{uuid.uuid4().hex[:12]}")


def _person(predicate: Callable[[SandboxPerson], bool]) -> SandboxPerson:
    return next(person for person in DIRECTORY.people if predicate(person))


def _covers(provider: str, person: SandboxPerson, field: str = "email") -> bool:
    return DIRECTORY.knows(provider, person, field) and not DIRECTORY.returns_stale(provider, person)


def _plain(person: SandboxPerson) -> bool:
    return person.email_status == "valid" and not person.company.catch_all and person.previous_company is None


def _outcomes(output: dict[str, Any]) -> list[tuple[str, str]]:
    return [(attempt["provider"], attempt["outcome"]) for attempt in output["result"]["attempts"]]


def test_match_at_first_provider(local_stack: LocalStack) -> None:
    person = _person(lambda p: _plain(p) and _covers("hunter", p))
    output = _run(local_stack, person, order=["hunter", "prospeo"])
    result = output["result"]
    assert result["status"] == "matched"
    assert result["email"]["address"] == person.email
    assert _outcomes(output) == [("hunter", "found")]
    assert result["billing"]["amount"] == "0.20"


def test_match_at_third_after_not_found_and_throttle(local_stack: LocalStack) -> None:
    person = _person(
        lambda p: (
            _plain(p)
            and not DIRECTORY.knows("hunter", p, "email")
            and not DIRECTORY.knows("prospeo", p, "email")
            and _covers("findymail", p)
        )
    )
    local_stack.sandbox.state.faults.configure("prospeo", FaultPlan(retry_after_seconds=1))
    local_stack.sandbox.state.faults.force("prospeo", FaultKind.THROTTLED)
    output = _run(local_stack, person, order=["hunter", "prospeo", "findymail"])
    assert _outcomes(output) == [
        ("hunter", "not_found"),
        ("prospeo", "throttled"),
        ("prospeo", "not_found"),
        ("findymail", "found"),
    ]
    assert output["result"]["status"] == "matched"
    assert output["result"]["billing"]["lines"][0]["provider"] == "findymail"


def test_no_match_anywhere_not_found_no_charge(local_stack: LocalStack) -> None:
    unknown = {"first_name": "Quentin", "last_name": "Nobodyhere", "company_domain": "tesco.com"}
    output = _run(local_stack, unknown, order=["hunter", "apollo", "lusha"])
    assert output["result"]["status"] == "not_found"
    assert output["providers_unavailable"] is False
    assert output["result"]["billing"] == {"billed": False, "amount": "0.00", "lines": []}


def test_every_provider_failing_unavailable_no_charge(local_stack: LocalStack) -> None:
    person = _person(lambda p: _plain(p) and _covers("hunter", p))
    faults = local_stack.sandbox.state.faults
    faults.configure("hunter", FaultPlan(rates={FaultKind.SERVER_ERROR: 1.0}))
    faults.configure("apollo", FaultPlan(rates={FaultKind.UNAVAILABLE: 1.0}))
    output = _run(local_stack, person, order=["hunter", "apollo"])
    assert output["providers_unavailable"] is True
    assert {outcome for _, outcome in _outcomes(output)} == {"transient_error"}
    assert output["result"]["billing"]["billed"] is False


def test_deadline_returns_what_was_verified(local_stack: LocalStack) -> None:
    person = _person(lambda p: _plain(p) and _covers("hunter", p) and p.phone_e164 is not None)
    settings = local_stack.settings
    # Enough of the budget is left for one provider's read timeout, with 0.9 s to reach hunter's step:
    # under the 1 s that the plan needs before it spends time on a company lookup. Hunter then takes
    # 1.5 s, after which less than a read timeout is left for lusha.
    spent = settings.sync_deadline_seconds - settings.provider_read_timeout_seconds - 0.9
    received_at = datetime.fromtimestamp(datetime.now(UTC).timestamp() - spent, UTC)
    local_stack.sandbox.state.faults.configure("hunter", FaultPlan(latency_ms=(1500, 1500)))
    output = _run(local_stack, person, order=["hunter", "lusha"], fields=("email", "phone"), received_at=received_at)
    result = output["result"]
    assert result["email"]["address"] == person.email
    assert result["phone"] is None
    assert result["status"] == "partial"
    assert ("lusha", "skipped_deadline") in _outcomes(output)
    assert result["billing"]["amount"] == "0.20"


def test_email_and_phone_from_different_providers(local_stack: LocalStack) -> None:
    person = _person(
        lambda p: (
            _plain(p) and _covers("hunter", p) and DIRECTORY.knows("lusha", p, "phone") and p.phone_e164 is not None
        )
    )
    output = _run(local_stack, person, order=["hunter", "lusha"], fields=("email", "phone"))
    lines = output["result"]["billing"]["lines"]
    assert {(line["field"], line["provider"]) for line in lines} == {("email", "hunter"), ("phone", "lusha")}
    assert output["result"]["billing"]["amount"] == "0.50"
    assert output["result"]["phone"]["e164"] == person.phone_e164


def test_catch_all_without_opt_in_not_billed(local_stack: LocalStack) -> None:
    person = _person(lambda p: p.company.catch_all and _covers("hunter", p))
    output = _run(local_stack, person, order=["hunter"])
    assert output["result"]["email"]["verdict"] == "catch_all"
    assert output["result"]["billing"]["billed"] is False


def test_catch_all_with_opt_in_billed(local_stack: LocalStack) -> None:
    person = _person(lambda p: p.company.catch_all and _covers("hunter", p))
    output = _run(local_stack, person, order=["hunter"], accept_catch_all=True)
    assert output["result"]["billing"]["amount"] == "0.20"


def test_same_request_twice_charges_once(local_stack: LocalStack) -> None:
    person = _person(lambda p: _plain(p) and _covers("apollo", p))
    request_id = uuid.uuid4().hex
    first = _run(local_stack, person, order=["apollo"], request_id=request_id)
    second = _run(local_stack, person, order=["apollo"], request_id=request_id)
    assert first["result"]["billing"]["lines"] == second["result"]["billing"]["lines"]
    month = datetime.now(UTC).strftime("%Y-%m")
    lines = [line for line in local_stack.ledger().lines_for_month(KEY_ID, month) if line.request_id == request_id]
    assert len(lines) == 1


def test_counters_equal_ledger(local_stack: LocalStack) -> None:
    person = _person(lambda p: _plain(p) and _covers("prospeo", p))
    _run(local_stack, person, order=["prospeo"])
    month = datetime.now(UTC).strftime("%Y-%m")
    ledger_total = sum(line.amount_micros for line in local_stack.ledger().lines_for_month(KEY_ID, month))
    client = boto3.client(
        "dynamodb", endpoint_url=local_stack.endpoints.aws_endpoint_url, region_name=local_stack.endpoints.region
    )
    usage = UsageRepository(client, usage_table=local_stack.settings.usage_table).month_usage(KEY_ID, month)
    assert usage.amount_micros == ledger_total
    assert from_micros(usage.amount_micros) > Decimal("0")
