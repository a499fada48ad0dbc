"""``cascade keys update --monthly-cap`` and ``cascade usage export|reconcile`` in-process over moto tables."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cascade.domain.billing import LedgerLine, usage_shard
from cascade.domain.models import RequestedField
from cascade.settings import get_settings
from cascade.storage.keys import ApiKeyRepository
from cascade.storage.usage import usage_partition_key, usage_sort_key
from infra.cli import main
from tests.integration.billing.conftest import KEY_ID, MONTH, OTHER_KEY_ID, SHARDS, TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden"


@pytest.fixture
def settings_env(dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for logical_name, physical_name in TABLE_NAMES.items():
        monkeypatch.setenv(f"CASCADE_{logical_name.upper()}_TABLE", physical_name)
    monkeypatch.setenv("CASCADE_USAGE_COUNTER_SHARDS", str(SHARDS))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _created_key_id(output: str) -> str:
    return output.split("API key ")[1].split(maxsplit=1)[0]


def test_keys_update_changes_cap(
    settings_env: None, dynamodb: DynamoDBClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--mode", "test", "--monthly-cap", "5.00"]) == 0
    key_id = _created_key_id(capsys.readouterr().out)
    repository = ApiKeyRepository(dynamodb, table=TABLE_NAMES["api_keys"])
    created = repository.get(key_id)
    assert created is not None
    assert created.plan.monthly_cap == Decimal("5.00")

    assert main(["keys", "update", key_id, "--monthly-cap", "12.50"]) == 0
    assert f"API key {key_id}" in capsys.readouterr().out
    raised = repository.get(key_id)
    assert raised is not None
    assert raised.plan.monthly_cap == Decimal("12.50")
    assert raised.plan.email_price == created.plan.email_price

    assert main(["keys", "update", key_id, "--monthly-cap", "none"]) == 0
    removed = repository.get(key_id)
    assert removed is not None
    assert removed.plan.monthly_cap is None


def test_keys_update_rejects_bad_cap(settings_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "update", KEY_ID, "--monthly-cap", "0.001"])
    assert exit_info.value.code == 2
    assert "more than two decimal places" in capsys.readouterr().err


def test_keys_update_unknown_key(settings_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "update", KEY_ID, "--monthly-cap", "10.00"]) == 1
    assert f"no API key has id {KEY_ID!r}" in capsys.readouterr().err


def test_usage_export_writes_golden_files(
    settings_env: None, golden_lines: dict[str, LedgerLine], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["usage", "export", "--month", MONTH, "--out", str(tmp_path)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"{OTHER_KEY_ID}-{MONTH}.csv", f"{KEY_ID}-{MONTH}.csv"]
    assert (tmp_path / f"{KEY_ID}-{MONTH}.csv").read_bytes() == (GOLDEN_DIR / "usage_export_2026_03.csv").read_bytes()
    assert main(["usage", "export", "--month", MONTH, "--key", KEY_ID, "--format", "json", "--out", str(tmp_path)]) == 0
    written = (tmp_path / f"{KEY_ID}-{MONTH}.json").read_bytes()
    assert written == (GOLDEN_DIR / "usage_export_2026_03.json").read_bytes()


def test_usage_reconcile_exit_codes(
    settings_env: None,
    golden_lines: dict[str, LedgerLine],
    dynamodb: DynamoDBClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["usage", "reconcile", "--month", MONTH]) == 0
    assert "All 2 key(s) reconcile to the cent in 2026-03." in capsys.readouterr().out

    shard = usage_shard(golden_lines["phone_1"].line_id, SHARDS)
    dynamodb.update_item(
        TableName=TABLE_NAMES["usage"],
        Key={
            "pk": {"S": usage_partition_key(KEY_ID, MONTH)},
            "sk": {"S": usage_sort_key(RequestedField.PHONE, shard)},
        },
        UpdateExpression="ADD amount_micros :lost",
        ExpressionAttributeValues={":lost": {"N": "-300000"}},
    )
    assert main(["usage", "reconcile", "--month", MONTH]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH: counters 0.50 != ledger 0.80" in captured.out
    assert "1 of 2 key(s) do not reconcile in 2026-03." in captured.err
