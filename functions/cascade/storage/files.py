"""S3 objects of bulk jobs: pre-signed URLs, reads in chunks, and uploads streamed in parts.

Reads can be pinned to one version of an object: by its version id in a versioned bucket, or
else by its ETag (``If-Match``), so that an object replaced meanwhile raises ``ObjectChangedError``
instead of returning the new bytes.

Nothing here keeps a whole file in memory. Reads yield the body in chunks, and ``S3UploadStream``
is a writable binary stream that sends a part to S3 each time it has buffered ``part_size`` bytes.
A file smaller than one part is stored with a single ``PutObject``.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from cascade.storage.dynamo import StorageError, error_code

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

S3ClientFactory = Callable[[], "S3Client"]

# S3 requires every part but the last to be at least 5 MiB.
MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 256 * 1024
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})
# HEAD replies have no body, so their error code is the HTTP status.
_CHANGED_CODES = frozenset({"PreconditionFailed", "412"})


class _Pin(TypedDict, total=False):
    """The GetObject and HeadObject parameters that pin a read to one version of an object."""

    VersionId: str
    IfMatch: str


class ObjectNotFoundError(StorageError):
    """The object or the requested version does not exist (or was deleted since the event that named it)."""


class ObjectChangedError(StorageError):
    """The object was replaced since the version that a read was pinned to, and that version is gone."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """An object's size in bytes, its ETag without quotes and its version id (``None`` when unversioned)."""

    size: int
    etag: str
    version_id: str | None


def s3_client_factory(*, endpoint_url: str | None = None) -> S3ClientFactory:
    """Return a factory that builds one S3 client on its first call and returns it afterwards."""
    lock = threading.Lock()
    built: list[S3Client] = []

    def factory() -> S3Client:
        with lock:
            if not built:
                import boto3  # noqa: PLC0415 - boto3 costs about 100 ms to import; only the first client pays it
                from botocore.config import Config  # noqa: PLC0415

                config = Config(
                    retries={"mode": "standard", "max_attempts": 3}, signature_version="s3v4", connect_timeout=2
                )
                built.append(boto3.client("s3", endpoint_url=endpoint_url, config=config))
            return built[0]

    return factory


class FileStore:
    """One bucket's objects: pre-signed URLs, metadata, chunked reads and streamed uploads."""

    def __init__(self, client_factory: S3ClientFactory, bucket: str) -> None:
        self._factory = client_factory
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def presign_put(self, key: str, *, expires_seconds: int) -> str:
        """Return a URL that accepts one ``PUT`` of ``key`` for ``expires_seconds``, with no required headers."""
        return self._factory().generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds, HttpMethod="PUT"
        )

    def presign_get(self, key: str, *, expires_seconds: int, download_name: str | None = None) -> str:
        params: dict[str, str] = {"Bucket": self._bucket, "Key": key}
        if download_name is not None:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        return self._factory().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_seconds)

    def head(self, key: str, *, version_id: str | None = None, etag: str | None = None) -> ObjectInfo:
        """Return the size, ETag and version of the object, or of one version of it.

        ``version_id`` selects a version, and ``etag`` (used only without ``version_id``) requires
        the current object to have that ETag. Raises ``ObjectNotFoundError`` when the object or the
        version does not exist, and ``ObjectChangedError`` when the ETag differs.
        """
        client = self._factory()
        try:
            reply = client.head_object(Bucket=self._bucket, Key=key, **_pin(version_id, etag))
        except client.exceptions.ClientError as error:
            raise _s3_error(error, f"reading the metadata of s3://{self._bucket}/{key}") from error
        return ObjectInfo(
            size=int(reply["ContentLength"]), etag=reply.get("ETag", "").strip('"'), version_id=reply.get("VersionId")
        )

    def read_head(self, key: str, size: int, *, version_id: str | None = None, etag: str | None = None) -> bytes:
        """Return the first ``size`` bytes of the object (fewer when it is shorter), pinned as ``head`` pins."""
        client = self._factory()
        try:
            reply = client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{size - 1}", **_pin(version_id, etag)
            )
        except client.exceptions.ClientError as error:
            if error_code(error) == "InvalidRange":
                return b""
            raise _s3_error(error, f"reading s3://{self._bucket}/{key}") from error
        return reply["Body"].read()

    def iter_chunks(
        self,
        key: str,
        *,
        version_id: str | None = None,
        etag: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        """Yield the object's bytes in chunks of at most ``chunk_size`` bytes, holding one chunk at a time.

        The read is pinned as ``head`` pins it: to ``version_id``, or else to an object with ``etag``.
        """
        client = self._factory()
        try:
            reply = client.get_object(Bucket=self._bucket, Key=key, **_pin(version_id, etag))
        except client.exceptions.ClientError as error:
            raise _s3_error(error, f"reading s3://{self._bucket}/{key}") from error
        body = reply["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    @contextlib.contextmanager
    def open_upload(
        self, key: str, *, content_type: str = "text/csv; charset=utf-8", part_size: int = DEFAULT_PART_SIZE
    ) -> Iterator[S3UploadStream]:
        """Yield a writable stream into ``key``; the object appears when the block ends without an error.

        An error inside the block aborts the multipart upload, so no partial object is left behind.
        """
        stream = S3UploadStream(self._factory, self._bucket, key, content_type=content_type, part_size=part_size)
        try:
            yield stream
        except BaseException:
            stream.abort()
            raise
        stream.close()


class S3UploadStream(io.RawIOBase):
    """A writable binary stream that uploads to S3 in parts of ``part_size`` bytes; ``close`` completes it."""

    def __init__(
        self, client_factory: S3ClientFactory, bucket: str, key: str, *, content_type: str, part_size: int
    ) -> None:
        super().__init__()
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size is {part_size} bytes; S3 needs parts of at least {MIN_PART_SIZE} bytes")
        self._factory = client_factory
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._aborted = False
        self.bytes_written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError(f"the upload of s3://{self._bucket}/{self._key} is closed; open a new upload to write")
        view = memoryview(data).cast("B")
        self._buffer += view
        self.bytes_written += len(view)
        while len(self._buffer) >= self._part_size:
            part = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            self._upload_part(part)
        return len(view)

    def close(self) -> None:
        """Send what is buffered and complete the object; an aborted stream only closes."""
        if self.closed:
            return
        try:
            if not self._aborted:
                self._finish()
        finally:
            super().close()

    def abort(self) -> None:
        """Abandon the upload: delete its parts and leave no object."""
        if self._aborted or self.closed:
            return
        self._aborted = True
        self._buffer.clear()
        if self._upload_id is not None:
            client = self._factory()
            with contextlib.suppress(client.exceptions.ClientError):
                client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
        super().close()

    def _finish(self) -> None:
        client = self._factory()
        operation = f"writing s3://{self._bucket}/{self._key}"
        try:
            if self._upload_id is None:
                client.put_object(
                    Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer), ContentType=self._content_type
                )
                return
            if self._buffer or not self._parts:
                self._upload_part(bytes(self._buffer))
            client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        except client.exceptions.ClientError as error:
            self.abort()
            raise _s3_error(error, operation) from error
        finally:
            self._buffer.clear()

    def _upload_part(self, part: bytes) -> None:
        client = self._factory()
        try:
            if self._upload_id is None:
                started = client.create_multipart_upload(
                    Bucket=self._bucket, Key=self._key, ContentType=self._content_type
                )
                self._upload_id = started["UploadId"]
            number = len(self._parts) + 1
            reply = client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
            )
        except client.exceptions.ClientError as error:
            raise _s3_error(error, f"uploading a part of s3://{self._bucket}/{self._key}") from error
        self._parts.append({"ETag": reply["ETag"], "PartNumber": number})


def _pin(version_id: str | None, etag: str | None) -> _Pin:
    if version_id is not None:
        return {"VersionId": version_id}
    if etag is not None:
        return {"IfMatch": f'"{etag}"'}
    return {}


def _s3_error(error: ClientError, operation: str) -> StorageError:
    code = error_code(error)
    if code in _NOT_FOUND_CODES:
        return ObjectNotFoundError(f"{operation} failed: the object or its version does not exist", code=code)
    if code in _CHANGED_CODES:
        return ObjectChangedError(f"{operation} failed: the object was replaced by a newer upload", code=code)
    return StorageError(f"{operation} failed with {code or 'an unknown error'}", code=code or "Unknown")
