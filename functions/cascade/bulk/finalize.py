"""Finalize: once every row of a job has a result, write the results and errors files and close the job.

The worker that records a job's last row (or ingest, when no row needed a worker) wins a conditional
update from ``processing`` to ``finalizing`` and writes the files. A canceled job is finalized the same
way once every row is accounted for, and stays ``canceled``. A finalize that crashed is taken over by
the next attempt after ``FINALIZE_LEASE_SECONDS``.

The original upload is read again with its stored format, at the object version that ingest read,
and joined, record by record, with the job's row results, which a query returns in row order. When
that version can no longer be read (the object was replaced in a bucket without versioning, or
deleted), the job fails instead of joining another file's rows with these results.

Both files are streamed to S3 in parts, so neither the input nor the output is held in memory. A
duplicate row repeats the result of the row it duplicates, with nothing billed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO, cast

from cascade.bulk.csv_input import CsvFormat, iter_records
from cascade.bulk.csv_output import ErrorsWriter, ResultsWriter, RowResultCells
from cascade.bulk.jobs import JobRecord, JobStatus, RowResult, RowStatus, WebhookEventType
from cascade.bulk.notify import enqueue_webhook
from cascade.bulk.services import BulkServices
from cascade.domain.money import ZERO, from_micros
from cascade.observability import get_logger
from cascade.storage.files import ObjectChangedError, ObjectNotFoundError
from cascade.storage.schema import RESULTS_PREFIX, ROWS

# A finalize that has not ended after this long crashed; it exceeds the worker Lambda's timeout.
FINALIZE_LEASE_SECONDS = ROWS.visibility_timeout_seconds
_ERROR_STATUSES = frozenset({RowStatus.INVALID_INPUT, RowStatus.ERROR})
_MATCHED_STATUSES = frozenset({RowStatus.MATCHED, RowStatus.PARTIAL})
_MISSING_ROW_ERROR = "no result was recorded for this row; upload the row again in a new job"
_DUPLICATE_CACHE_SIZE = 1024
_INPUT_REPLACED_ERROR = (
    "the uploaded file was replaced by another upload to the same key while the job ran, and the version that was "
    "enriched can no longer be read, so no results file was written; upload each file once, to a key of its own"
)
_INPUT_DELETED_ERROR = (
    "the uploaded file was deleted while the job ran, so no results file was written; upload it again in a new job"
)


def results_keys(job: JobRecord) -> tuple[str, str]:
    """Return the object keys of the results file and the errors file of ``job``."""
    prefix = f"{RESULTS_PREFIX}{job.key_id}/{job.job_id}/"
    return prefix + "results.csv", prefix + "errors.csv"


def finalize_if_done(services: BulkServices, job_id: str) -> JobRecord | None:
    """Finalize the job when every row has a result and no one else is finalizing it.

    Returns the finalized job, or ``None`` when there is nothing to do yet (or another worker does it).
    """
    job = services.jobs.get(job_id)
    if job is None or not job.all_rows_done:
        return None
    now = services.clock()
    stale = now - timedelta(seconds=FINALIZE_LEASE_SECONDS)
    claim_condition = "attribute_not_exists(finalize_started_at) OR finalize_started_at < :stale"
    stale_values = {":stale": stale.isoformat(timespec="microseconds")}
    if job.status in {JobStatus.PROCESSING, JobStatus.FINALIZING}:
        claimed = services.jobs.transition(
            job_id,
            from_statuses=[JobStatus.PROCESSING, JobStatus.FINALIZING],
            to_status=JobStatus.FINALIZING,
            now=now,
            changes={"finalize_started_at": now},
            condition=f"#status = :processing OR {claim_condition}",
            condition_values={":processing": JobStatus.PROCESSING.value, **stale_values},
        )
        final_status = JobStatus.COMPLETED
    elif job.status is JobStatus.CANCELED and job.results_key is None and job.error is None:
        claimed = services.jobs.transition(
            job_id,
            from_statuses=[JobStatus.CANCELED],
            to_status=JobStatus.CANCELED,
            now=now,
            changes={"finalize_started_at": now},
            condition=f"attribute_not_exists(results_key) AND ({claim_condition})",
            condition_values=stale_values,
        )
        final_status = JobStatus.CANCELED
    else:
        return None
    if claimed is None:
        return None
    return finalize(services, claimed, final_status)


@dataclass
class _Tally:
    """The rows of the results file by outcome. Duplicate rows count with the outcome they repeat."""

    written: int = 0
    matched: int = 0
    not_found: int = 0
    errors: int = 0

    def add(self, status: str) -> None:
        self.written += 1
        if status in _MATCHED_STATUSES:
            self.matched += 1
        elif status == RowStatus.NOT_FOUND:
            self.not_found += 1
        elif status in _ERROR_STATUSES:
            self.errors += 1


def finalize(services: BulkServices, job: JobRecord, final_status: JobStatus) -> JobRecord:
    """Write both files of a claimed job, record where they are, and queue the job's webhook."""
    if job.upload_key is None or job.input_format is None:
        raise ValueError(f"job {job.job_id} was never ingested, so it has no results to write")
    fmt = CsvFormat.model_validate(job.input_format)
    try:
        tally = _write_files(services, job, fmt)
    except (ObjectChangedError, ObjectNotFoundError) as error:
        message = _INPUT_DELETED_ERROR if isinstance(error, ObjectNotFoundError) else _INPUT_REPLACED_ERROR
        return _close_unreadable(services, job, final_status, message)
    return _finish(services, job, final_status, tally)


def _write_files(services: BulkServices, job: JobRecord, fmt: CsvFormat) -> _Tally:
    """Stream the results and errors files of ``job``; return the rows written by outcome.

    Raises ``ObjectChangedError`` or ``ObjectNotFoundError`` when the pinned input version is gone,
    after which neither file exists, because an error inside the upload blocks aborts both uploads.
    """
    if job.upload_key is None:
        raise ValueError(f"job {job.job_id} has no upload key")
    results_key, errors_key = results_keys(job)
    chunks = services.files.iter_chunks(job.upload_key, version_id=job.upload_version_id, etag=job.upload_etag)
    tally = _Tally()
    with (
        services.files.open_upload(results_key) as results_stream,
        services.files.open_upload(errors_key) as errors_stream,
    ):
        results = ResultsWriter(cast(BinaryIO, results_stream))
        errors = ErrorsWriter(cast(BinaryIO, errors_stream))
        headers = list(fmt.header_row)
        results.write_header(headers)
        errors.write_header(headers)
        originals = _OriginalRows(services, job.job_id)
        row_results = _RowCursor(services.rows.iter_rows(job.job_id))
        for record in iter_records(chunks, fmt, max_rows=None):
            result = row_results.take(record.number)
            cells = _cells(result, originals)
            results.write_row(record.cells, cells)
            if cells.status in _ERROR_STATUSES:
                errors.write_row(record.number, cells.status, cells.error, record.cells)
            tally.add(cells.status)
    return tally


def _close_unreadable(services: BulkServices, job: JobRecord, final_status: JobStatus, message: str) -> JobRecord:
    """Close a job whose input can no longer be read: a finalizing job fails, and a canceled one keeps its status.

    Either way the job records ``message`` as its error and writes no results file.
    """
    now = services.clock()
    if final_status is JobStatus.COMPLETED:
        from_status, to_status, event = JobStatus.FINALIZING, JobStatus.FAILED, WebhookEventType.FAILED
    else:
        from_status, to_status, event = JobStatus.CANCELED, JobStatus.CANCELED, WebhookEventType.CANCELED
    closed = services.jobs.transition(
        job.job_id,
        from_statuses=[from_status],
        to_status=to_status,
        now=now,
        changes={"error": message, "completed_at": now},
    )
    if closed is None:
        get_logger().warning("job changed while finalizing", job_id=job.job_id)
        return services.jobs.get(job.job_id) or job
    get_logger().warning("job input unreadable at finalize", job_id=job.job_id, status=to_status.value)
    enqueue_webhook(services.webhooks_queue, closed, event, now=now)
    return closed


def _finish(services: BulkServices, job: JobRecord, final_status: JobStatus, tally: _Tally) -> JobRecord:
    """Record where the results files are, move the job to ``final_status`` and queue its webhook.

    The final matched, not found and error counts are those of the results file, so they include the
    duplicate rows, which the workers never see.
    """
    results_key, errors_key = results_keys(job)
    now = services.clock()
    changes = {
        "results_key": results_key,
        "errors_key": errors_key,
        "completed_at": now,
        "matched": tally.matched,
        "not_found": tally.not_found,
        "errors": tally.errors,
    }
    # A finalizing job cannot be canceled, so the claimed status is still the job's status here.
    claimed_status = JobStatus.FINALIZING if final_status is JobStatus.COMPLETED else JobStatus.CANCELED
    closed = services.jobs.transition(
        job.job_id, from_statuses=[claimed_status], to_status=final_status, now=now, changes=changes
    )
    if closed is None:
        current = services.jobs.get(job.job_id)
        get_logger().warning("job changed while finalizing", job_id=job.job_id)
        return current or job
    get_logger().info("job finalized", job_id=job.job_id, status=final_status.value, rows=tally.written)
    event = WebhookEventType.COMPLETED if final_status is JobStatus.COMPLETED else WebhookEventType.CANCELED
    enqueue_webhook(services.webhooks_queue, closed, event, now=now)
    return closed


class _RowCursor:
    """Walks the row results in row order alongside the input records, which arrive in the same order."""

    def __init__(self, rows: Iterator[RowResult]) -> None:
        self._rows = rows
        self._next: RowResult | None = next(rows, None)

    def take(self, number: int) -> RowResult | None:
        while self._next is not None and self._next.row < number:
            self._next = next(self._rows, None)
        if self._next is None or self._next.row != number:
            return None
        found = self._next
        self._next = next(self._rows, None)
        return found


class _OriginalRows:
    """Reads the row a duplicate repeats, keeping the most recent ones, because duplicates often follow closely."""

    def __init__(self, services: BulkServices, job_id: str) -> None:
        self._services = services
        self._job_id = job_id
        self._cache: dict[int, RowResult | None] = {}

    def get(self, row: int) -> RowResult | None:
        if row not in self._cache:
            if len(self._cache) >= _DUPLICATE_CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[row] = self._services.rows.get(self._job_id, row)
        return self._cache[row]


def _cells(result: RowResult | None, originals: _OriginalRows) -> RowResultCells:
    if result is None:
        get_logger().error("row result missing at finalize")
        return RowResultCells(status=RowStatus.ERROR.value, error=_MISSING_ROW_ERROR)
    if result.duplicate_of is not None:
        original = originals.get(result.duplicate_of)
        if original is None or original.status is None:
            return RowResultCells(status=RowStatus.ERROR.value, error=_MISSING_ROW_ERROR)
        # The duplicate shows the earlier row's values but was not billed itself.
        return _result_cells(original, billed=False)
    return _result_cells(result, billed=True)


def _result_cells(result: RowResult, *, billed: bool) -> RowResultCells:
    status = result.status or RowStatus.ERROR
    return RowResultCells(
        status=status.value,
        email=result.email or "",
        email_verdict=result.email_verdict or "",
        phone=result.phone or "",
        phone_line_type=result.phone_line_type or "",
        company_name=result.company_name or "",
        company_registry_id=result.company_registry_id or "",
        billed=from_micros(result.billed_micros) if billed else ZERO,
        error=result.error or "",
    )
