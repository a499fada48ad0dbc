"""Ingest: turn an uploaded CSV file into one ROWS message per unique valid row.

An upload under ``uploads/<key id>/<job id>/<name>`` belongs to the job that ``POST /v1/jobs``
created. Any other object under ``uploads/<key id>/`` is a direct upload. Its job id is derived from
the bucket, the key and the object version, and the job is created only if it does not exist, so
every delivery of one S3 event finds the same job.

A job is claimed for ingest by a conditional update from ``queued`` to ``processing``. A claim of a
job that is still ``processing`` succeeds only when its ingest never finished and started more than
``INGEST_LEASE_SECONDS`` ago, which is a crashed ingest whose event came back. A re-run sends every
row message again. That is safe, because the worker skips rows that already have a result and the
ledger never charges a match twice.

The file is read twice, one chunk at a time. Both passes read one version of the object, named by
its S3 version id or, in a bucket without versioning, by its ETag. The job records that version, so
finalize reads the same bytes. The first pass checks that every byte decodes, finds the encoding
(switching to Windows-1252 when UTF-8 fails after the detection window) and counts the rows against
``bulk_max_rows``, so a file that fails halfway fails before any row is enriched or billed. The second
pass validates, deduplicates and sends the rows. Invalid and duplicate rows get their result at once,
without a message, written in batches of up to ``MAX_TRANSACTION_ROWS`` rows.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from cascade.bulk.csv_input import DETECT_BYTES, CsvFormat, CsvFormatError, detect_format, iter_records, scan_file
from cascade.bulk.finalize import finalize_if_done
from cascade.bulk.headers import HeaderMapping, NoUsableColumnsError, map_headers
from cascade.bulk.jobs import (
    JobRecord,
    JobStatus,
    RowResult,
    RowStatus,
    WebhookEventType,
    derived_job_id,
    is_job_id,
)
from cascade.bulk.notify import enqueue_webhook
from cascade.bulk.rows import RowError, build_row
from cascade.bulk.services import BulkServices
from cascade.domain.keys import KEY_ID_PATTERN
from cascade.domain.models import PersonEnrichmentRequest, RequestedField
from cascade.observability import get_logger
from cascade.storage.files import ObjectChangedError, ObjectInfo, ObjectNotFoundError
from cascade.storage.jobs import MAX_TRANSACTION_ROWS, RowCounters
from cascade.storage.schema import INGEST, UPLOADS_PREFIX

# A claimed ingest that has not finished after this long is taken over; it exceeds the ingest Lambda's timeout.
INGEST_LEASE_SECONDS = INGEST.visibility_timeout_seconds
# Interval, in rows, at which the second pass checks whether the job was canceled meanwhile.
_CANCEL_CHECK_ROWS = 1000
_KEY_ID = re.compile(KEY_ID_PATTERN)
_MESSAGE_BATCH = 10
_ENCODING_ASSUMED_WARNING = (
    "the file is not valid UTF-8 and was read as Windows-1252; if names look wrong in the results, "
    "save the file as CSV UTF-8 and upload it again"
)
_REPLACED_ERROR = (
    "the uploaded file was replaced by another upload to the same key before it could be read, and this bucket "
    "keeps no earlier versions; upload each file once, to a key of its own"
)
_DELETED_ERROR = "the uploaded file was deleted before it could be read; upload it again"
# S3's version id of objects written while versioning is off or suspended; the next upload overwrites it.
_NULL_VERSION = "null"


class RowMessage(BaseModel):
    """The body of one ROWS queue message: which row of which job, and its enrichment request."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    row: int = Field(ge=1)
    request: PersonEnrichmentRequest


@dataclass(frozen=True, slots=True)
class UploadKey:
    """An object key under ``uploads/``: its owner, and the job it was uploaded for (``None`` for a direct upload)."""

    key_id: str
    job_id: str | None
    file_name: str


@dataclass(frozen=True, slots=True)
class UploadedObject:
    """One ObjectCreated record: the bucket, the decoded key and a token that names this version of the object.

    ``version_id`` (versioned buckets only) and ``etag`` are the event's own values, when present.
    """

    bucket: str
    key: str
    version: str
    version_id: str | None = None
    etag: str | None = None


def parse_upload_key(key: str) -> UploadKey | None:
    """Return the owner and job of an uploaded object key, or ``None`` for a key outside ``uploads/<key id>/``."""
    if not key.startswith(UPLOADS_PREFIX):
        return None
    parts = key[len(UPLOADS_PREFIX) :].split("/")
    if len(parts) < 2 or not _KEY_ID.fullmatch(parts[0]) or not parts[-1]:
        return None
    if len(parts) == 3 and is_job_id(parts[1]):
        return UploadKey(key_id=parts[0], job_id=parts[1], file_name=parts[2])
    return UploadKey(key_id=parts[0], job_id=None, file_name=posixpath.basename(key))


def ingest_object(services: BulkServices, uploaded: UploadedObject) -> JobRecord | None:
    """Attach an uploaded object to its job (creating the job for a direct upload) and ingest it.

    Returns the job after ingest, or ``None`` when the object has no owner or its job was already
    claimed. Raises storage errors, after which the event is delivered again and ingest resumes.
    """
    logger = get_logger()
    parsed = parse_upload_key(uploaded.key)
    if parsed is None:
        logger.warning("upload outside a key prefix dropped", bucket=uploaded.bucket)
        return None
    owner = services.keys.get(parsed.key_id)
    if owner is None or not owner.active:
        logger.warning("upload of an unknown or revoked key dropped", key_id=parsed.key_id)
        return None

    now = services.clock()
    if parsed.job_id is None:
        job_id = derived_job_id(uploaded.bucket, uploaded.key, uploaded.version)
        created = services.jobs.create(
            JobRecord(
                job_id=job_id,
                key_id=owner.key_id,
                account_id=owner.account_id,
                plan=owner.plan,
                status=JobStatus.QUEUED,
                created_at=now,
                updated_at=now,
                fields=[RequestedField.EMAIL],
                file_name=parsed.file_name,
                upload_key=uploaded.key,
            )
        )
        logger.info("direct upload job", job_id=job_id, key_id=owner.key_id, new_job=created)
    else:
        job_id = parsed.job_id

    stale = now - timedelta(seconds=INGEST_LEASE_SECONDS)
    condition_values = {
        ":owner": owner.key_id,
        ":queued": JobStatus.QUEUED.value,
        ":stale": stale.isoformat(timespec="microseconds"),
    }
    # A crashed ingest is resumed only by an event for the object it was reading, never by a later upload.
    same_object = ""
    if uploaded.etag is not None:
        condition_values[":etag"] = uploaded.etag
        same_object = " AND (attribute_not_exists(upload_etag) OR upload_etag = :etag)"
    claimed = services.jobs.transition(
        job_id,
        from_statuses=[JobStatus.QUEUED, JobStatus.PROCESSING],
        to_status=JobStatus.PROCESSING,
        now=now,
        changes={"ingest_started_at": now, "upload_key": uploaded.key},
        condition=(
            "key_id = :owner AND (#status = :queued OR "
            f"(attribute_not_exists(ingest_finished_at) AND ingest_started_at < :stale{same_object}))"
        ),
        condition_values=condition_values,
    )
    if claimed is None:
        logger.info("upload event for a job already claimed", job_id=job_id, key_id=owner.key_id)
        return None
    logger.append_keys(job_id=job_id, key_id=owner.key_id)
    return run_ingest(services, claimed, uploaded)


def run_ingest(services: BulkServices, job: JobRecord, uploaded: UploadedObject | None = None) -> JobRecord:
    """Read the claimed job's upload and send its rows; a file that cannot be used fails the job.

    Every read is pinned to one version of the object: the one that an earlier run of this ingest
    recorded on the job, else the one that ``uploaded`` (the event) names, else the current one.
    The job records that version for finalize.
    """
    settings = services.settings
    key = job.upload_key
    if key is None:
        raise ValueError(f"job {job.job_id} has no upload key; claim it with the key of the uploaded object")
    version_id, etag = job.upload_version_id, job.upload_etag
    if etag is None and uploaded is not None:
        version_id, etag = uploaded.version_id, uploaded.etag
    try:
        info = services.files.head(key, version_id=version_id, etag=etag)
    except ObjectNotFoundError:
        return fail_job(services, job, _DELETED_ERROR)
    except ObjectChangedError:
        return fail_job(services, job, _REPLACED_ERROR)
    job = services.jobs.update(job.job_id, now=services.clock(), changes=_pin_changes(version_id, info)) or job
    if info.size > settings.bulk_max_file_bytes:
        return fail_job(
            services,
            job,
            f"the file has {info.size} bytes, more than the limit of {settings.bulk_max_file_bytes} bytes per job; "
            "split it into smaller files and upload each as its own job",
        )
    try:
        fmt, mapping, rows_total = _scan_upload(services, job, key)
    except (CsvFormatError, NoUsableColumnsError) as error:
        return fail_job(services, job, str(error))
    except ObjectNotFoundError:
        return fail_job(services, job, _DELETED_ERROR)
    except ObjectChangedError:
        return fail_job(services, job, _REPLACED_ERROR)

    warnings = list(mapping.warnings)
    if fmt.encoding_assumed:
        warnings.append(_ENCODING_ASSUMED_WARNING)
    updated = services.jobs.update(
        job.job_id,
        now=services.clock(),
        changes={
            "input_format": fmt.model_dump(mode="json"),
            "column_mapping": mapping.describe(),
            "warnings": warnings,
            "rows_total": rows_total,
        },
    )
    job = updated or job
    sent = _send_rows(services, job, fmt, mapping)
    finished = services.jobs.update(job.job_id, now=services.clock(), changes={"ingest_finished_at": services.clock()})
    get_logger().info("ingest finished", job_id=job.job_id, rows_total=rows_total, rows_sent=sent)
    return finalize_if_done(services, job.job_id) or finished or job


def fail_job(services: BulkServices, job: JobRecord, message: str) -> JobRecord:
    """Mark a processing job ``failed`` with ``message`` and queue its ``job.failed`` webhook."""
    now = services.clock()
    failed = services.jobs.transition(
        job.job_id,
        from_statuses=[JobStatus.PROCESSING],
        to_status=JobStatus.FAILED,
        now=now,
        changes={"error": message, "completed_at": now},
    )
    if failed is None:
        current = services.jobs.get(job.job_id)
        get_logger().info("job not failed, its status changed", job_id=job.job_id)
        return current or job
    # The message is not logged, because it can quote the file's first row, which may be personal data.
    get_logger().warning("job failed", job_id=job.job_id, key_id=job.key_id)
    enqueue_webhook(services.webhooks_queue, failed, WebhookEventType.FAILED, now=now)
    return failed


def _scan_upload(services: BulkServices, job: JobRecord, key: str) -> tuple[CsvFormat, HeaderMapping, int]:
    """Detect the upload's format, map its headers and count its rows, reading the job's pinned version.

    The headers are mapped before the whole file is read, so a file without a usable column fails
    at once, and again when the scan switched the encoding.
    """
    version_id, etag = job.upload_version_id, job.upload_etag
    head = services.files.read_head(key, DETECT_BYTES, version_id=version_id, etag=etag)
    fmt = detect_format(head)
    mapping = map_headers(fmt.header_row)
    scan = scan_file(
        fmt,
        head,
        lambda: services.files.iter_chunks(key, version_id=version_id, etag=etag),
        max_rows=services.settings.bulk_max_rows,
    )
    if scan.format != fmt:
        mapping = map_headers(scan.format.header_row)
    return scan.format, mapping, scan.records


def _pin_changes(version_id: str | None, info: ObjectInfo) -> dict[str, str]:
    """Return the job fields that pin later reads to the version ``info`` describes.

    The version id is the one the read requested, else the one the read returned. The ETag is kept
    for a bucket without versioning, where every later read requires it.
    """
    changes = {"upload_etag": info.etag}
    version_id = version_id or info.version_id
    if version_id is not None and version_id != _NULL_VERSION:
        changes["upload_version_id"] = version_id
    return changes


def _send_rows(services: BulkServices, job: JobRecord, fmt: CsvFormat, mapping: HeaderMapping) -> int:
    """Validate and deduplicate every record; send the unique valid ones and record the others. Return rows sent."""
    if job.upload_key is None:
        raise ValueError(f"job {job.job_id} has no upload key")
    expires_at = services.clock() + timedelta(days=services.settings.retention_days)
    # NOTE: the first row of each identity is kept in memory, so memory grows with the unique rows of a file
    # (about 100 bytes each, some 50 MB at the 500,000-row default limit).
    first_rows: dict[str, int] = {}
    batch: list[str] = []
    results = _ResultBuffer(services, job.job_id, expires_at)
    sent = 0
    canceled = False
    chunks = services.files.iter_chunks(job.upload_key, version_id=job.upload_version_id, etag=job.upload_etag)
    for record in iter_records(chunks, fmt, max_rows=None):
        if record.number % _CANCEL_CHECK_ROWS == 0 and not canceled:
            current = services.jobs.get(job.job_id)
            canceled = current is not None and current.status is JobStatus.CANCELED

        built = build_row(
            record,
            mapping,
            fields=job.fields,
            waterfall=job.waterfall,
            max_age_days=job.max_age_days,
            default_country=job.country,
        )
        if isinstance(built, RowError):
            result = RowResult(
                row=record.number, status=RowStatus.INVALID_INPUT, error=built.message, error_field=built.field
            )
            results.add(result, RowCounters(errors=1))
            continue

        first = first_rows.get(built.dedupe_key)
        if first is not None:
            results.add(RowResult(row=record.number, duplicate_of=first), RowCounters())
            continue
        first_rows[built.dedupe_key] = record.number
        if canceled:
            results.add(RowResult(row=record.number, status=RowStatus.CANCELED), RowCounters())
            continue

        message = RowMessage(job_id=job.job_id, row=record.number, request=built.request)
        batch.append(message.model_dump_json(exclude_none=True))
        if len(batch) == _MESSAGE_BATCH:
            sent += services.rows_queue.send(batch)
            batch = []
    if batch:
        sent += services.rows_queue.send(batch)
    results.flush()
    return sent


class _ResultBuffer:
    """Collects the results that ingest writes itself and writes them ``MAX_TRANSACTION_ROWS`` at a time."""

    def __init__(self, services: BulkServices, job_id: str, expires_at: datetime) -> None:
        self._services = services
        self._job_id = job_id
        self._expires_at = expires_at
        self._pending: list[tuple[RowResult, RowCounters]] = []

    def add(self, result: RowResult, counters: RowCounters) -> None:
        self._pending.append((result, counters))
        if len(self._pending) >= MAX_TRANSACTION_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self._services.rows.record_many(
            self._job_id, self._pending, expires_at=self._expires_at, now=self._services.clock()
        )
        self._pending = []


def uploaded_objects(message_body: str) -> list[UploadedObject]:
    """Return the ObjectCreated records of one INGEST message, with each key decoded once.

    S3 form-encodes keys in events (a space as ``+``, other bytes as ``%XX`` of their UTF-8), so the key
    is decoded with ``unquote_plus`` exactly once. A test event (``s3:TestEvent``) has no records.
    """
    document = json.loads(message_body)
    if not isinstance(document, dict) or document.get("Event") == "s3:TestEvent":
        return []
    objects: list[UploadedObject] = []
    for record in document.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        stored = s3["object"]
        version_id = stored.get("versionId") or None
        if version_id == _NULL_VERSION:
            # The version would be overwritten by the next upload, so the ETag pins the reads instead.
            version_id = None
        etag = str(stored["eTag"]).strip('"') if stored.get("eTag") else None
        version = version_id or f"{etag or ''}:{stored.get('sequencer', '')}"
        objects.append(
            UploadedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(stored["key"]),
                version=str(version),
                version_id=None if version_id is None else str(version_id),
                etag=etag,
            )
        )
    return objects
