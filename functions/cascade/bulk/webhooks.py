"""Signed webhook deliveries for bulk jobs: signing, verification, one HTTP attempt, retry delays.

A delivery is a JSON POST with three headers. ``Cascade-Event-Id`` is the same on every attempt,
``Cascade-Timestamp`` is the attempt's Unix time in seconds, and ``Cascade-Signature`` is
``v1=<hex HMAC-SHA256 of "<timestamp>.<event id>.<body>" keyed with the job's webhook secret>``.
A receiver recomputes the HMAC over the raw body, compares in constant time and rejects a
timestamp far from its clock, which stops replays (``verify_signature`` does all three).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from cascade.storage.dynamo import error_code, require_aware, storage_error

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb import DynamoDBClient

SIGNATURE_VERSION = "v1"
EVENT_ID_HEADER = "Cascade-Event-Id"
TIMESTAMP_HEADER = "Cascade-Timestamp"
SIGNATURE_HEADER = "Cascade-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 900  # SQS allows up to 12 hours; 15 minutes keeps retries within a working session
# The job item's attributes that contain the signing secret and the receiver's URL.
SECRET_ATTRIBUTE = "webhook_secret"  # noqa: S105 - an attribute name, not a secret
URL_ATTRIBUTE = "webhook_url"
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookSignatureError(ValueError):
    """A webhook request's signature headers are missing, malformed, too old or do not match the body."""


class WebhookUrlError(ValueError):
    """A webhook URL that Cascade does not send to; the message names the value and what is accepted."""


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """The result of one delivery attempt. ``status_code`` is ``None`` when no response arrived."""

    delivered: bool
    status_code: int | None
    error: str | None


def new_webhook_secret() -> str:
    """Return a new signing secret: ``whsec_`` and 32 random bytes in URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, event_id: str, body: str) -> str:
    """Return the hex HMAC-SHA256 of ``"<timestamp>.<event_id>.<body>"`` keyed with ``secret``."""
    message = f"{timestamp}.{event_id}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, event_id: str, body: str, *, timestamp: int) -> dict[str, str]:
    """Return the headers of one delivery attempt, signed for ``timestamp`` (Unix seconds)."""
    return {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={sign(secret, timestamp, event_id, body)}",
    }


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance_seconds: int = 300,
    now: datetime,
) -> None:
    """Check a received webhook; raise ``WebhookSignatureError`` when it is not authentic or is too old.

    ``headers`` are matched case-insensitively, ``body`` is the raw request body, and ``now`` is an
    aware datetime. The signature header may list several ``v1=`` values separated by commas; one
    match is enough.
    """
    require_aware(now, "now")
    lowered = {name.lower(): value for name, value in headers.items()}
    event_id = lowered.get(EVENT_ID_HEADER.lower())
    timestamp_text = lowered.get(TIMESTAMP_HEADER.lower())
    signature_text = lowered.get(SIGNATURE_HEADER.lower())
    if not event_id or not timestamp_text or not signature_text:
        raise WebhookSignatureError(
            f"missing header: a signed request has {EVENT_ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
        )
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookSignatureError(f"{TIMESTAMP_HEADER} {timestamp_text!r} is not Unix seconds") from None
    age = abs(now.timestamp() - timestamp)
    if age > tolerance_seconds:
        raise WebhookSignatureError(
            f"{TIMESTAMP_HEADER} is {age:.0f} seconds from now, more than the {tolerance_seconds} s tolerance; "
            "check the receiver's clock, or reject the request as a replay"
        )
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    expected = sign(secret, timestamp, event_id, text)
    candidates = [part.strip() for part in signature_text.split(",")]
    prefix = f"{SIGNATURE_VERSION}="
    for candidate in candidates:
        if candidate.startswith(prefix) and hmac.compare_digest(candidate[len(prefix) :], expected):
            return
    raise WebhookSignatureError(f"no {SIGNATURE_VERSION} signature matches the body; check the webhook secret")


def backoff_seconds(attempt: int, first: int, cap: int = MAX_BACKOFF_SECONDS) -> int:
    """Return the seconds to wait after failed attempt ``attempt`` (from 1): ``first * 2**(attempt - 1)``, capped."""
    if attempt < 1:
        raise ValueError(f"attempt {attempt} is not 1 or more; attempts count from 1")
    # Bounding the exponent keeps the number small for any attempt count.
    return min(cap, first * (1 << min(attempt - 1, 30)))


def validate_webhook_url(url: str, *, allow_local: bool) -> str:
    """Return ``url`` when Cascade may send webhooks to it; raise ``WebhookUrlError`` otherwise.

    On AWS (``allow_local`` false) the URL must be https, without credentials, and its host must
    not be an IP address in a private, loopback, link-local or otherwise reserved range. On the
    local stack, http and https to 127.0.0.1, ::1 or localhost are accepted as well.
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise WebhookUrlError(f"webhook_url {url!r} is not an absolute http(s) URL; send such as https://example.com/h")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError(f"webhook_url {url!r} contains credentials; remove the user:password@ part")
    if allow_local and host in _LOCAL_HOSTS:
        return url
    if parts.scheme != "https":
        raise WebhookUrlError(f"webhook_url {url!r} is not https; send an https URL")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise WebhookUrlError(
            f"webhook_url {url!r} points at the non-public address {host}; send a URL on a public host name"
        )
    return url


def new_webhook_client() -> httpx.Client:
    """Return the delivery HTTP client: 5 s to connect, 10 s per read or write, no redirects, no proxy variables."""
    # NOTE: httpx timeouts apply per network operation, so a receiver that trickles its response
    # headers can hold an attempt longer than TOTAL_TIMEOUT_SECONDS.
    timeout = httpx.Timeout(TOTAL_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)


def deliver(
    url: str,
    body: str,
    event_id: str,
    secret: str,
    *,
    client: httpx.Client,
    now: datetime,
    allow_local: bool = False,
) -> DeliveryOutcome:
    """POST ``body`` to ``url`` once, signed for ``now``. A 2xx response is a delivery; a redirect is not followed."""
    require_aware(now, "now")
    try:
        validate_webhook_url(url, allow_local=allow_local)
    except WebhookUrlError as error:
        return DeliveryOutcome(delivered=False, status_code=None, error=str(error))
    headers = signature_headers(secret, event_id, body, timestamp=int(now.timestamp()))
    try:
        with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            status = response.status_code
    except httpx.TimeoutException as error:
        return DeliveryOutcome(delivered=False, status_code=None, error=f"timed out ({type(error).__name__})")
    except httpx.HTTPError as error:
        return DeliveryOutcome(delivered=False, status_code=None, error=f"request failed ({type(error).__name__})")
    if 200 <= status < 300:
        return DeliveryOutcome(delivered=True, status_code=status, error=None)
    if 300 <= status < 400:
        return DeliveryOutcome(delivered=False, status_code=status, error=f"redirect {status} is not followed")
    return DeliveryOutcome(delivered=False, status_code=status, error=f"the receiver answered HTTP {status}")


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A job's webhook URL (``None`` when the job has none) and signing secret."""

    url: str | None
    secret: str


def load_webhook_target(client: DynamoDBClient, table: str, job_id: str) -> WebhookTarget | None:
    """Read the webhook secret and URL stored on job ``job_id``; ``None`` when the job or its secret is missing."""
    from botocore.exceptions import ClientError  # noqa: PLC0415 - botocore is imported only when AWS is called

    try:
        reply = client.get_item(
            TableName=table,
            Key={"pk": {"S": job_id}},
            ProjectionExpression="#secret, #url",
            ExpressionAttributeNames={"#secret": SECRET_ATTRIBUTE, "#url": URL_ATTRIBUTE},
            ConsistentRead=True,
        )
    except ClientError as error:
        raise storage_error(error, operation="reading the job's webhook secret") from error
    item = reply.get("Item", {})
    secret = item.get(SECRET_ATTRIBUTE, {}).get("S")
    if not secret:
        return None
    return WebhookTarget(url=item.get(URL_ATTRIBUTE, {}).get("S") or None, secret=secret)


def load_webhook_secret(client: DynamoDBClient, table: str, job_id: str) -> str | None:
    """Return the webhook secret stored on job ``job_id``, or ``None`` when the job or its secret is missing."""
    target = load_webhook_target(client, table, job_id)
    return target.secret if target else None


def record_webhook_status(
    client: DynamoDBClient, table: str, job_id: str, *, status: str, attempts: int, now: datetime
) -> bool:
    """Set ``webhook_status``, ``webhook_attempts`` and ``webhook_updated_at`` on an existing job.

    Return ``False`` when the job no longer exists, in which case nothing is written.
    """
    from botocore.exceptions import ClientError  # noqa: PLC0415

    require_aware(now, "now")
    try:
        client.update_item(
            TableName=table,
            Key={"pk": {"S": job_id}},
            UpdateExpression="SET webhook_status = :status, webhook_attempts = :attempts, webhook_updated_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":attempts": {"N": str(attempts)},
                ":at": {"S": now.isoformat()},
            },
        )
    except ClientError as error:
        if _is_condition_failure(error):
            return False
        raise storage_error(error, operation="recording the webhook status") from error
    return True


def _is_condition_failure(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"
