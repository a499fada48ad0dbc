"""Spend-cap holds: pause a job whose key has reached its monthly cap, and resume it when the cap allows.

Before a row runs, the worker compares the row's worst case (every requested field billed, limited
by ``max_amount``) with what is left of the key's monthly cap. When it does not fit, the row's message
is parked in the job rows table under ``<job id>#parked`` and the job goes ``on_hold``. Parking replaces
the queue message, which the worker then deletes. Resuming moves the job back to ``processing`` and
sends every parked row again. A row sent twice is harmless: the worker skips a row that has a result,
and the ledger charges a match id at most once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from cascade.billing.caps import worst_case_amount
from cascade.bulk.jobs import JobRecord, JobStatus, RowResult, RowStatus, WebhookEventType
from cascade.bulk.notify import enqueue_webhook
from cascade.bulk.services import BulkServices
from cascade.domain.billing import month_of
from cascade.domain.models import RequestedField
from cascade.domain.plans import KeyPlan
from cascade.observability import get_logger
from cascade.storage.jobs import RowCounters


def fits_cap(
    services: BulkServices,
    job: JobRecord,
    *,
    cap_plan: KeyPlan,
    fields: list[RequestedField],
    max_amount: Decimal | None,
    now: datetime,
) -> bool:
    """Return whether a row's worst case fits in the headroom of the job's key this month.

    Prices come from the job's plan, fixed when the job was created. The cap comes from ``cap_plan``,
    the key's current plan, so that raising the cap takes effect for running jobs.
    """
    headroom = services.caps.headroom(job.key_id, cap_plan, month_of(now))
    if headroom is None:
        return True
    # NOTE: concurrent workers each compare with the same headroom before any of them charges, so a
    # key can end a month above its cap by up to one row's worst case per concurrent worker.
    return worst_case_amount(job.plan, fields, max_amount) <= headroom


def hold_row(services: BulkServices, job: JobRecord, row: int, body: str) -> JobRecord:
    """Park a row that does not fit under the cap and put its job on hold; return the job as it now is.

    The first row to hold a processing job queues the ``job.on_hold`` webhook. A job that was canceled
    meanwhile gets the row written as ``canceled`` instead, so the job can still finish.
    """
    now = services.clock()
    expires_at = now + timedelta(days=services.settings.retention_days)
    services.rows.park(job.job_id, row, body, expires_at=expires_at)
    held = services.jobs.transition(
        job.job_id, from_statuses=[JobStatus.PROCESSING], to_status=JobStatus.ON_HOLD, now=now
    )
    if held is not None:
        get_logger().info("job on hold at the spend cap", job_id=job.job_id, key_id=job.key_id, row=row)
        enqueue_webhook(services.webhooks_queue, held, WebhookEventType.ON_HOLD, now=now, occurrence=now.isoformat())
        return held

    current = services.jobs.get(job.job_id) or job
    if current.status is JobStatus.ON_HOLD:
        return current
    services.rows.unpark(job.job_id, row)
    if current.status is JobStatus.CANCELED:
        result = RowResult(row=row, status=RowStatus.CANCELED)
        services.rows.record(job.job_id, result, RowCounters(), expires_at=expires_at, now=now)
        return current
    # The job was resumed between the worker's read and the park, so the row goes back to the queue.
    services.rows_queue.send([body])
    return current


def resume_job(services: BulkServices, job_id: str) -> bool:
    """Move an ``on_hold`` job back to ``processing`` and send its parked rows again; return whether it moved."""
    resumed = services.jobs.transition(
        job_id, from_statuses=[JobStatus.ON_HOLD], to_status=JobStatus.PROCESSING, now=services.clock()
    )
    if resumed is None:
        return False
    parked = services.rows.parked(job_id)
    # NOTE: a crash between the status change and the last unpark leaves rows parked under a processing
    # job. Nothing sends those rows again, so the job does not complete until they are resent by hand.
    services.rows_queue.send(body for _, body in parked)
    for row, _ in parked:
        services.rows.unpark(job_id, row)
    get_logger().info("job resumed", job_id=job_id, key_id=resumed.key_id, rows=len(parked))
    return True


def resume_held_jobs(key_id: str, services: BulkServices) -> int:
    """Resume every ``on_hold`` job of ``key_id``, as after its cap was raised; return how many resumed.

    A job whose rows still do not fit goes on hold again when its first row runs.
    """
    held = services.jobs.list_for_key(key_id, status=JobStatus.ON_HOLD)
    return sum(1 for job in held if resume_job(services, job.job_id))
