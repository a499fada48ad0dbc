"""Runtime settings, read from the environment once per cold start and validated.

Every Lambda and the local stack call ``get_settings()`` on first use. Nothing reads the
environment at import time, so tests can set variables before the first call and clear
the cache with ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, HttpUrl, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Stage(StrEnum):
    """The place the code runs: on AWS, or on the embedded local stack (also used by tests)."""

    AWS = "aws"
    LOCAL = "local"


class Settings(BaseSettings):
    """Cascade's configuration; each field is read from ``CASCADE_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CASCADE_", extra="ignore", frozen=True)

    stage: Stage = Stage.LOCAL
    default_region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    email_price: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("0.20")
    phone_price: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("0.30")
    freshness_days: Annotated[int, Field(ge=0, le=365)] = 30
    sync_deadline_seconds: Annotated[float, Field(gt=0, le=28)] = 25.0
    provider_connect_timeout_seconds: Annotated[float, Field(gt=0, le=10)] = 2.0
    provider_read_timeout_seconds: Annotated[float, Field(gt=0, le=25)] = 8.0
    # Base URL of the provider sandbox; when set, every provider adapter calls it instead of
    # the vendor's host. Test keys (cas_test_...) always use it.
    sandbox_url: HttpUrl | None = None
    # Prefix of the Secrets Manager secret names that hold vendor credentials on AWS,
    # one secret per provider: "<prefix><provider name>".
    provider_secret_prefix: str = "cascade/providers/"  # noqa: S105 - a name prefix, not a secret
    # Vendor credentials for local runs and the sandbox, as a JSON object of provider name to
    # credential fields ({"hunter": {"api_key": "..."}}). When set, it replaces Secrets Manager.
    provider_credentials_json: SecretStr | None = None
    # DNS server for MX lookups as "host" or "host:port", such as the sandbox's loopback DNS
    # server; unset uses the system resolver.
    mx_nameserver: str | None = None
    # SMTP probing needs outbound port 25, which AWS blocks for Lambda; off by default.
    smtp_verification_enabled: bool = False
    ledger_table: str = "cascade-ledger"
    usage_table: str = "cascade-usage"
    freshness_table: str = "cascade-freshness"
    suppressions_table: str = "cascade-suppressions"
    api_keys_table: str = "cascade-api-keys"
    enrichments_table: str = "cascade-enrichments"
    idempotency_table: str = "cascade-idempotency"
    jobs_table: str = "cascade-jobs"
    job_rows_table: str = "cascade-job-rows"
    companies_table: str = "cascade-companies"
    # Buckets and queues (cascade.storage.schema BUCKETS and QUEUES). The local stack and CDK set them.
    files_bucket: str = "cascade-files"
    billing_bucket: str = "cascade-billing"
    ingest_queue_url: str | None = None
    rows_queue_url: str | None = None
    webhooks_queue_url: str | None = None
    # Contact data in the freshness store expires after this many days (DynamoDB TTL).
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 180
    usage_counter_shards: Annotated[int, Field(ge=1, le=100)] = 10
    # HTTP API request bodies larger than this many bytes are rejected with 413 before they are parsed.
    max_request_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 65536
    # ARN of the Express state machine that runs the waterfall for the HTTP API; required by POST /v1/people/enrich.
    waterfall_state_machine_arn: str | None = None
    # How long the first response to an Idempotency-Key is kept and replayed, in hours.
    idempotency_hours: Annotated[int, Field(ge=1, le=168)] = 24
    # Bulk jobs: an upload larger than this many bytes, or with more data rows, is rejected.
    bulk_max_file_bytes: Annotated[int, Field(ge=1024, le=5 * 1024**3)] = 512 * 1024 * 1024
    bulk_max_rows: Annotated[int, Field(ge=1, le=5_000_000)] = 500_000
    # Lifetime of the pre-signed upload and result URLs, in seconds.
    presigned_url_seconds: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 3600
    # Webhook deliveries: attempts before giving up, and the first retry delay (doubled each time).
    webhook_max_attempts: Annotated[int, Field(ge=1, le=20)] = 8
    webhook_first_retry_seconds: Annotated[int, Field(ge=1, le=900)] = 10
    # Government registries. SEC EDGAR requires a User-Agent that names the caller and a contact address.
    sec_user_agent: str = "Cascade contact enrichment ops@cascade.invalid"
    # Companies House REST API key (HTTP Basic user name); unset skips the UK register.
    companies_house_api_key: SecretStr | None = None
    # Pace per process for the registries that publish no limit, GLEIF and Brønnøysund: at most this many
    # requests in any one second, and half as many per second sustained. The default of 4 is a polite guess.
    # The local stack raises both, because its sandbox limits neither.
    gleif_requests_per_second: Annotated[float, Field(gt=0, le=100)] = 4.0
    brreg_requests_per_second: Annotated[float, Field(gt=0, le=100)] = 4.0
    # Company facts are cached per natural key for this many days.
    company_cache_days: Annotated[int, Field(ge=0, le=365)] = 7


@functools.cache
def get_settings() -> Settings:
    return Settings()
