"""Benchmark: bulk jobs on the local stack, and the ingest's speed and memory as the file grows.

1. End to end: a CSV of ``--rows`` rows (default 10,000) goes through ``POST /v1/jobs``, the pre-signed
   PUT, ingest, the workers and finalisation on the local stack, as ``cascade jobs submit --wait`` sends
   it. Each distinct row runs the real waterfall in moto's interpreter, a few rows per second on a
   2-core machine, so the file repeats ``--distinct`` people (default 1,000); repeated rows are
   de-duplicated and cost no waterfall.
   The job asks People Data Labs alone, one provider call per distinct row, so the bound that the
   provider's rate limit sets is its advertised requests per minute divided by 60, in rows per second.
   NOTE: the sandbox advertises that limit in its ``x-ratelimit-limit`` header but does not enforce it.
2. Ingest pipeline: a 20,000-row and a 200,000-row file of distinct people go through the ingest's own
   steps (format detection, header mapping, streaming records, row validation, de-duplication), each
   in a fresh subprocess. It prints rows per second and the growth of the subprocess's peak RSS
   (``resource.getrusage``), and their ratios. The AWS calls are left out (see ``_ingest_child``).
3. Results memory: a file of ``--results-mb`` MB (default 50) whose every row has a quoted cell with a
   line break, quotes and a formula goes through ``iter_records``, ``build_row`` and ``ResultsWriter``
   (into a sink that discards bytes) in a fresh subprocess with ``tracemalloc`` on. It prints the rows
   and the peak of traced allocations above what the imports left allocated.

``--rows``, ``--distinct``, ``--small``, ``--large`` and ``--results-mb`` change the sizes, and ``--parts``
picks the parts.
Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx

from infra.jobs_client import JobsClient, ProgressReporter, submit_file
from infra.local.stack import LocalStack
from infra.sandbox.directory import default_directory

PROVIDER = "peopledatalabs"
HEADER = ["First Name", "Last Name", "Company Domain"]
REGION = "us-east-1"


def _end_to_end(rows: int, distinct: int, concurrency: int) -> None:
    people = [person for person in default_directory().people if not person.company.catch_all][:distinct]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for index in range(rows):
        person = people[index % len(people)]
        writer.writerow([person.first_name, person.last_name, person.company.domain])

    with tempfile.TemporaryDirectory(prefix="cascade-bench-") as workdir:
        source = Path(workdir) / "contacts.csv"
        source.write_text(buffer.getvalue(), encoding="utf-8")
        with LocalStack(worker_concurrency=concurrency) as stack:
            stack.wait_until_healthy()
            limit_per_minute = _advertised_limit(stack.sandbox.url)
            _, api_key = stack.create_api_key(name="bench bulk")
            started = time.perf_counter()
            with JobsClient(stack.endpoints.api_url, api_key) as client:
                result = submit_file(
                    client,
                    source,
                    waterfall={"order": [PROVIDER]},
                    wait=True,
                    output=Path(workdir) / "results.csv",
                    progress=ProgressReporter(sys.stderr, interactive=False),
                    poll_seconds=0.5,
                )
            elapsed = time.perf_counter() - started

    job = result.job
    bound = limit_per_minute / 60
    waterfalls_per_second = len(people) / elapsed
    print(
        f"end to end: {rows} rows, {len(people)} distinct people, provider {PROVIDER}, worker concurrency {concurrency}"
    )
    print(
        f"  job {job['status']}: {job['matched']} matched, {job['not_found']} not found, billed ${job['billed_amount']}"
    )
    print(f"  {elapsed:.1f} s from POST /v1/jobs to the results file")
    print(f"  file rows per second        {rows / elapsed:8.1f}")
    print(f"  distinct rows per second    {waterfalls_per_second:8.2f}  (one waterfall each)")
    print(f"  provider bound              {bound:8.2f}  ({limit_per_minute} requests per minute advertised)")
    print(f"  distinct rows / bound       {waterfalls_per_second / bound:8.2f}")


def _advertised_limit(sandbox_url: str) -> int:
    """Return the requests per minute that the sandbox's People Data Labs advertises in ``x-ratelimit-limit``."""
    from infra.sandbox.keys import SANDBOX_CREDENTIALS  # noqa: PLC0415

    response = httpx.get(
        f"{sandbox_url}/{PROVIDER}/v5/person/enrich",
        params={"name": "Nobody Known", "company": "example.com"},
        headers={"X-Api-Key": SANDBOX_CREDENTIALS[PROVIDER]["api_key"]},
        timeout=10,
    )
    limits = json.loads(response.headers["x-ratelimit-limit"])
    return int(limits["minute"])


def _ingest(sizes: list[int]) -> None:
    figures: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="cascade-bench-") as workdir:
        for size in sizes:
            path = Path(workdir) / f"people-{size}.csv"
            path.write_bytes(_distinct_people_csv(size))
            figures.append(_ingest_once(path, size, dedupe=True))
            streaming = _ingest_once(path, size, dedupe=False)
            print(f"ingest pipeline: {size:>7} rows, without de-duplication: peak RSS growth {streaming[2]:7.1f} MB")
    for size, rate, growth_mb in figures:
        print(f"ingest pipeline: {size:>7} rows  {rate:8.0f} rows per second  peak RSS growth {growth_mb:7.1f} MB")
    (small, small_rate, small_mb), (large, large_rate, large_mb) = figures[0], figures[-1]
    print(f"ingest pipeline: {large / small:.0f}x the rows -> {large_mb / max(small_mb, 0.1):.2f}x the memory growth")
    print(f"ingest pipeline: rows per second {large_rate / small_rate:.2f}x")


def _ingest_once(path: Path, rows: int, *, dedupe: bool) -> tuple[int, float, float]:
    """Run the ingest's pipeline on ``path`` in a fresh subprocess and return rows, rows per second and MB."""
    arguments = [sys.executable, __file__, "--ingest-child", str(path)]
    if not dedupe:
        arguments.append("--child-without-dedupe")
    completed = subprocess.run(  # noqa: S603 - this script, run again as the measured child
        arguments,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the ingest subprocess failed:\n{completed.stderr[-3000:]}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    if figures["rows"] != rows:
        raise RuntimeError(f"the ingest pipeline read {figures['rows']} valid rows of {rows}: {figures}")
    return rows, rows / figures["seconds"], figures["rss_growth_kb"] / 1024


def _distinct_people_csv(rows: int) -> bytes:
    """Return a CSV of ``rows`` valid, distinct identities: the directory's first and last names and domains mixed."""
    people = default_directory().people
    first_names = sorted({person.first_name for person in people})
    last_names = sorted({person.last_name for person in people})
    domains = sorted({person.company.domain for person in people})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for index in range(rows):
        first = first_names[index % len(first_names)]
        last = last_names[(index // len(first_names)) % len(last_names)]
        domain = domains[(index // (len(first_names) * len(last_names))) % len(domains)]
        writer.writerow([first, last, domain])
    return buffer.getvalue().encode("utf-8")


def _ingest_child(csv_path: str, *, dedupe: bool) -> None:
    """Run the ingest's steps on a file read in 1 MiB chunks; print seconds, valid rows and RSS growth as JSON.

    The steps are those of ``cascade.bulk.ingest``: detect the format from the head, map the headers,
    stream the records, build and validate each row, and keep the first row of each identity for
    de-duplication. The S3 reads, SQS sends and DynamoDB writes are left out, because moto's SQS slows
    down as a queue grows and would measure moto instead of Cascade.
    """
    from cascade.bulk.csv_input import DETECT_BYTES, detect_format, iter_records  # noqa: PLC0415
    from cascade.bulk.headers import map_headers  # noqa: PLC0415
    from cascade.bulk.rows import RowError, build_row  # noqa: PLC0415
    from cascade.domain.models import RequestedField, WaterfallOverrides  # noqa: PLC0415

    path = Path(csv_path)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with path.open("rb") as handle:
        fmt = detect_format(handle.read(DETECT_BYTES))
    mapping = map_headers(fmt.header_row)
    first_rows: dict[str, int] = {}
    valid = 0
    with path.open("rb") as handle:
        chunks = iter(lambda: handle.read(1024 * 1024), b"")
        for record in iter_records(chunks, fmt, max_rows=None):
            built = build_row(
                record,
                mapping,
                fields=[RequestedField.EMAIL],
                waterfall=WaterfallOverrides(),
                max_age_days=None,
                default_country=None,
            )
            if isinstance(built, RowError):
                continue
            valid += 1
            if dedupe:
                first_rows.setdefault(built.dedupe_key, record.number)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rows": valid, "rss_growth_kb": peak - baseline}))


def _results_memory(megabytes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cascade-bench-") as workdir:
        path = Path(workdir) / "multiline.csv"
        _write_multiline_csv(path, megabytes * 1024 * 1024)
        completed = subprocess.run(  # noqa: S603 - this script, run again as the measured child
            [sys.executable, __file__, "--results-memory-child", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the results subprocess failed:\n{completed.stderr[-3000:]}")
        figures = json.loads(completed.stdout.strip().splitlines()[-1])
        size_mb = path.stat().st_size / 1024 / 1024
    print(
        f"results memory: {size_mb:.0f} MB file, {figures['rows']} rows with a multi-line quoted cell, "
        f"peak traced {figures['peak_bytes'] / 1024 / 1024:.1f} MB above the "
        f"{figures['baseline_bytes'] / 1024 / 1024:.1f} MB the imports left allocated, {figures['seconds']:.1f} s"
    )


def _write_multiline_csv(path: Path, size: int) -> None:
    """Write a UTF-8 CSV of about ``size`` bytes; each row's Notes cell spans two lines and contains quotes."""
    note = '"multi-line note, with a comma\r\nand ""quotes"" =1+2 ' + "n" * 120 + '"'
    with path.open("wb") as stream:
        stream.write(b"\xef\xbb\xbfFirst Name,Last Name,Company Domain,Email,Notes\r\n")
        written = 0
        number = 0
        while written < size:
            number += 1
            line = f"Person{number},Surname{number},company{number % 5000}.example,p{number}@example.com,{note}\r\n"
            data = line.encode()
            stream.write(data)
            written += len(data)


def _results_memory_child(csv_path: str) -> None:
    """Stream ``csv_path`` through the reader, row builder and results writer; print rows and peak bytes as JSON."""
    import tracemalloc  # noqa: PLC0415

    tracemalloc.start()
    from cascade.bulk.csv_input import DETECT_BYTES, detect_format, iter_records  # noqa: PLC0415
    from cascade.bulk.csv_output import ResultsWriter, RowResultCells  # noqa: PLC0415
    from cascade.bulk.headers import map_headers  # noqa: PLC0415
    from cascade.bulk.rows import RowError, build_row  # noqa: PLC0415
    from cascade.domain.models import RequestedField, WaterfallOverrides  # noqa: PLC0415

    path = Path(csv_path)
    with path.open("rb") as handle:
        fmt = detect_format(handle.read(DETECT_BYTES))
    mapping = map_headers(fmt.header_row)
    writer = ResultsWriter(_NullSink())  # type: ignore[arg-type]
    writer.write_header(list(fmt.header_row))
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    rows = 0
    with path.open("rb") as handle:
        chunks = iter(lambda: handle.read(256 * 1024), b"")
        for record in iter_records(chunks, fmt, max_rows=None):
            built = build_row(
                record,
                mapping,
                fields=[RequestedField.EMAIL],
                waterfall=WaterfallOverrides(),
                max_age_days=None,
                default_country=None,
            )
            status = "invalid_input" if isinstance(built, RowError) else "matched"
            writer.write_row(record.cells, RowResultCells(status=status))
            rows += 1
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - baseline
    print(json.dumps({"rows": rows, "peak_bytes": peak, "baseline_bytes": baseline, "seconds": seconds}))


class _NullSink:
    """A binary sink that discards what is written, so only the pipeline's own memory is measured."""

    def write(self, data: bytes) -> int:
        return len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the end-to-end job (default: 10000)")
    parser.add_argument("--distinct", type=int, default=1_000, help="distinct people among them (default: 1000)")
    parser.add_argument("--concurrency", type=int, default=5, help="worker concurrency (default: 5)")
    parser.add_argument("--small", type=int, default=20_000, help="rows of the small ingest file (default: 20000)")
    parser.add_argument("--large", type=int, default=200_000, help="rows of the large ingest file (default: 200000)")
    parser.add_argument(
        "--results-mb", type=int, default=50, help="size of the results-memory file, in MB (default: 50)"
    )
    parser.add_argument(
        "--parts",
        default="end-to-end,ingest,results-memory",
        help="comma-separated parts to run (default: end-to-end,ingest,results-memory)",
    )
    parser.add_argument("--ingest-child", metavar="CSV", help=argparse.SUPPRESS)
    parser.add_argument("--results-memory-child", metavar="CSV", help=argparse.SUPPRESS)
    parser.add_argument("--child-without-dedupe", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    if arguments.ingest_child:
        _ingest_child(arguments.ingest_child, dedupe=not arguments.child_without_dedupe)
        return
    if arguments.results_memory_child:
        _results_memory_child(arguments.results_memory_child)
        return
    parts = {part.strip() for part in arguments.parts.split(",")}
    if "end-to-end" in parts:
        _end_to_end(arguments.rows, arguments.distinct, arguments.concurrency)
    if "ingest" in parts:
        _ingest([arguments.small, arguments.large])
    if "results-memory" in parts:
        _results_memory(arguments.results_mb)


if __name__ == "__main__":
    main()
