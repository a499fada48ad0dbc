"""The row worker: run the waterfall for each ROWS message and record the row with the job's counters.

A row is idempotent on (job id, row number). The worker skips a row that already has a result, its
enrichment id and match ids are derived from the job id and row number, and the result is written
with ``attribute_not_exists``. So a message delivered twice, a batch re-delivered after a crash, or a
row re-sent after a hold never charges twice and never counts twice.

A waterfall that fails, or reaches no provider at all, is reported as a batch item failure, so SQS
delivers the message again. On the last delivery before the dead-letter queue
(``ROWS.max_receive_count``) the row is written as ``error`` instead, because a row without a result
would keep its job from ever completing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import ValidationError

from cascade.bulk.company_columns import company_name_cell, company_registry_id_cell
from cascade.bulk.finalize import finalize_if_done
from cascade.bulk.holds import fits_cap, hold_row, resume_job
from cascade.bulk.ingest import RowMessage
from cascade.bulk.jobs import JobRecord, JobStatus, RowResult, RowStatus, row_enrichment_id
from cascade.bulk.services import BulkServices
from cascade.domain.billing import match_id, request_reference
from cascade.domain.models import EnrichmentResult, EnrichmentStatus, RequestedField
from cascade.domain.money import to_micros
from cascade.domain.plans import KeyPlan
from cascade.observability import get_logger
from cascade.storage.jobs import RowCounters
from cascade.storage.schema import ROWS
from cascade.waterfall.state import EnrichmentContext, SettleOutput, WaterfallInput

_ROW_STATUS = {
    EnrichmentStatus.MATCHED: RowStatus.MATCHED,
    EnrichmentStatus.PARTIAL: RowStatus.PARTIAL,
    EnrichmentStatus.NOT_FOUND: RowStatus.NOT_FOUND,
    EnrichmentStatus.SUPPRESSED: RowStatus.SUPPRESSED,
}
_UNAVAILABLE_ERROR = "no provider responded for this row after every retry; nothing was charged, upload it again later"
_FAILED_ERROR = "the enrichment of this row failed after every retry; nothing was charged, upload it again later"


class RowNotRunError(Exception):
    """The row must be delivered again: its waterfall failed, or no provider responded."""


@dataclass(frozen=True, slots=True)
class RowDelivery:
    """One ROWS message as the SQS event delivers it."""

    message_id: str
    body: str
    receive_count: int = 1


@dataclass
class _Invocation:
    """Caches of one batch: each job as first read, and each key's current plan."""

    jobs: dict[str, JobRecord | None] = field(default_factory=dict)
    plans: dict[str, KeyPlan] = field(default_factory=dict)


def process_rows(services: BulkServices, deliveries: Iterable[RowDelivery]) -> list[str]:
    """Process a batch of row messages; return the message ids to report as batch item failures.

    Each message id is processed once per batch, even when SQS delivers it twice with different
    receipt handles.
    """
    seen: set[str] = set()
    failures: list[str] = []
    invocation = _Invocation()
    for delivery in deliveries:
        if delivery.message_id in seen:
            continue
        seen.add(delivery.message_id)
        try:
            process_row(services, delivery, invocation)
        except Exception:
            get_logger().exception("row failed", message_id=delivery.message_id)
            failures.append(delivery.message_id)
    return failures


def process_row(services: BulkServices, delivery: RowDelivery, invocation: _Invocation | None = None) -> None:
    """Run and record one row message, or skip, park or cancel it as its job's state requires."""
    invocation = invocation or _Invocation()
    logger = get_logger()
    try:
        message = RowMessage.model_validate_json(delivery.body)
    except ValidationError:
        logger.error("malformed row message dropped", message_id=delivery.message_id)
        return
    job = _job(services, invocation, message.job_id)
    if job is None:
        logger.warning("row of an unknown job dropped", job_id=message.job_id)
        return
    if job.status in {JobStatus.FAILED, JobStatus.QUEUED}:
        logger.info("row of a job that does not run dropped", job_id=job.job_id, status=job.status.value)
        return
    if services.rows.get(job.job_id, message.row) is not None:
        finalize_if_done(services, job.job_id)
        return
    if job.status is JobStatus.CANCELED:
        _record(services, job, RowResult(row=message.row, status=RowStatus.CANCELED), RowCounters())
        return

    now = services.clock()
    cap_plan = _cap_plan(services, invocation, job)
    request = message.request
    fits = fits_cap(
        services, job, cap_plan=cap_plan, fields=list(request.fields), max_amount=request.waterfall.max_amount, now=now
    )
    if job.status is JobStatus.ON_HOLD and fits and resume_job(services, job.job_id):
        job = _refresh(services, invocation, job.job_id) or job
    if not fits or job.status is JobStatus.ON_HOLD:
        invocation.jobs[job.job_id] = hold_row(services, job, message.row, delivery.body)
        return

    result = _run(services, job, message, delivery)
    billed_micros = 0 if isinstance(result, str) else _billed_micros(services, job, message, result)
    _record(services, job, *_row_result(message.row, result, billed_micros))


def _run(services: BulkServices, job: JobRecord, message: RowMessage, delivery: RowDelivery) -> EnrichmentResult | str:
    """Run the waterfall; return its result, or the error text for a row on its last delivery."""
    enrichment_id = row_enrichment_id(job.job_id, message.row)
    execution = WaterfallInput(
        request=message.request,
        context=EnrichmentContext(
            key_id=job.key_id,
            account_id=job.account_id,
            enrichment_id=enrichment_id,
            job_id=job.job_id,
            row=message.row,
            received_at=services.clock(),
            sync=False,
            plan=job.plan,
        ),
    )
    last_delivery = delivery.receive_count >= ROWS.max_receive_count
    name = f"{enrichment_id}-{uuid.uuid4().hex[:12]}"
    try:
        output = SettleOutput.model_validate(services.runner.run(execution.model_dump(mode="json"), name=name))
    except Exception:
        if not last_delivery:
            raise
        get_logger().exception("row failed on its last delivery", job_id=job.job_id, row=message.row)
        return _FAILED_ERROR
    if output.providers_unavailable:
        if not last_delivery:
            raise RowNotRunError(f"no provider responded for row {message.row} of job {job.job_id}; retry later")
        return _UNAVAILABLE_ERROR
    if output.result.id != enrichment_id:
        raise ValueError(f"the waterfall returned enrichment {output.result.id!r} for row {enrichment_id!r}")
    return output.result


def _billed_micros(services: BulkServices, job: JobRecord, message: RowMessage, result: EnrichmentResult) -> int:
    """Return what this row was charged, from the ledger when the result does not show a charge.

    A row run again after a crash between settlement and the row write can take its value from the
    freshness store, which the first run filled, and then its result shows no charge although the
    first run's ledger line exists. The ledger line decides, so the job's total matches the ledger.
    """
    billed = {line.field: to_micros(line.amount) for line in result.billing.lines}
    found = {RequestedField.EMAIL: result.email is not None, RequestedField.PHONE: result.phone is not None}
    reference = request_reference(job_id=job.job_id, row=message.row)
    for requested in message.request.fields:
        if requested in billed or not found[requested]:
            continue
        line = services.ledger.get(match_id(job.key_id, reference, requested))
        if line is not None:
            billed[requested] = line.amount_micros
    return sum(billed.values())


def _row_result(row: int, result: EnrichmentResult | str, billed_micros: int) -> tuple[RowResult, RowCounters]:
    if isinstance(result, str):
        return RowResult(row=row, status=RowStatus.ERROR, error=result), RowCounters(errors=1)
    status = _ROW_STATUS[result.status]
    row_result = RowResult(
        row=row,
        status=status,
        email=result.email.address if result.email else None,
        email_verdict=result.email.verdict.value if result.email else None,
        phone=result.phone.e164 if result.phone else None,
        phone_line_type=result.phone.line_type.value if result.phone else None,
        company_name=company_name_cell(result.company),
        company_registry_id=company_registry_id_cell(result.company),
        billed_micros=billed_micros,
        enrichment_id=result.id,
    )
    counters = RowCounters(
        matched=1 if status in {RowStatus.MATCHED, RowStatus.PARTIAL} else 0,
        not_found=1 if status is RowStatus.NOT_FOUND else 0,
        billed_micros=billed_micros,
    )
    return row_result, counters


def _record(services: BulkServices, job: JobRecord, result: RowResult, counters: RowCounters) -> None:
    now = services.clock()
    expires_at = now + timedelta(days=services.settings.retention_days)
    written = services.rows.record(job.job_id, result, counters, expires_at=expires_at, now=now)
    if not written:
        get_logger().info("row already recorded", job_id=job.job_id, row=result.row)
    finalize_if_done(services, job.job_id)


def _job(services: BulkServices, invocation: _Invocation, job_id: str) -> JobRecord | None:
    if job_id not in invocation.jobs:
        invocation.jobs[job_id] = services.jobs.get(job_id)
    return invocation.jobs[job_id]


def _refresh(services: BulkServices, invocation: _Invocation, job_id: str) -> JobRecord | None:
    invocation.jobs[job_id] = services.jobs.get(job_id)
    return invocation.jobs[job_id]


def _cap_plan(services: BulkServices, invocation: _Invocation, job: JobRecord) -> KeyPlan:
    """Return the key's current plan, whose cap applies now, or the job's plan when the key is gone."""
    if job.key_id not in invocation.plans:
        key = services.keys.get(job.key_id)
        invocation.plans[job.key_id] = key.plan if key is not None else job.plan
    return invocation.plans[job.key_id]
