"""Settlement against the real DynamoDB repositories on moto: exactly-once charges, freshness and counters."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from cascade.domain.models import AttemptOutcome, EmailVerdict, EnrichmentStatus, RequestedField
from cascade.domain.money import from_micros
from cascade.providers.base import ProviderResult
from cascade.storage import schema
from cascade.storage.dynamo import create_tables
from cascade.storage.freshness import FreshnessStore
from cascade.storage.ledger import LedgerRepository
from cascade.storage.suppressions import SuppressionStore, suppression_identities
from cascade.storage.usage import UsageRepository
from cascade.waterfall.dependencies import WaterfallDependencies
from cascade.waterfall.plan import plan_waterfall
from cascade.waterfall.settle import settle
from cascade.waterfall.state import SettleOutput, WaterfallInput, WaterfallState
from cascade.waterfall.step import run_step
from tests.integration.moto_isolation import serialise_transactions
from tests.unit.waterfall.fakes import (
    Clock,
    FakeFinder,
    FakeRegistry,
    FakeVerifier,
    context,
    dependencies,
    email_result,
    outcome,
    phone_result,
    request,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLES = {spec.logical_name: f"wf-{spec.logical_name}" for spec in schema.TABLES}
SHARDS = 4
KEY_ID = "key_test"
MONTH = "2026-03"


@dataclass
class Stores:
    client: DynamoDBClient
    ledger: LedgerRepository
    usage: UsageRepository
    freshness: FreshnessStore
    suppressions: SuppressionStore


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stores]:
    # Fake credentials and no endpoint override, so that nothing can reach a real account.
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client, TABLES)
        yield Stores(
            client=client,
            ledger=_ledger(client),
            usage=UsageRepository(client, usage_table=TABLES["usage"]),
            freshness=FreshnessStore(client, table=TABLES["freshness"], retention_days=180),
            suppressions=SuppressionStore(client, table=TABLES["suppressions"]),
        )
        _assert_counters_match_ledger(stores_client=client)


def _ledger(client: DynamoDBClient) -> LedgerRepository:
    return LedgerRepository(
        client, ledger_table=TABLES["ledger"], usage_table=TABLES["usage"], shards=SHARDS, sleep=lambda _: None
    )


def _assert_counters_match_ledger(*, stores_client: DynamoDBClient) -> None:
    lines = _ledger(stores_client).lines_for_month(KEY_ID, MONTH)
    usage = UsageRepository(stores_client, usage_table=TABLES["usage"]).month_usage(KEY_ID, MONTH)
    assert usage.amount_micros == sum(line.amount_micros for line in lines)
    for field in RequestedField:
        of_field = [line for line in lines if line.field is field]
        assert usage.by_field[field].count == len(of_field)
        assert usage.by_field[field].amount_micros == sum(line.amount_micros for line in of_field)


def _deps(
    stores: Stores, finders: Sequence[FakeFinder], *, ledger: LedgerRepository | None = None
) -> WaterfallDependencies:
    registry = FakeRegistry(finders, verifiers=[FakeVerifier(EmailVerdict.CATCH_ALL)])
    return dependencies(
        registry,
        clock=Clock(),
        ledger=ledger or stores.ledger,
        freshness=stores.freshness,
        suppressions=stores.suppressions,
    )


def _finished(
    stores: Stores,
    scripts: dict[str, list[ProviderResult]],
    *,
    fields: Sequence[str] = ("email",),
    request_id: str = "req_test",
    **request_changes: Any,
) -> tuple[WaterfallState, WaterfallDependencies]:
    deps = _deps(stores, [FakeFinder(name, results) for name, results in scripts.items()])
    waterfall = {"order": list(scripts), **request_changes.pop("waterfall", {})}
    start = WaterfallInput(
        request=request(fields, waterfall=waterfall, **request_changes), context=context(request_id=request_id)
    )
    state = plan_waterfall(start, deps)
    while not state.done:
        assert state.plan.next is not None
        state = run_step(state.plan.next, state, deps)
    return state, deps


def _ledger_count(stores: Stores) -> int:
    return int(stores.client.scan(TableName=TABLES["ledger"], Select="COUNT", ConsistentRead=True)["Count"])


def test_settle_two_fields_two_lines(stores: Stores) -> None:
    state, deps = _finished(stores, {"hunter": [email_result()], "lusha": [phone_result()]}, fields=("email", "phone"))
    output = settle(state, deps)
    billing = output.result.billing
    assert output.result.status is EnrichmentStatus.MATCHED
    assert billing.amount == Decimal("0.50")
    assert len(billing.lines) == 2
    assert _ledger_count(stores) == 2
    for line in billing.lines:
        stored = stores.ledger.get(line.match_id)
        assert stored is not None
        assert from_micros(stored.amount_micros) == line.amount
        assert stored.provider == line.provider
        assert stored.request_id == "req_test"
        assert stored.enrichment_id == "enr_test"
    usage = stores.usage.month_usage(KEY_ID, MONTH)
    assert usage.by_field[RequestedField.EMAIL].count == 1
    assert usage.by_field[RequestedField.PHONE].count == 1
    assert usage.amount_micros == 500_000


def test_settle_catch_all_without_opt_in_not_billed(stores: Stores) -> None:
    state, deps = _finished(stores, {"hunter": [email_result(verdict=EmailVerdict.CATCH_ALL)]})
    output = settle(state, deps)
    assert output.result.email is not None
    assert output.result.email.verdict is EmailVerdict.CATCH_ALL
    assert output.result.billing.billed is False
    assert _ledger_count(stores) == 0


def test_settle_catch_all_with_opt_in_billed(stores: Stores) -> None:
    state, deps = _finished(
        stores, {"hunter": [email_result(verdict=EmailVerdict.CATCH_ALL)]}, waterfall={"accept_catch_all": True}
    )
    output = settle(state, deps)
    assert [line.verdict for line in output.result.billing.lines] == ["catch_all"]
    assert _ledger_count(stores) == 1


def test_settle_twice_charges_once(stores: Stores) -> None:
    state, deps = _finished(stores, {"hunter": [email_result()], "lusha": [phone_result()]}, fields=("email", "phone"))
    first = settle(state, deps)
    second = settle(state, deps)
    assert second.result.billing == first.result.billing
    assert second.model_dump(mode="json") == first.model_dump(mode="json")
    assert _ledger_count(stores) == 2
    assert stores.usage.month_usage(KEY_ID, MONTH).amount_micros == 500_000


def test_settle_concurrent_charges_once(stores: Stores) -> None:
    state, _ = _finished(stores, {"hunter": [email_result()]})
    workers = 10
    barrier = threading.Barrier(workers)
    outputs: list[SettleOutput] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    transaction_lock = threading.Lock()

    def worker() -> None:
        # Each thread has its own client, as concurrent Lambda invocations would.
        own = boto3.session.Session().client("dynamodb", region_name=REGION)
        serialise_transactions(own, transaction_lock)
        deps = _deps(stores, [FakeFinder("hunter")], ledger=_ledger(own))
        barrier.wait()
        try:
            output = settle(state, deps)
        except BaseException as error:  # reported by the asserts below
            with lock:
                failures.append(error)
            return
        with lock:
            outputs.append(output)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(outputs) == workers
    assert all(output.result.billing == outputs[0].result.billing for output in outputs)
    assert outputs[0].result.billing.amount == Decimal("0.20")
    assert _ledger_count(stores) == 1
    usage = stores.usage.month_usage(KEY_ID, MONTH)
    assert usage.by_field[RequestedField.EMAIL].count == 1
    assert usage.amount_micros == 200_000


def test_settle_fresh_value_not_billed(stores: Stores) -> None:
    first_state, first_deps = _finished(stores, {"hunter": [email_result()]}, request_id="req_first")
    first = settle(first_state, first_deps)
    assert first.result.billing.billed is True

    state, deps = _finished(stores, {"hunter": [email_result()]}, request_id="req_second")
    output = settle(state, deps)
    assert state.attempts == []
    assert output.result.status is EnrichmentStatus.MATCHED
    assert output.result.email is not None
    assert first.result.email is not None
    assert output.result.email.address == first.result.email.address
    assert output.result.email.verified_at == first.result.email.verified_at
    assert output.result.billing.billed is False
    assert _ledger_count(stores) == 1


def test_settle_fresh_value_refused_by_max_age(stores: Stores) -> None:
    first_state, first_deps = _finished(stores, {"hunter": [email_result()]}, request_id="req_first")
    settle(first_state, first_deps)
    state, deps = _finished(stores, {"hunter": [email_result()]}, request_id="req_second", max_age_days=0)
    output = settle(state, deps)
    assert output.result.billing.billed is True
    assert _ledger_count(stores) == 2


def test_settle_all_failed_unavailable_no_charge(stores: Stores) -> None:
    state, deps = _finished(
        stores,
        {
            "hunter": [outcome(AttemptOutcome.AUTH_ERROR)],
            "apollo": [outcome(AttemptOutcome.QUOTA_EXHAUSTED)],
        },
    )
    output = settle(state, deps)
    assert output.providers_unavailable is True
    assert output.result.status is EnrichmentStatus.NOT_FOUND
    assert output.result.billing.billed is False
    assert _ledger_count(stores) == 0


def test_settle_suppressed_contact_no_charge(stores: Stores) -> None:
    probe, _ = _finished(stores, {"hunter": []}, request_id="req_probe")
    stores.suppressions.add("acct_test", suppression_identities(probe.person))
    state, deps = _finished(stores, {"hunter": [email_result()]})
    output = settle(state, deps)
    assert state.suppressed is True
    assert output.result.status is EnrichmentStatus.SUPPRESSED
    assert output.result.billing.billed is False
    assert _ledger_count(stores) == 0


def test_settle_counters_equal_ledger_after_everything(stores: Stores) -> None:
    both = {"hunter": [email_result()], "lusha": [phone_result()]}
    for number in range(3):
        state, deps = _finished(
            stores,
            {k: list(v) for k, v in both.items()},
            fields=("email", "phone"),
            request_id=f"req_{number}",
            max_age_days=0,
        )
        settle(state, deps)
        settle(state, deps)
    fresh_state, fresh_deps = _finished(stores, {"hunter": [email_result()]}, request_id="req_fresh")
    settle(fresh_state, fresh_deps)
    assert _ledger_count(stores) == 6
    _assert_counters_match_ledger(stores_client=stores.client)
    assert stores.usage.month_usage(KEY_ID, MONTH).amount_micros == 3 * 500_000
