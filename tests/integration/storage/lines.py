"""Builders of ledger lines for the storage tests."""

from __future__ import annotations

from datetime import UTC, datetime

from cascade.domain.billing import LedgerLine, LineKind, match_id, request_reference
from cascade.domain.models import RequestedField

MARCH = datetime(2026, 3, 14, 12, 30, 15, 123456, tzinfo=UTC)
PRICES = {RequestedField.EMAIL: 200_000, RequestedField.PHONE: 300_000}


def charge_line(
    request_id: str = "req_1",
    *,
    key_id: str = "key_1",
    field: RequestedField = RequestedField.EMAIL,
    amount_micros: int | None = None,
    charged_at: datetime = MARCH,
) -> LedgerLine:
    line_id = match_id(key_id, request_reference(request_id=request_id), field)
    return LedgerLine(
        line_id=line_id,
        kind=LineKind.CHARGE,
        match_id=line_id,
        key_id=key_id,
        account_id="acct_1",
        field=field,
        amount_micros=PRICES[field] if amount_micros is None else amount_micros,
        provider="hunter",
        verdict="valid",
        charged_at=charged_at,
        enrichment_id=f"enr_{request_id}",
        request_id=request_id,
    )


def job_line(job_id: str, row: int, *, key_id: str = "key_1", charged_at: datetime = MARCH) -> LedgerLine:
    field = RequestedField.PHONE
    line_id = match_id(key_id, request_reference(job_id=job_id, row=row), field)
    return LedgerLine(
        line_id=line_id,
        kind=LineKind.CHARGE,
        match_id=line_id,
        key_id=key_id,
        account_id="acct_1",
        field=field,
        amount_micros=PRICES[field],
        provider="lusha",
        verdict="valid",
        charged_at=charged_at,
        enrichment_id=f"enr_{job_id}_{row}",
        job_id=job_id,
        row=row,
    )
