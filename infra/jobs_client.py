"""An HTTP client for Cascade's bulk jobs, used by ``cascade jobs`` and ``make demo``.

``submit_file`` creates a job, PUTs the file to its pre-signed upload URL without reading it whole, and,
when asked to wait, polls the job while a ``ProgressReporter`` draws its progress, then downloads the
results and errors files.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

# Statuses after which a job changes no more, and the one in which it waits for the customer.
FINAL_STATUSES = frozenset({"completed", "failed", "canceled"})
ON_HOLD = "on_hold"
DEFAULT_POLL_SECONDS = 1.0
DEFAULT_TIMEOUT_SECONDS = 60.0
_UPLOAD_CHUNK_BYTES = 1024 * 1024
_DOWNLOAD_CHUNK_BYTES = 1024 * 1024
_BAR_WIDTH = 30
# A non-terminal stream gets a progress line when the progress moves by this fraction, or the status changes.
_PLAIN_STEP = 0.1


class JobsClientError(Exception):
    """A request to the API or to a pre-signed URL failed. The message names the request and the next step."""


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The job as last read, and where its files were written (``None`` when not downloaded)."""

    job: dict[str, Any]
    results_path: Path | None = None
    errors_path: Path | None = None


class JobsClient:
    """Calls ``/v1/jobs`` with an API key, and the pre-signed URLs that the API returns.

    ``transport`` replaces httpx's network transport, for tests.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_seconds,
            transport=transport,
        )
        # Pre-signed URLs carry their own signature, so they get no API key.
        self._files = httpx.Client(timeout=timeout_seconds, transport=transport, follow_redirects=False)

    def __enter__(self) -> JobsClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._api.close()
        self._files.close()

    def create_job(
        self,
        *,
        fields: Sequence[str] | None = None,
        webhook_url: str | None = None,
        file_name: str | None = None,
        country: str | None = None,
        waterfall: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a job and return the reply: the job, ``upload_url`` and ``webhook_secret``."""
        body: dict[str, Any] = {}
        if fields:
            body["fields"] = list(fields)
        if webhook_url:
            body["webhook_url"] = webhook_url
        if file_name:
            body["file_name"] = file_name
        if country:
            body["country"] = country
        if waterfall:
            body["waterfall"] = waterfall
        return self._call("POST", "/v1/jobs", json=body, expected=201)

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/jobs/{job_id}", expected=200)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/jobs/{job_id}/cancel", expected=200)

    def upload(self, upload_url: str, path: Path) -> None:
        """PUT the file at ``path`` to a pre-signed URL in chunks, with its length, as S3 requires."""
        size = path.stat().st_size
        with path.open("rb") as handle:
            try:
                response = self._files.put(
                    upload_url,
                    content=_chunks(handle.read, _UPLOAD_CHUNK_BYTES),
                    headers={"Content-Length": str(size)},
                )
            except httpx.HTTPError as error:
                raise JobsClientError(f"uploading {path} failed: {error}; check the network and run again") from error
        if response.status_code // 100 != 2:
            raise JobsClientError(
                f"uploading {path} failed with HTTP {response.status_code}: {response.text[:300]}; the upload URL "
                "may have expired, so create a new job"
            )

    def download(self, url: str, path: Path) -> int:
        """Stream a pre-signed GET URL to ``path`` and return the number of bytes written."""
        written = 0
        partial = path.with_name(f".{path.name}.part")
        try:
            with self._files.stream("GET", url) as response:
                if response.status_code != 200:
                    raise JobsClientError(
                        f"downloading {path.name} failed with HTTP {response.status_code}; the link may have "
                        "expired, so read the job again for a new one"
                    )
                with partial.open("wb") as handle:
                    for chunk in response.iter_bytes(_DOWNLOAD_CHUNK_BYTES):
                        handle.write(chunk)
                        written += len(chunk)
        except httpx.HTTPError as error:
            partial.unlink(missing_ok=True)
            raise JobsClientError(f"downloading {path.name} failed: {error}; run the command again") from error
        except JobsClientError:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)
        return written

    def wait(
        self,
        job_id: str,
        *,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Poll the job until it is completed, failed, canceled or on hold, and return it.

        Raises ``JobsClientError`` when ``timeout_seconds`` pass first.
        """
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            job = self.get_job(job_id)
            if on_update is not None:
                on_update(job)
            if job.get("status") in FINAL_STATUSES or job.get("status") == ON_HOLD:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise JobsClientError(
                    f"job {job_id} is still {job.get('status')} after {timeout_seconds:.0f} s; "
                    f"check it later with `cascade jobs status {job_id}`"
                )
            time.sleep(poll_seconds)

    def _call(self, method: str, path: str, *, expected: int, json: Any = None) -> dict[str, Any]:
        try:
            response = self._api.request(method, path, json=json)
        except httpx.HTTPError as error:
            raise JobsClientError(
                f"{method} {path} failed: {error}; check the API URL ({self._api.base_url}) and the network"
            ) from error
        if response.status_code != expected:
            raise JobsClientError(f"{method} {path} returned HTTP {response.status_code}: {_problem_detail(response)}")
        try:
            document = response.json()
        except ValueError as error:
            raise JobsClientError(f"{method} {path} returned a body that is not JSON") from error
        if not isinstance(document, dict):
            raise JobsClientError(f"{method} {path} returned JSON that is not an object")
        return document


class ProgressReporter:
    """Draws a job's progress on ``stream``: one line redrawn in place on a terminal, else a line per step."""

    def __init__(self, stream: TextIO | None = None, *, interactive: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interactive = self._stream.isatty() if interactive is None else interactive
        self._last_step = -1
        self._last_status: str | None = None
        self._drawn = False

    def update(self, job: dict[str, Any]) -> None:
        line = format_progress(job)
        status = str(job.get("status"))
        if self._interactive:
            self._stream.write(f"\r{line}\x1b[K")
            self._drawn = True
        else:
            step = int(float(job.get("progress") or 0) / _PLAIN_STEP)
            if step == self._last_step and status == self._last_status:
                return
            self._stream.write(f"{line}\n")
        self._last_step = int(float(job.get("progress") or 0) / _PLAIN_STEP)
        self._last_status = status
        self._stream.flush()

    def finish(self) -> None:
        """End the redrawn line, so later output starts on a line of its own."""
        if self._interactive and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


def format_progress(job: dict[str, Any]) -> str:
    """Render a job's progress as ``[#####-----]  50%  500/1000 rows  processing``."""
    progress = min(max(float(job.get("progress") or 0), 0.0), 1.0)
    filled = round(progress * _BAR_WIDTH)
    total = job.get("rows_total")
    rows = f"{job.get('rows_done', 0)}/{total if total is not None else '?'} rows"
    return f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {progress * 100:3.0f}%  {rows}  {job.get('status')}"


def default_output_paths(input_path: Path, output: Path | None) -> tuple[Path, Path]:
    """Return where the results and errors files go: ``<stem>.results.csv`` and ``<stem>.errors.csv``.

    With ``output``, the results go there and the errors next to it as ``<output stem>.errors.csv``.
    """
    if output is not None:
        return output, output.with_name(f"{output.stem}.errors.csv")
    stem = input_path.with_suffix("") if input_path.suffix else input_path
    return stem.with_name(f"{stem.name}.results.csv"), stem.with_name(f"{stem.name}.errors.csv")


def submit_file(
    client: JobsClient,
    path: Path,
    *,
    fields: Sequence[str] | None = None,
    webhook_url: str | None = None,
    country: str | None = None,
    waterfall: dict[str, Any] | None = None,
    wait: bool = False,
    output: Path | None = None,
    progress: ProgressReporter | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    timeout_seconds: float | None = None,
) -> SubmitResult:
    """Create a job for the file at ``path``, upload it and, with ``wait``, follow it and download its files.

    The files are downloaded when the job ends with a results file (completed, or canceled after some
    rows). Raises ``JobsClientError`` when a request fails.
    """
    if not path.is_file():
        raise JobsClientError(f"{path} is not a file; pass the path of a CSV file")
    created = client.create_job(
        fields=fields, webhook_url=webhook_url, file_name=path.name, country=country, waterfall=waterfall
    )
    client.upload(str(created["upload_url"]), path)
    job = {key: value for key, value in created.items() if key not in {"upload_url", "webhook_secret"}}
    if not wait:
        return SubmitResult(job=job)
    try:
        job = client.wait(
            str(created["id"]),
            on_update=progress.update if progress is not None else None,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
        )
    finally:
        if progress is not None:
            progress.finish()
    results_path, errors_path = default_output_paths(path, output)
    written_results = written_errors = None
    if job.get("results_url"):
        client.download(str(job["results_url"]), results_path)
        written_results = results_path
    if job.get("errors_url"):
        client.download(str(job["errors_url"]), errors_path)
        written_errors = errors_path
    return SubmitResult(job=job, results_path=written_results, errors_path=written_errors)


def _chunks(read: Callable[[int], bytes], size: int) -> Iterator[bytes]:
    while chunk := read(size):
        yield chunk


def _problem_detail(response: httpx.Response) -> str:
    try:
        document = response.json()
    except ValueError:
        return response.text[:300] or "(no body)"
    if isinstance(document, dict):
        return str(document.get("detail") or document.get("title") or document)
    return str(document)[:300]
