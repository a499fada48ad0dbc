"""Job operations of the API: create a job with its upload URL, show a job, cancel a job.

The routes in ``cascade.api.routes.jobs`` parse the request and call these functions, which work on
the stored ``JobRecord`` and return the public ``Job`` models.
"""

from __future__ import annotations

from datetime import timedelta

from cascade.bulk.finalize import finalize_if_done
from cascade.bulk.jobs import (
    Job,
    JobCreated,
    JobCreateRequest,
    JobRecord,
    JobStatus,
    WebhookEventType,
    new_job_id,
    validate_webhook_url,
)
from cascade.bulk.notify import enqueue_webhook
from cascade.bulk.services import BulkServices
from cascade.domain.plans import KeyPlan
from cascade.observability import get_logger
from cascade.storage.schema import UPLOADS_PREFIX

UPLOAD_FILE_NAME = "input.csv"
_CANCELABLE = (JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.ON_HOLD)
_WITH_FILES = (JobStatus.COMPLETED, JobStatus.CANCELED)


class JobNotCancelableError(Exception):
    """The job has finished, or is writing its results, so it can no longer be canceled."""


def upload_key(key_id: str, job_id: str) -> str:
    return f"{UPLOADS_PREFIX}{key_id}/{job_id}/{UPLOAD_FILE_NAME}"


def create_job(
    request: JobCreateRequest, *, key_id: str, account_id: str, plan: KeyPlan, services: BulkServices
) -> JobCreated:
    """Store a ``queued`` job and return it with a pre-signed upload URL and, with a webhook, its secret.

    Raises ``InvalidInputError`` (422) for a webhook URL that the stage does not allow.
    """
    settings = services.settings
    webhook_url = None if request.webhook_url is None else validate_webhook_url(request.webhook_url, settings.stage)
    now = services.clock()
    record = JobRecord(
        job_id=new_job_id(),
        key_id=key_id,
        account_id=account_id,
        plan=plan,
        status=JobStatus.QUEUED,
        created_at=now,
        updated_at=now,
        fields=list(request.fields),
        waterfall=request.waterfall,
        max_age_days=request.max_age_days,
        country=request.country,
        file_name=request.file_name,
        webhook_url=webhook_url,
        webhook_secret=_new_webhook_secret() if webhook_url is not None else None,
    )
    if not services.jobs.create(record):
        # 104 random bits make a repeated id practically impossible; failing beats overwriting a job.
        raise ValueError(f"job id {record.job_id} already exists; send the request again")
    expires_in = settings.presigned_url_seconds
    url = services.files.presign_put(upload_key(key_id, record.job_id), expires_seconds=expires_in)
    get_logger().info("job created", job_id=record.job_id, key_id=key_id, webhook=webhook_url is not None)
    job = record.to_job()
    return JobCreated(
        **job.model_dump(),
        upload_url=url,
        upload_expires_at=now + timedelta(seconds=expires_in),
        webhook_secret=record.webhook_secret,
    )


def job_view(record: JobRecord, services: BulkServices) -> Job:
    """Return the public job, with pre-signed GET URLs of its files once they are written."""
    results_url = errors_url = None
    if record.status in _WITH_FILES and record.results_key and record.errors_key:
        seconds = services.settings.presigned_url_seconds
        results_url = services.files.presign_get(record.results_key, expires_seconds=seconds)
        errors_url = services.files.presign_get(record.errors_key, expires_seconds=seconds)
    return record.to_job(results_url=results_url, errors_url=errors_url)


def cancel_job(record: JobRecord, services: BulkServices) -> Job:
    """Cancel a queued, processing or on-hold job and return it; canceling a canceled job changes nothing.

    Rows already enriched stay billed. The worker writes each remaining row as ``canceled`` when its
    message arrives (parked rows are sent again for that), then writes the results files. Raises
    ``JobNotCancelableError`` for a job that is completed, failed or writing its results.
    """
    if record.status is JobStatus.CANCELED:
        return job_view(record, services)
    now = services.clock()
    # One status at a time, so that the status the job left is known even when it changed since it was read.
    canceled = previous = None
    for previous in _CANCELABLE:
        canceled = services.jobs.transition(
            record.job_id, from_statuses=[previous], to_status=JobStatus.CANCELED, now=now
        )
        if canceled is not None:
            break
    if canceled is None:
        current = services.jobs.get(record.job_id) or record
        if current.status is JobStatus.CANCELED:
            return job_view(current, services)
        raise JobNotCancelableError(
            f"job {record.job_id} is {current.status.public.value} and can no longer be canceled"
            + ("; download its results instead" if current.status is not JobStatus.FAILED else "")
        )
    get_logger().info("job canceled", job_id=record.job_id, key_id=record.key_id, previous=previous)
    if previous is JobStatus.QUEUED:
        # No file was read, so there are no rows to wait for and no results file.
        enqueue_webhook(services.webhooks_queue, canceled, WebhookEventType.CANCELED, now=now)
    elif previous is JobStatus.ON_HOLD:
        parked = services.rows.parked(record.job_id)
        services.rows_queue.send(body for _, body in parked)
        for row, _ in parked:
            services.rows.unpark(record.job_id, row)
    canceled = finalize_if_done(services, record.job_id) or canceled
    return job_view(canceled, services)


def _new_webhook_secret() -> str:
    from cascade.bulk.webhooks import new_webhook_secret  # noqa: PLC0415 - imports httpx; only webhooks need it

    return new_webhook_secret()
