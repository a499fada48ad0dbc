"""The billing bucket's monthly exports: ``exports/<YYYY-MM>/<key id>.csv`` and ``.json``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from cascade.storage.dynamo import StorageError, error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3ClientSource: TypeAlias = "S3Client | Callable[[], S3Client]"

EXPORTS_PREFIX = "exports/"


def export_object_key(month: str, key_id: str, extension: str) -> str:
    """Return the object key of one export file, such as ``exports/2026-03/key_0123456789abcdef.csv``."""
    return f"{EXPORTS_PREFIX}{month}/{key_id}.{extension}"


def s3_client_factory() -> Callable[[], S3Client]:
    """Return a factory that builds one S3 client on its first call and returns it afterwards."""
    lock = threading.Lock()
    built: list[S3Client] = []

    def factory() -> S3Client:
        with lock:
            if not built:
                import boto3  # noqa: PLC0415 - boto3 costs about 100 ms to import, so only the first client pays it
                from botocore.config import Config  # noqa: PLC0415

                config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
                built.append(boto3.client("s3", config=config))
            return built[0]

    return factory


class ExportBucket:
    """Writes and reads export files in the billing bucket."""

    def __init__(self, client: S3ClientSource, *, bucket: str) -> None:
        self._source = client
        self._client: S3Client | None = None
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def put(self, object_key: str, body: bytes, *, content_type: str) -> None:
        """Write ``body`` to ``object_key``, replacing an earlier version (the bucket keeps old versions)."""
        client = self._get()
        try:
            client.put_object(Bucket=self._bucket, Key=object_key, Body=body, ContentType=content_type)
        except client.exceptions.ClientError as error:
            code = error_code(error)
            raise StorageError(
                f"writing s3://{self._bucket}/{object_key} failed with {code or 'an unknown error'}",
                code=code or "Unknown",
            ) from error

    def get(self, object_key: str) -> bytes | None:
        """Return the bytes of ``object_key``, or ``None`` when it does not exist."""
        client = self._get()
        try:
            reply = client.get_object(Bucket=self._bucket, Key=object_key)
        except client.exceptions.NoSuchKey:
            return None
        except client.exceptions.ClientError as error:
            code = error_code(error)
            raise StorageError(
                f"reading s3://{self._bucket}/{object_key} failed with {code or 'an unknown error'}",
                code=code or "Unknown",
            ) from error
        return reply["Body"].read()

    def _get(self) -> S3Client:
        if self._client is None:
            source = self._source
            # A botocore client is not callable, so a callable source is a factory.
            self._client = source() if callable(source) else source
        return self._client
