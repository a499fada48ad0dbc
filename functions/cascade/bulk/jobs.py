"""Bulk job models: the create request, the stored job record, the public ``Job`` and one row's result.

A job starts ``queued``, created and waiting for its upload. It is ``processing`` while ingest sends
the rows and workers enrich them, then ``finalizing`` while one worker writes the results files
(an internal status, shown as ``processing``). It ends ``completed``, ``failed`` or ``canceled``.
``on_hold`` pauses a processing job whose key reached its monthly spend cap, and raising the cap
resumes it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from cascade.domain.errors import FieldError, InvalidInputError
from cascade.domain.models import CountryCode, RequestedField, WaterfallOverrides
from cascade.domain.money import Money, from_micros
from cascade.domain.plans import KeyPlan
from cascade.settings import Stage

JOB_ID_PATTERN = r"^job_[0-9a-f]{26}$"
_JOB_ID = re.compile(JOB_ID_PATTERN)
_JOB_ID_HEX_DIGITS = 26
_MAX_FILE_NAME_LENGTH = 255
_MAX_URL_LENGTH = 2048


class JobStatus(StrEnum):
    """A job's stored status. ``finalizing`` is internal and shown to clients as ``processing``."""

    QUEUED = "queued"
    PROCESSING = "processing"
    FINALIZING = "finalizing"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def public(self) -> JobStatus:
        return JobStatus.PROCESSING if self is JobStatus.FINALIZING else self


# The statuses that clients see: every stored status except the internal ``finalizing``.
PublicJobStatus = Literal["queued", "processing", "on_hold", "completed", "failed", "canceled"]


class RowStatus(StrEnum):
    """The outcome of one input row, as the results file shows it."""

    MATCHED = "matched"
    PARTIAL = "partial"
    NOT_FOUND = "not_found"
    SUPPRESSED = "suppressed"
    INVALID_INPUT = "invalid_input"
    ERROR = "error"
    CANCELED = "canceled"


class WebhookEventType(StrEnum):
    COMPLETED = "job.completed"
    FAILED = "job.failed"
    CANCELED = "job.canceled"
    ON_HOLD = "job.on_hold"


def _check_file_name(value: str) -> str:
    if not value.isprintable():
        raise ValueError(f"file_name {value!r} contains control characters; send a one-line name such as leads.csv")
    return value


class JobCreateRequest(BaseModel):
    """``POST /v1/jobs``: how to enrich every row of the file uploaded next."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fields: list[RequestedField] = Field(
        default_factory=lambda: [RequestedField.EMAIL],
        min_length=1,
        max_length=2,
        description="Fields to find for every row.",
    )
    waterfall: WaterfallOverrides = Field(default_factory=WaterfallOverrides)
    max_age_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        default=None, description="Reuse a value verified for this key within this many days; 0 always looks again."
    )
    webhook_url: Annotated[str, Field(min_length=1, max_length=_MAX_URL_LENGTH)] | None = Field(
        default=None, description="HTTPS URL that receives a signed POST when the job completes, fails or pauses."
    )
    country: CountryCode | None = Field(default=None, description="Country (ISO 3166 alpha-2) of rows without one.")
    file_name: (
        Annotated[str, Field(min_length=1, max_length=_MAX_FILE_NAME_LENGTH), AfterValidator(_check_file_name)] | None
    ) = Field(default=None, description="Name shown with the job; it does not change where the file is stored.")

    @field_validator("fields")
    @classmethod
    def _fields_once(cls, value: list[RequestedField]) -> list[RequestedField]:
        if len(set(value)) != len(value):
            raise ValueError('fields lists a value twice; send each of "email" and "phone" at most once')
        return value


class Job(BaseModel):
    """A bulk job as ``GET /v1/jobs/{job_id}`` returns it."""

    id: str = Field(examples=["job_0f3a9c2d4e5b6a7980c1d2e3f4"])
    status: PublicJobStatus
    file_name: str | None = None
    rows_total: int | None = Field(default=None, description="Data rows in the file; null until it is read.")
    rows_done: int = 0
    matched: int = Field(
        default=0,
        description="Rows with every requested field (matched) or some (partial). Duplicate rows are not counted.",
    )
    not_found: int = Field(default=0, description="Rows with nothing found. Duplicate rows are not counted.")
    errors: int = Field(default=0, description="Rows with invalid input or an error, as listed in the errors file.")
    progress: float = Field(default=0.0, ge=0.0, le=1.0, description="rows_done / rows_total; 0 before ingest.")
    billed_amount: Money = Field(description="Charged for this job so far, in dollars.")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    error: str | None = Field(default=None, description="Why the whole job failed, and what to change.")
    results_url: str | None = Field(default=None, description="Pre-signed GET of the results file.")
    errors_url: str | None = Field(default=None, description="Pre-signed GET of the row errors file.")
    encoding: str | None = Field(default=None, description="Text encoding of the uploaded file, as detected.")
    encoding_assumed: bool = Field(default=False, description="True when the encoding was a guess (Windows-1252).")
    delimiter: str | None = None
    column_mapping: dict[str, str] = Field(
        default_factory=dict, description="Each input field and the header of the column it was read from."
    )
    warnings: list[str] = Field(default_factory=list)


class JobCreated(Job):
    """The reply to ``POST /v1/jobs``: the job, where to upload the file, and the webhook signing secret."""

    upload_url: str = Field(description="Pre-signed S3 PUT URL for the CSV file; send the bytes as the body.")
    upload_expires_at: AwareDatetime
    webhook_secret: str | None = Field(
        default=None, description="Key of the HMAC-SHA256 webhook signatures. Shown only in this reply."
    )


class JobRecord(BaseModel):
    """The stored state of one job; ``cascade.storage.jobs`` maps it to a DynamoDB item."""

    model_config = ConfigDict(extra="forbid")

    job_id: Annotated[str, Field(pattern=JOB_ID_PATTERN)]
    key_id: str
    account_id: str
    plan: KeyPlan
    status: JobStatus
    created_at: AwareDatetime
    updated_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    fields: list[RequestedField]
    waterfall: WaterfallOverrides = Field(default_factory=WaterfallOverrides)
    max_age_days: int | None = None
    country: str | None = None
    file_name: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_status: str | None = None
    upload_key: str | None = None
    # The version of the upload that ingest read, which finalize reads again: the S3 version id in a
    # versioned bucket, else the ETag that every read requires.
    upload_version_id: str | None = None
    upload_etag: str | None = None
    input_format: dict[str, Any] | None = None
    column_mapping: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    rows_total: int | None = None
    rows_done: int = 0
    matched: int = 0
    not_found: int = 0
    errors: int = 0
    billed_micros: int = 0
    error: str | None = None
    results_key: str | None = None
    errors_key: str | None = None
    ingest_started_at: AwareDatetime | None = None
    ingest_finished_at: AwareDatetime | None = None
    finalize_started_at: AwareDatetime | None = None

    @property
    def all_rows_done(self) -> bool:
        return self.rows_total is not None and self.ingest_finished_at is not None and self.rows_done >= self.rows_total

    def to_job(self, *, results_url: str | None = None, errors_url: str | None = None) -> Job:
        fmt = self.input_format or {}
        progress = 0.0
        if self.rows_total:
            progress = min(1.0, self.rows_done / self.rows_total)
        elif self.rows_total == 0 and self.status is JobStatus.COMPLETED:
            progress = 1.0
        return Job(
            id=self.job_id,
            status=self.status.public.value,
            file_name=self.file_name,
            rows_total=self.rows_total,
            rows_done=self.rows_done,
            matched=self.matched,
            not_found=self.not_found,
            errors=self.errors,
            progress=progress,
            billed_amount=from_micros(self.billed_micros),
            created_at=self.created_at,
            updated_at=self.updated_at,
            completed_at=self.completed_at,
            error=self.error,
            results_url=results_url,
            errors_url=errors_url,
            encoding=fmt.get("encoding"),
            encoding_assumed=bool(fmt.get("encoding_assumed", False)),
            delimiter=fmt.get("delimiter"),
            column_mapping=dict(self.column_mapping),
            warnings=list(self.warnings),
        )


class RowResult(BaseModel):
    """The outcome of one input row, stored once per row in the job rows table.

    A duplicate row has no status of its own: ``duplicate_of`` names the earlier row with the same
    identity, whose result the results file repeats (unbilled) for it.
    """

    model_config = ConfigDict(extra="forbid")

    row: Annotated[int, Field(ge=1)]
    status: RowStatus | None = None
    duplicate_of: Annotated[int, Field(ge=1)] | None = None
    error: str | None = None
    error_field: str | None = None
    email: str | None = None
    email_verdict: str | None = None
    phone: str | None = None
    phone_line_type: str | None = None
    company_name: str | None = None
    company_registry_id: str | None = None
    billed_micros: Annotated[int, Field(ge=0)] = 0
    enrichment_id: str | None = None


def new_job_id() -> str:
    return "job_" + secrets.token_hex(16)[:_JOB_ID_HEX_DIGITS]


def derived_job_id(bucket: str, key: str, version: str) -> str:
    """Return the job id of a direct upload, the same for every delivery of one object version."""
    digest = hashlib.sha256(f"{bucket}\x1f{key}\x1f{version}".encode()).hexdigest()
    return "job_" + digest[:_JOB_ID_HEX_DIGITS]


def is_job_id(value: str) -> bool:
    return _JOB_ID.fullmatch(value) is not None


def row_enrichment_id(job_id: str, row: int) -> str:
    """Return the enrichment id of one row: ``enr_`` and 24 hex digits, stable across re-runs of the row."""
    return "enr_" + hashlib.sha256(f"{job_id}\x1frow\x1f{row}".encode()).hexdigest()[:24]


def validate_webhook_url(url: str, stage: Stage) -> str:
    """Return ``url`` when Cascade may POST to it on ``stage``; raise ``InvalidInputError`` naming the fix.

    The rules are the webhook sender's (``cascade.bulk.webhooks.validate_webhook_url``): https only on
    AWS, never a host written as a non-public IP address, no credentials in the URL, and on the local
    stage also http to 127.0.0.1, ::1 or localhost. On AWS a ``localhost`` host name is rejected too.
    """
    # NOTE: a host name that resolves to a private address passes this check; the sender connects to
    # whatever the name resolves to at delivery time.
    from cascade.bulk import webhooks  # noqa: PLC0415 - imports httpx, which only job creation needs

    allow_local = stage is Stage.LOCAL
    try:
        checked = webhooks.validate_webhook_url(url, allow_local=allow_local)
        host = (urlsplit(url).hostname or "").lower()
    except ValueError as error:
        raise InvalidInputError([FieldError("webhook_url", str(error))]) from None
    if not allow_local and (host == "localhost" or host.endswith(".localhost")):
        message = f"webhook_url {url!r} points at this machine; send a URL on a public host name"
        raise InvalidInputError([FieldError("webhook_url", message)])
    return checked


def utc_text(moment: datetime) -> str:
    """Write ``moment`` in UTC with microseconds, so that texts sort in time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
