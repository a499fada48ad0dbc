"""Ledger lines and the identifiers that make charging idempotent.

A match id depends only on the API key, the request (or the bulk job and row) and the
field, never on time or on which attempt wrote it. So every retry, duplicate delivery or
concurrent duplicate of one charge computes the same id, and the ledger's conditional put
lets exactly one of them through.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cascade.domain.models import RequestedField

_MATCH_PREFIX = "mat_"
_REFUND_PREFIX = "refund-"


class LineKind(StrEnum):
    CHARGE = "charge"
    REFUND = "refund"


def request_reference(*, request_id: str | None = None, job_id: str | None = None, row: int | None = None) -> str:
    """Return the part of a match id that names what was enriched: a request, or a job's row."""
    if request_id and job_id is None and row is None:
        return f"request:{request_id}"
    if job_id and row is not None and request_id is None:
        return f"job:{job_id}:row:{row}"
    raise ValueError("give either request_id alone, or job_id together with row")


def match_id(key_id: str, reference: str, field: RequestedField) -> str:
    digest = hashlib.sha256(f"{key_id}\x1f{reference}\x1f{field.value}".encode()).hexdigest()
    return f"{_MATCH_PREFIX}{digest[:32]}"


def refund_line_id(match: str) -> str:
    return f"{_REFUND_PREFIX}{match}"


def usage_shard(line_id: str, shards: int) -> int:
    """Return the counter shard of a line, which is stable for the line id so a duplicate hits the same shard."""
    return int(hashlib.sha256(line_id.encode()).hexdigest()[:8], 16) % shards


def month_of(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a billing time must carry its time zone")
    return moment.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One charge (positive) or refund (negative), as finance exports it.

    ``amount_micros`` is in micro-dollars. No contact data is stored here: ``enrichment_id``
    points at the result, which an erasure request may remove while the line stays.
    """

    line_id: str
    kind: LineKind
    match_id: str
    key_id: str
    account_id: str
    field: RequestedField
    amount_micros: int
    provider: str
    verdict: str
    charged_at: datetime
    enrichment_id: str
    request_id: str | None = None
    job_id: str | None = None
    row: int | None = None

    @property
    def month(self) -> str:
        return month_of(self.charged_at)
