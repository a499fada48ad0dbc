"""Ledger items: the LedgerLine <-> DynamoDB item mapping and the usage counter keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.billing import LedgerLine, LineKind
from cascade.domain.models import RequestedField
from cascade.storage.ledger import line_from_item, line_to_item
from cascade.storage.usage import usage_partition_key, usage_sort_key

CHARGED_AT = datetime(2026, 3, 14, 12, 30, 15, tzinfo=UTC)


def _line(**changes: object) -> LedgerLine:
    values: dict[str, object] = {
        "line_id": "mat_1",
        "kind": LineKind.CHARGE,
        "match_id": "mat_1",
        "key_id": "key_1",
        "account_id": "acct_1",
        "field": RequestedField.EMAIL,
        "amount_micros": 200_000,
        "provider": "hunter",
        "verdict": "valid",
        "charged_at": CHARGED_AT,
        "enrichment_id": "enr_1",
        "request_id": "req_1",
    }
    values.update(changes)
    return LedgerLine(**values)  # type: ignore[arg-type]


def test_line_item_keys() -> None:
    item = line_to_item(_line())
    assert item["pk"] == {"S": "LINE#mat_1"}
    assert item["key_month"] == {"S": "key_1#2026-03"}
    assert item["line_order"] == {"S": "2026-03-14T12:30:15.000000+00:00#mat_1"}
    assert item["amount_micros"] == {"N": "200000"}
    assert item["charged_at"] == {"S": "2026-03-14T12:30:15.000000+00:00"}


def test_line_item_omits_missing_optionals() -> None:
    item = line_to_item(_line())
    assert "job_id" not in item
    assert "row" not in item
    assert item["request_id"] == {"S": "req_1"}


def test_line_item_job_row() -> None:
    item = line_to_item(_line(request_id=None, job_id="job_1", row=0))
    assert item["job_id"] == {"S": "job_1"}
    assert item["row"] == {"N": "0"}
    assert "request_id" not in item


def test_line_item_month_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    item = line_to_item(_line(charged_at=datetime(2026, 4, 1, 5, 0, tzinfo=tokyo)))
    assert item["key_month"] == {"S": "key_1#2026-03"}
    assert item["charged_at"] == {"S": "2026-03-31T20:00:00.000000+00:00"}


def test_line_item_order_sorts_by_time() -> None:
    earlier = line_to_item(_line(charged_at=CHARGED_AT, line_id="mat_z"))["line_order"]["S"]
    later = line_to_item(_line(charged_at=CHARGED_AT + timedelta(microseconds=1), line_id="mat_a"))["line_order"]["S"]
    assert earlier < later


_texts = st.text(min_size=1, max_size=40)
_times = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive, its timezones strategy adds the zone
    max_value=datetime(2999, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC) | st.builds(timezone, st.timedeltas(timedelta(hours=-14), timedelta(hours=14))),
)


@st.composite
def _lines(draw: st.DrawFn) -> LedgerLine:
    line_id = draw(_texts)
    return _line(
        line_id=line_id,
        kind=draw(st.sampled_from(LineKind)),
        match_id=line_id,
        key_id=draw(_texts),
        field=draw(st.sampled_from(RequestedField)),
        amount_micros=draw(st.integers(-(10**15), 10**15)),
        charged_at=draw(_times),
        request_id=draw(st.none() | _texts),
        job_id=draw(st.none() | _texts),
        row=draw(st.none() | st.integers(0, 10**9)),
    )


@settings(max_examples=200, deadline=None)
@given(line=_lines())
def test_line_item_round_trip(line: LedgerLine) -> None:
    restored = line_from_item(line_to_item(line))
    assert restored == line
    assert restored.charged_at.utcoffset() == timedelta(0)
    assert line_from_item(line_to_item(restored)) == restored


def test_usage_keys() -> None:
    assert usage_partition_key("key_1", "2026-03") == "key_1#2026-03"
    assert usage_sort_key(RequestedField.PHONE, 7) == "phone#07"
    assert usage_sort_key(RequestedField.EMAIL, 99) == "email#99"


@pytest.mark.parametrize("shard", [-1, 100])
def test_usage_sort_key_rejects_shard(shard: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        usage_sort_key(RequestedField.EMAIL, shard)
