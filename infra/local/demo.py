"""Start the local stack as a user would, enrich sample people over HTTP and print what came back.

``python -m infra.local.demo`` (``make demo``) runs ``cascade local up --port 0 --ready-file <tmp>``
as a subprocess, waits for the ready file, and then, with the test API key from it:

1. enriches four people of the sandbox directory, chosen the same way on every run. They are one
   whom the first provider of the default order covers, one whom only a later provider covers, a fictional
   person at a real directory company whom no provider covers, and one whose email and phone are
   both requested;
2. prints for each the status, the email and its verdict, the phone and its line type, the
   company's registry match, every provider tried with its outcome and latency, and what was billed;
3. prints ``GET /v1/usage`` for the current month and checks it against the billed amounts;
4. creates a second test key and submits the demo CRM export (``infra/local/data/hubspot_contacts_export.csv``,
   2,981 records) as a bulk job, through the same client code as ``cascade jobs submit --wait``. It draws
   the job's progress, downloads the results and errors files, and prints the rows, matches, misses,
   errors, match rate and amount billed. The whole file takes 10 to 15 minutes on a 2-core machine;
   ``--job-rows N`` submits only the first N records;
5. prints the month's billing export (``GET /v1/usage/export?format=csv``) of the first key;
6. stops the stack with SIGINT and waits for it to exit.

It exits with 1 when a request fails, a result differs from what the directory predicts, the usage
does not add up, the job does not complete, or the stack does not start or stop cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from cascade.providers.registry import DEFAULT_ORDER
from infra.jobs_client import JobsClient, JobsClientError, ProgressReporter, submit_file
from infra.sandbox.directory import PROVIDERS, Directory, SandboxPerson, default_directory

READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30
# A synchronous enrichment ends by its ~25 s deadline, and the rest is margin.
REQUEST_TIMEOUT_SECONDS = 60
# Providers at these first positions of the default order must not cover the "later provider" person.
_EARLY_PROVIDERS = 3
# Candidates for the person whom no provider covers, tried in order until one is absent from the directory.
_FICTIONAL_NAMES = (("Imogen", "Quarrington"), ("Tobias", "Wrenfield"), ("Ottilie", "Brackenbury"))
_FICTIONAL_COMPANY_DOMAIN = "tesco.com"
_STDERR_TAIL_LINES = 40
DEMO_EXPORT = Path(__file__).resolve().parent / "data" / "hubspot_contacts_export.csv"
_POLL_SECONDS = 0.1


class DemoError(Exception):
    """The demo cannot go on: the stack did not start, or a request could not be sent."""


@dataclass(frozen=True, slots=True)
class DemoCase:
    """One person to enrich, with the values that the sandbox directory predicts for the reply."""

    title: str
    request: dict[str, Any]
    expected_status: str
    expected_email: str | None = None
    expected_email_provider: str | None = None
    expected_phone: str | None = None


def choose_cases(directory: Directory, order: Sequence[str]) -> list[DemoCase]:
    """Choose the demo's people from ``directory`` for the provider ``order``.

    The same input gives the same people.

    Raises ``DemoError`` when the directory has no person of one of the kinds.
    """
    finders = [name for name in order if name in PROVIDERS]
    candidates = [person for person in directory.people if _plain_valid_email(person)]

    def email_finders(person: SandboxPerson) -> list[str]:
        return [name for name in finders if directory.knows(name, person, "email")]

    def phone_finders(person: SandboxPerson) -> list[str]:
        return [name for name in finders if directory.knows(name, person, "phone")]

    first = _first(
        candidates, lambda person: email_finders(person)[:1] == finders[:1], "whose email the first provider returns"
    )
    later = _first(
        candidates,
        lambda person: bool(email_finders(person)) and finders.index(email_finders(person)[0]) >= _EARLY_PROVIDERS,
        f"whose email only providers after the first {_EARLY_PROVIDERS} return",
    )
    chosen = {first.id, later.id}
    both = _first(
        candidates,
        lambda person: (
            person.id not in chosen
            and person.phone_line_type == "mobile"
            and bool(email_finders(person))
            and bool(phone_finders(person))
        ),
        "whose email and mobile phone some providers return",
    )
    fictional = next(
        (name for name in _FICTIONAL_NAMES if directory.match_name(*name, domain=_FICTIONAL_COMPANY_DOMAIN) is None),
        None,
    )
    if fictional is None:
        raise DemoError(f"every fictional name of the demo exists at {_FICTIONAL_COMPANY_DOMAIN} in the directory")

    later_finder = email_finders(later)[0]
    return [
        DemoCase(
            title=f"Found by the first provider ({finders[0]} returns the email)",
            request=_request(first),
            expected_status="matched",
            expected_email=first.email,
            expected_email_provider=finders[0],
        ),
        DemoCase(
            title=f"Found only by a later provider ({later_finder}, position {finders.index(later_finder) + 1})",
            request=_request(later),
            expected_status="matched",
            expected_email=later.email,
            expected_email_provider=later_finder,
        ),
        DemoCase(
            title=f"Not found (a fictional person at {_FICTIONAL_COMPANY_DOMAIN})",
            request={
                "first_name": fictional[0],
                "last_name": fictional[1],
                "company_domain": _FICTIONAL_COMPANY_DOMAIN,
            },
            expected_status="not_found",
        ),
        DemoCase(
            title="Email and phone requested",
            request=_request(both, fields=["email", "phone"]),
            expected_status="matched",
            expected_email=both.email,
            expected_phone=both.phone_e164,
        ),
    ]


def check_result(case: DemoCase, status_code: int, result: Any) -> list[str]:
    """Return the differences between a reply and what ``case`` expects, or an empty list when the reply is right."""
    if status_code != 200:
        return [f"HTTP {status_code} instead of 200"]
    if not isinstance(result, dict):
        return ["the reply is not a JSON object"]
    problems: list[str] = []
    if result.get("status") != case.expected_status:
        problems.append(f"status {result.get('status')!r} instead of {case.expected_status!r}")
    email = result.get("email") or {}
    if case.expected_email is not None and str(email.get("address", "")).lower() != case.expected_email.lower():
        problems.append(f"email {email.get('address')!r} instead of {case.expected_email!r}")
    if case.expected_email_provider is not None and email.get("provider") != case.expected_email_provider:
        problems.append(f"email provider {email.get('provider')!r} instead of {case.expected_email_provider!r}")
    phone = result.get("phone") or {}
    if case.expected_phone is not None and phone.get("e164") != case.expected_phone:
        problems.append(f"phone {phone.get('e164')!r} instead of {case.expected_phone!r}")
    if case.expected_status == "not_found" and (result.get("billing") or {}).get("amount") != "0.00":
        problems.append("a not_found result was billed")
    return problems


def format_result(case: DemoCase, status_code: int, result: Any) -> str:
    """Render one reply as a few aligned lines for a terminal."""
    person = case.request
    name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
    lines = [
        f"{case.title}",
        f"  person    {name} at {person.get('company_domain')}, fields {person.get('fields', ['email'])}",
    ]
    if not isinstance(result, dict) or status_code != 200:
        detail = result.get("detail") if isinstance(result, dict) else result
        lines.append(f"  HTTP {status_code}: {detail}")
        return "\n".join(lines)

    lines.append(f"  result    HTTP {status_code}, status {result.get('status')}, id {result.get('id')}")
    email = result.get("email")
    if email:
        flags = ", ".join(email.get("flags") or []) or "no flags"
        lines.append(
            f"  email     {email.get('address')}  verdict {email.get('verdict')} ({flags}), "
            f"from {email.get('provider')}, confidence {email.get('confidence')}"
        )
    else:
        lines.append("  email     none")

    phone = result.get("phone")
    if phone:
        lines.append(
            f"  phone     {phone.get('e164')}  line type {phone.get('line_type')}, verdict {phone.get('verdict')}, "
            f"from {phone.get('provider')}"
        )
    elif "phone" in person.get("fields", []):
        lines.append("  phone     none")

    lines.append(format_company(result.get("company")))
    lines.append("  tried     provider         outcome            latency")
    for attempt in result.get("attempts") or []:
        lines.append(
            f"            {attempt.get('provider', ''):<16} {attempt.get('outcome', ''):<18} "
            f"{attempt.get('latency_ms', 0):>5} ms"
        )

    billing = result.get("billing") or {}
    charged = "; ".join(
        f"{line.get('field')} {line.get('amount')} ({line.get('provider')}, {line.get('verdict')})"
        for line in billing.get("lines") or []
    )
    summary = f"  = {charged}" if charged else "  (nothing verified)"
    lines.append(f"  billed    ${billing.get('amount')}{summary}")
    return "\n".join(lines)


def format_company(company: Any) -> str:
    """Render the company block as one line: the registry match, legal name, identifiers and status."""
    if not isinstance(company, dict):
        return "  company   none"
    registry = company.get("registry")
    if company.get("match") != "resolved" or not isinstance(registry, dict):
        return f"  company   {company.get('name') or company.get('domain')}: registry match {company.get('match')}"
    identifiers = ", ".join(f"{name} {value}" for name, value in (registry.get("identifiers") or {}).items() if value)
    legal_name = (registry.get("legal_name") or {}).get("value")
    status = (registry.get("status") or {}).get("value")
    return f"  company   {legal_name} ({identifiers}), {status}"


def format_usage(usage: dict[str, Any]) -> str:
    """Render a ``GET /v1/usage`` reply as a small table."""
    lines = [f"Usage for {usage.get('month')} (GET /v1/usage)", "  field    count    amount"]
    for field, totals in (usage.get("totals") or {}).items():
        lines.append(f"  {field:<8} {totals.get('count', 0):>5}  ${totals.get('amount')}")
    lines.append(f"  total           ${usage.get('amount')}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m infra.local.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--job-rows",
        type=_positive_int,
        default=None,
        metavar="N",
        help="submit only the first N records of the demo CRM export as the bulk job (default: all of them)",
    )
    job_rows: int | None = parser.parse_args(argv).job_rows
    with tempfile.TemporaryDirectory(prefix="cascade-demo-") as workdir:
        ready_file = Path(workdir) / "ready.json"
        stdout_path = Path(workdir) / "stack.out"
        stderr_path = Path(workdir) / "stack.err"
        command = [*_cascade_command(), "local", "up", "--port", "0", "--ready-file", str(ready_file)]
        print(f"Starting the local stack: {' '.join(command)}", flush=True)
        started = time.monotonic()
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr)  # noqa: S603 - our own entry point
            try:
                facts = _wait_for_ready(process, ready_file, stderr_path)
                print(f"Stack ready after {time.monotonic() - started:.1f} s at {facts['api_url']}\n", flush=True)
                failures = _run_cases(facts)
                failures += _run_bulk_job(facts, Path(workdir), job_rows)
                failures += _print_usage_export(facts)
            except DemoError as error:
                print(f"demo failed: {error}", file=sys.stderr)
                failures = 1
            finally:
                stopped_cleanly = _stop(process)
        if not stopped_cleanly:
            print(_tail(stderr_path), file=sys.stderr)
            failures += 1
    if failures:
        print(f"\nThe demo found {failures} problem(s).", file=sys.stderr)
        return 1
    print("\nEvery result matched what the sandbox directory predicts.")
    return 0


def _run_cases(facts: dict[str, str]) -> int:
    """Enrich every demo person, print the month's usage and return the number of problems found."""
    headers = {"Authorization": f"Bearer {facts['api_key']}"}
    with httpx.Client(base_url=facts["api_url"], headers=headers, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        failures, billed = _enrich_people(client, choose_cases(default_directory(), DEFAULT_ORDER))
        return failures + _check_usage(client, billed)


def _enrich_people(client: httpx.Client, cases: Sequence[DemoCase]) -> tuple[int, Decimal]:
    """Enrich each case, print its reply and return the number of problems and the amount billed."""
    failures = 0
    billed = Decimal("0.00")
    for number, case in enumerate(cases, start=1):
        started = time.monotonic()
        try:
            response = client.post("/v1/people/enrich", json=case.request)
        except httpx.HTTPError as error:
            raise DemoError(f"POST /v1/people/enrich failed: {error}") from error
        elapsed_ms = (time.monotonic() - started) * 1000
        result = _json(response)
        print(f"{number}. {format_result(case, response.status_code, result)}")
        print(f"  took      {elapsed_ms:.0f} ms over HTTP")

        problems = check_result(case, response.status_code, result)
        for problem in problems:
            print(f"  PROBLEM   {problem}")
        failures += len(problems)
        if isinstance(result, dict) and response.status_code == 200:
            billed += Decimal(str((result.get("billing") or {}).get("amount", "0")))
        print()
    return failures, billed


def _check_usage(client: httpx.Client, billed: Decimal) -> int:
    """Print this month's usage and return 1 when it differs from ``billed``, else 0."""
    month = datetime.now(UTC).strftime("%Y-%m")
    try:
        response = client.get("/v1/usage", params={"month": month})
    except httpx.HTTPError as error:
        raise DemoError(f"GET /v1/usage failed: {error}") from error
    usage = _json(response)
    if response.status_code != 200 or not isinstance(usage, dict):
        print(f"PROBLEM   GET /v1/usage returned HTTP {response.status_code}: {usage}")
        return 1

    print(format_usage(usage))
    # NOTE: a run that spans midnight UTC at the end of a month bills into two months, so this check
    # then reports a difference.
    if Decimal(str(usage.get("amount"))) != billed:
        print(f"PROBLEM   usage shows ${usage.get('amount')}, but the replies above billed ${billed}")
        return 1
    print(f"  The replies above billed ${billed}, the same as the usage total.")
    return 0


def _print_usage_export(facts: dict[str, str]) -> int:
    """Print the month's billing export (CSV) of the demo key; return 1 when it cannot be fetched, else 0."""
    month = datetime.now(UTC).strftime("%Y-%m")
    headers = {"Authorization": f"Bearer {facts['api_key']}"}
    with httpx.Client(base_url=facts["api_url"], headers=headers, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        try:
            response = client.get("/v1/usage/export", params={"month": month, "format": "csv"})
        except httpx.HTTPError as error:
            raise DemoError(f"GET /v1/usage/export failed: {error}") from error
    if response.status_code != 200:
        print(f"PROBLEM   GET /v1/usage/export returned HTTP {response.status_code}: {response.text}")
        return 1
    print(f"\nBilling export for {month} (GET /v1/usage/export?format=csv), demo key:")
    print(response.text.rstrip())
    return 0


def _run_bulk_job(facts: dict[str, str], workdir: Path, job_rows: int | None) -> int:
    """Submit the demo CRM export, or its first ``job_rows`` records, as a job with a new test key.

    Returns the number of problems found.
    """
    api_key = _create_test_key(facts["aws_endpoint_url"])
    source = workdir / DEMO_EXPORT.name
    records = head_records(DEMO_EXPORT, source, job_rows)
    scope = "every record" if job_rows is None or records < job_rows else f"the first {records} records"
    print(f"\nBulk job: {scope} of {DEMO_EXPORT.name} ({records} rows)", flush=True)
    started = time.monotonic()
    try:
        with JobsClient(facts["api_url"], api_key, timeout_seconds=REQUEST_TIMEOUT_SECONDS) as client:
            result = submit_file(
                client,
                source,
                fields=["email"],
                wait=True,
                output=workdir / "results.csv",
                progress=ProgressReporter(sys.stderr),
                poll_seconds=0.5,
            )
    except JobsClientError as error:
        print(f"PROBLEM   the bulk job failed: {error}")
        return 1

    elapsed = time.monotonic() - started
    print(format_job_summary(result.job, elapsed_seconds=elapsed))
    if result.results_path is not None:
        print(_results_preview(result.results_path))

    problems = 0
    if result.job.get("status") != "completed":
        print(f"PROBLEM   the job ended {result.job.get('status')}: {result.job.get('error')}")
        problems += 1
    if result.job.get("rows_total") != records:
        print(f"PROBLEM   the job counted {result.job.get('rows_total')} rows, the file has {records}")
        problems += 1
    return problems


def head_records(source: Path, target: Path, count: int | None) -> int:
    """Copy the header and the first ``count`` CSV records (all with ``None``) of ``source`` to ``target``.

    The bytes are copied as they are. A record may span several lines (a quoted note with line breaks), so
    records are counted with the csv module while the raw lines are copied. Returns the number of records copied.
    """
    import csv  # noqa: PLC0415

    copied: list[str] = []
    pending: list[str] = []

    def tracked(lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            pending.append(line)
            yield line

    records = 0
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(tracked(handle))
        for number, _ in enumerate(reader):
            # Record 0 is the header row.
            if count is not None and number > count:
                break
            copied.extend(pending)
            pending.clear()
            records = number
    with target.open("w", encoding="utf-8", newline="") as out:
        out.writelines(copied)
    return records


def format_job_summary(job: dict[str, Any], *, elapsed_seconds: float) -> str:
    """Render a finished job as a few aligned lines: rows, matched, not found, errors, match rate and billed."""
    total = int(job.get("rows_total") or 0)
    matched = int(job.get("matched") or 0)
    rate = f"{matched / total:.0%}" if total else "n/a"
    return "\n".join(
        [
            f"  job       {job.get('id')}  status {job.get('status')}  in {elapsed_seconds:.1f} s",
            f"  rows      {total}",
            f"  matched   {matched}",
            f"  not found {job.get('not_found', 0)}",
            f"  errors    {job.get('errors', 0)}  (rows that identify nobody, or failed)",
            f"  match     {rate} of rows",
            f"  billed    ${job.get('billed_amount')}",
        ]
    )


def _results_preview(path: Path, rows: int = 3) -> str:
    """Return the first result rows' status, email, email verdict and billed columns, to show the file."""
    import csv  # noqa: PLC0415

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        lines = [f"  results   {path.name}, first rows:"]
        for _, row in zip(range(rows), reader, strict=False):
            name = f"{row.get('First Name', '')} {row.get('Last Name', '')}".strip()
            lines.append(
                f"            {name:<24} {row.get('cascade_status', ''):<14} {row.get('cascade_email', '') or '-':<40} "
                f"{row.get('cascade_email_verdict', '') or '-':<11} ${row.get('cascade_billed', '')}"
            )
    return "\n".join(lines)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid row count {text!r}; pass a whole number of 1 or more")
    return value


def _create_test_key(endpoint_url: str) -> str:
    """Create a test API key in the stack's keys table with ``cascade keys create`` and return it."""
    from infra.cli import main as cli_main  # noqa: PLC0415

    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = cli_main(
            ["keys", "create", "--mode", "test", "--name", "demo bulk job", "--endpoint-url", endpoint_url, "--json"]
        )
    if code != 0:
        raise DemoError(f"cascade keys create exited with code {code}")
    api_key: str = json.loads(output.getvalue())["api_key"]
    return api_key


def _wait_for_ready(process: subprocess.Popen[bytes], ready_file: Path, stderr_path: Path) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if ready_file.exists():
            facts: dict[str, str] = json.loads(ready_file.read_text(encoding="utf-8"))
            return facts
        if process.poll() is not None:
            raise DemoError(
                f"cascade local up exited with code {process.returncode} before it was ready:\n{_tail(stderr_path)}"
            )
        time.sleep(_POLL_SECONDS)
    raise DemoError(f"cascade local up was not ready after {READY_TIMEOUT_SECONDS} s:\n{_tail(stderr_path)}")


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """Stop the stack with SIGINT, as Ctrl-C would, and return whether it exited with code 0 in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"the stack did not stop within {STOP_TIMEOUT_SECONDS} s of SIGINT; killing it", file=sys.stderr)
        process.kill()
        process.wait()
        return False
    if code != 0:
        print(f"the stack exited with code {code} after SIGINT", file=sys.stderr)
        return False
    print("Local stack stopped.")
    return True


def _cascade_command() -> list[str]:
    """Return the ``cascade`` entry point installed next to this Python, or the CLI module when it is missing."""
    script = Path(sys.executable).with_name("cascade")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "infra.cli"]


def _request(person: SandboxPerson, *, fields: list[str] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "company_domain": person.company.domain,
    }
    if fields is not None:
        request["fields"] = fields
    return request


def _plain_valid_email(person: SandboxPerson) -> bool:
    """Return whether ``person`` has a current, verifiable address at a real company and no earlier employer."""
    return (
        person.email_status == "valid"
        and person.previous_company is None
        and not person.company.synthetic
        and not person.company.catch_all
    )


def _first(people: Sequence[SandboxPerson], accept: Callable[[SandboxPerson], bool], description: str) -> SandboxPerson:
    for person in people:
        if accept(person):
            return person
    raise DemoError(f"the sandbox directory has no person {description}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _tail(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-_STDERR_TAIL_LINES:]) or "(the stack wrote nothing to standard error)"


if __name__ == "__main__":
    sys.exit(main())
