"""The ``cascade`` command line.

``cascade sandbox`` serves every provider's wire protocol on loopback until Ctrl-C.
``cascade keys create|list|revoke|update`` manages API keys in the API keys table, on AWS or on the
local stack's moto server (``--endpoint-url`` or ``AWS_ENDPOINT_URL``).
``cascade usage export|reconcile`` exports and reconciles a month's usage on the same tables.
``cascade local up`` runs the whole service on 127.0.0.1 with no AWS account until Ctrl-C.
``cascade jobs submit|status`` sends a CSV file as a bulk job over the HTTP API and follows it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import FrameType
from typing import TYPE_CHECKING, Any

from infra import billing_cli

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from cascade.domain.keys import ApiKey
    from cascade.storage.keys import ApiKeyRepository
    from infra.jobs_client import JobsClient

# The region used with an explicit endpoint when none is configured: moto and DynamoDB Local accept any region.
_LOCAL_REGION = "us-east-1"
_KEY_ID = re.compile(r"key_[0-9a-f]{16}")
_EXIT_FAILED = 1
_EXIT_USAGE = 2
# `cascade jobs submit --wait` ends with this code when the job stopped without completing: canceled or on hold.
_EXIT_NOT_COMPLETED = 3
_JOB_ID = re.compile(r"job_[0-9a-f]{26}")


def _run_sandbox(arguments: argparse.Namespace) -> int:
    from infra.sandbox.app import start_sandbox  # noqa: PLC0415 - loaded only for this command

    sandbox = start_sandbox(port=arguments.port, seed=arguments.seed)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"received signal {signum}, stopping the sandbox", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"provider sandbox listening on {sandbox.url} (vendors under {sandbox.url}/<provider>)", flush=True)
    try:
        # Python runs signal handlers on the main thread between bytecodes, and an untimed wait may never
        # return to the interpreter, so the main thread wakes up regularly.
        while not stop.wait(0.2):
            pass
    finally:
        sandbox.stop()
    return 0


@dataclass(frozen=True, slots=True)
class _KeysTarget:
    """The API keys table that a ``cascade keys`` command works on, and how to reach it."""

    repository: ApiKeyRepository
    client: DynamoDBClient
    table: str

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)


def _run_keys(arguments: argparse.Namespace) -> int:
    from botocore.exceptions import (  # noqa: PLC0415 - boto3 loads only for the keys commands
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )
    from pydantic import ValidationError  # noqa: PLC0415

    from cascade.storage.dynamo import StorageError, TableNotFoundError  # noqa: PLC0415
    from cascade.storage.keys import KeyNotFoundError  # noqa: PLC0415

    try:
        target = _keys_target(arguments)
    except ValidationError as error:
        return _fail(f"invalid CASCADE_* settings: {_validation_text(error)}", code=_EXIT_USAGE)
    except NoRegionError:
        return _fail("no AWS region is set; set AWS_REGION or pass --region", code=_EXIT_USAGE)
    action: Callable[[argparse.Namespace, _KeysTarget], int] = arguments.keys_action
    try:
        return action(arguments, target)
    except KeyNotFoundError as error:
        return _fail(
            f"no API key has id {error.key_id!r} in table {target.table} at {target.endpoint}; "
            "`cascade keys list` shows the key ids"
        )
    except TableNotFoundError:
        return _fail(
            f"table {target.table!r} does not exist at {target.endpoint}; create the tables first, "
            "or name the table with --table or CASCADE_API_KEYS_TABLE"
        )
    except StorageError as error:
        return _fail(f"{error} (table {target.table} at {target.endpoint})")
    except (EndpointConnectionError, ConnectTimeoutError):
        return _fail(
            f"could not connect to DynamoDB at {target.endpoint}; start the local stack, "
            "or pass the right --endpoint-url (or AWS_ENDPOINT_URL)"
        )
    except ReadTimeoutError:
        return _fail(f"DynamoDB at {target.endpoint} did not answer in time; run the command again")
    except NoCredentialsError:
        return _fail(
            "no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(any values work against the local stack)"
        )


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit  # noqa: PLC0415

    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def _keys_target(arguments: argparse.Namespace) -> _KeysTarget:
    from cascade.settings import get_settings  # noqa: PLC0415
    from cascade.storage.dynamo import client_factory  # noqa: PLC0415
    from cascade.storage.keys import ApiKeyRepository  # noqa: PLC0415

    endpoint_url: str | None = (
        arguments.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    )
    region: str | None = arguments.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region is None and endpoint_url is not None:
        region = _LOCAL_REGION
    if endpoint_url is not None and _is_loopback(endpoint_url):
        # The local stack accepts any credentials, and nothing on loopback needs the instance-metadata
        # credential lookup, which would otherwise be tried when no credentials are set.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        if not os.environ.get("AWS_PROFILE"):
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    table: str = arguments.table or get_settings().api_keys_table
    # Built now, so that a missing region is reported before any work and the endpoint can be named in errors.
    client = client_factory(region_name=region, endpoint_url=endpoint_url)()
    return _KeysTarget(repository=ApiKeyRepository(client, table=table), client=client, table=table)


def _keys_create(arguments: argparse.Namespace, target: _KeysTarget) -> int:
    import secrets  # noqa: PLC0415

    from pydantic import ValidationError  # noqa: PLC0415

    from cascade.domain.keys import KeyMode  # noqa: PLC0415
    from cascade.domain.plans import KeyPlan  # noqa: PLC0415
    from cascade.settings import get_settings  # noqa: PLC0415

    account_id: str = arguments.account or f"acct_{secrets.token_hex(8)}"
    email_price: Decimal | None = arguments.email_price
    phone_price: Decimal | None = arguments.phone_price
    if email_price is None or phone_price is None:
        settings = get_settings()
        email_price = settings.email_price if email_price is None else email_price
        phone_price = settings.phone_price if phone_price is None else phone_price
    plan = KeyPlan(email_price=email_price, phone_price=phone_price, monthly_cap=arguments.monthly_cap)
    try:
        key, plaintext = target.repository.create(
            account_id, KeyMode(arguments.mode), plan, arguments.name, now=datetime.now(UTC)
        )
    except ValidationError as error:
        return _fail(f"invalid key: {_validation_text(error)}", code=_EXIT_USAGE)

    if arguments.json:
        document = {"key_id": key.key_id, "api_key": plaintext, "account_id": key.account_id, "mode": key.mode.value}
        print(json.dumps(document))
        return 0
    label = f" ({key.name})" if key.name else ""
    print(f"Created {key.mode.value} API key {key.key_id}{label} for account {key.account_id}.")
    print(f"Prices: {plan.email_price} per verified email, {plan.phone_price} per verified phone.")
    print()
    print(f"    {plaintext}")
    print()
    print("This key will not be shown again: store it now, for example in a secrets manager.")
    return 0


def _keys_list(arguments: argparse.Namespace, target: _KeysTarget) -> int:
    keys = target.repository.list(arguments.account)
    if arguments.json:
        print(json.dumps([key.model_dump(mode="json") for key in keys], indent=2))
        return 0
    if not keys:
        scope = f"account {arguments.account}" if arguments.account else "any account"
        print(f"No API keys for {scope} in table {target.table}.")
        return 0
    print(_key_table(keys))
    return 0


def _key_table(keys: Sequence[ApiKey]) -> str:
    header = ("KEY ID", "ACCOUNT", "MODE", "STATUS", "PREFIX", "CREATED (UTC)", "NAME")
    rows = [header]
    for key in keys:
        created = key.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        # The ellipsis marks the prefix as the start of a longer key, never the key itself.
        rows.append(
            (key.key_id, key.account_id, key.mode.value, key.status.value, f"{key.prefix}...", created, key.name or "")
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _keys_revoke(arguments: argparse.Namespace, target: _KeysTarget) -> int:
    from cascade.api.authorizer import KEY_CACHE_SECONDS  # noqa: PLC0415 - loaded only for this command

    now = datetime.now(UTC)
    key = target.repository.revoke(arguments.key_id, now)
    assert key.revoked_at is not None  # noqa: S101 - revoke() returns a revoked key
    revoked_at = key.revoked_at.astimezone(UTC).isoformat(timespec="seconds")
    if key.revoked_at != now:
        print(f"API key {key.key_id} of account {key.account_id} was already revoked at {revoked_at}; nothing changed.")
        return 0
    print(f"Revoked API key {key.key_id} of account {key.account_id} at {revoked_at}.")
    print(
        f"The authorizer caches key lookups, so requests with this key can pass for up to "
        f"{KEY_CACHE_SECONDS:.0f} more seconds."
    )
    return 0


def _fail(message: str, *, code: int = _EXIT_FAILED) -> int:
    print(f"cascade keys: error: {message}", file=sys.stderr)
    return code


def _validation_text(error: Exception) -> str:
    from pydantic import ValidationError  # noqa: PLC0415

    from cascade.domain.errors import field_errors  # noqa: PLC0415

    if not isinstance(error, ValidationError):
        return str(error)
    return "; ".join(f"{item.field}: {item.message}" for item in field_errors(error))


def _price(text: str) -> Decimal:
    from cascade.domain.money import parse_amount  # noqa: PLC0415

    try:
        return parse_amount(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _account(text: str) -> str:
    from cascade.domain.keys import validate_account_id  # noqa: PLC0415

    try:
        return validate_account_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _key_id(text: str) -> str:
    if not _KEY_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a key id; key ids are key_ and 16 hex digits")
    return text


def _add_keys_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--endpoint-url",
        help="DynamoDB endpoint URL, such as the local stack's moto server "
        "(default: $AWS_ENDPOINT_URL, else the AWS endpoint of the region)",
    )
    connection.add_argument(
        "--region",
        help=f"AWS region (default: $AWS_REGION or $AWS_DEFAULT_REGION, else {_LOCAL_REGION} with an endpoint URL)",
    )
    connection.add_argument("--table", help="API keys table (default: $CASCADE_API_KEYS_TABLE, else cascade-api-keys)")

    keys = commands.add_parser("keys", help="create, list, revoke and update API keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)

    create = actions.add_parser(
        "create", parents=[connection], help="create an API key and print it once", description="Create an API key."
    )
    create.add_argument(
        "--account", type=_account, help="account that owns the key (default: a new account id acct_<16 hex>)"
    )
    create.add_argument(
        "--mode",
        choices=["live", "test"],
        default="live",
        help="live for customer keys, test for trying Cascade; a test key reaches the provider sandbox where "
        "CASCADE_SANDBOX_URL is set, as on the local stack (default: live)",
    )
    create.add_argument("--name", help="label shown in listings, such as 'CRM sync' (at most 100 characters)")
    create.add_argument(
        "--email-price",
        type=_price,
        help="USD per verified email, such as 0.20 (default: $CASCADE_EMAIL_PRICE, else 0.20)",
    )
    create.add_argument(
        "--phone-price",
        type=_price,
        help="USD per verified phone, such as 0.30 (default: $CASCADE_PHONE_PRICE, else 0.30)",
    )
    create.add_argument(
        "--monthly-cap",
        type=billing_cli.monthly_cap,
        metavar="AMOUNT|none",
        help="maximum USD billed per UTC calendar month, such as 500.00 (default: none, no cap)",
    )
    create.add_argument("--json", action="store_true", help="print key_id, api_key, account_id and mode as JSON")
    create.set_defaults(run=_run_keys, keys_action=_keys_create)

    listing = actions.add_parser(
        "list", parents=[connection], help="list API keys by prefix; keys are never shown", description="List API keys."
    )
    listing.add_argument("--account", type=_account, help="list only this account's keys (default: every account)")
    listing.add_argument("--json", action="store_true", help="print the keys as a JSON array")
    listing.set_defaults(run=_run_keys, keys_action=_keys_list)

    revoke = actions.add_parser(
        "revoke", parents=[connection], help="revoke an API key by its id", description="Revoke an API key."
    )
    revoke.add_argument("key_id", metavar="KEY_ID", type=_key_id, help="id of the key, such as key_0123456789abcdef")
    revoke.set_defaults(run=_run_keys, keys_action=_keys_revoke)

    billing_cli.add_keys_update_parser(actions, connection, run=_run_keys, key_id=_key_id)
    billing_cli.add_usage_parser(commands, connection)


_LOCAL_SIGNAL_POLL_SECONDS = 0.2


def _run_local_up(arguments: argparse.Namespace) -> int:
    import time  # noqa: PLC0415 - loaded only for this command

    started = time.monotonic()
    ready_file: str | None = arguments.ready_file
    if ready_file is not None and not os.path.isdir(os.path.dirname(os.path.abspath(ready_file))):
        return _local_fail(f"the directory of --ready-file {ready_file} does not exist; create it or pick another path")
    import contextlib  # noqa: PLC0415
    import errno  # noqa: PLC0415
    import logging  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    from infra.local.stack import LocalStack  # noqa: PLC0415

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"received signal {signum}, stopping the local stack", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One access log line per API request. moto's own request lines stay at WARNING, and so do the
    # functions' JSON logs unless POWERTOOLS_LOG_LEVEL is set.
    logging.getLogger("infra.local.gateway").setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Powertools warns on every invocation that records no metric, which most local requests do not.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    stack = LocalStack(port=arguments.port, worker_concurrency=arguments.worker_concurrency)
    wrote_ready_file = False
    try:
        try:
            endpoints = stack.start()
            stack.wait_until_healthy()
            _, api_key = stack.create_api_key(name="cascade local up")
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return _local_fail(
                    f"port {arguments.port} is already in use; pass another --port, or --port 0 for a free one"
                )
            return _local_fail(f"could not start the local stack: {error}")
        facts = {"api_url": endpoints.api_url, "aws_endpoint_url": endpoints.aws_endpoint_url, "api_key": api_key}
        if ready_file is not None:
            _write_ready_file(ready_file, facts)
            wrote_ready_file = True
        _print_local_facts(facts, elapsed_seconds=time.monotonic() - started)
        # The kernel may deliver a signal to any thread, and Python runs its handler only when the main
        # thread runs bytecode, so the main thread wakes up regularly instead of blocking for good.
        while not stop.wait(_LOCAL_SIGNAL_POLL_SECONDS):
            pass
    finally:
        stack.stop()
        if wrote_ready_file and ready_file is not None:
            # A ready file left behind would point the next reader at a stack that is gone.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(ready_file)
    print("local stack stopped", file=sys.stderr)
    return 0


def _write_ready_file(path: str, facts: dict[str, str]) -> None:
    """Write ``facts`` as JSON to ``path`` atomically, so a reader never sees a partly written file."""
    import tempfile  # noqa: PLC0415

    directory, name = os.path.split(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, prefix=f".{name}.", suffix=".tmp", delete=False
    ) as handle:
        json.dump(facts, handle)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.replace(handle.name, path)
    except OSError:
        os.unlink(handle.name)
        raise


def _print_local_facts(facts: dict[str, str], *, elapsed_seconds: float) -> None:
    from infra.sandbox.directory import default_directory  # noqa: PLC0415

    person = default_directory().people[0]
    body = json.dumps(
        {"first_name": person.first_name, "last_name": person.last_name, "company_domain": person.company.domain}
    )
    print(f"Cascade local stack is up (started in {elapsed_seconds:.1f} s).")
    print(f"  API URL:          {facts['api_url']}  (GET /v1/openapi.json lists the endpoints)")
    print(f"  AWS endpoint URL: {facts['aws_endpoint_url']}  (moto, for AWS_ENDPOINT_URL)")
    print(f"  Test API key:     {facts['api_key']}")
    print("Try:")
    print(
        f"  curl -s {facts['api_url']}/v1/people/enrich -H 'Authorization: Bearer {facts['api_key']}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    print("Set POWERTOOLS_LOG_LEVEL=INFO to see the functions' logs. Press Ctrl-C to stop.", flush=True)


def _local_fail(message: str) -> int:
    print(f"cascade local up: error: {message}", file=sys.stderr)
    return _EXIT_FAILED


def _add_local_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = commands.add_parser("local", help="run Cascade on this machine without an AWS account")
    actions = local.add_subparsers(dest="local_command", required=True)
    up = actions.add_parser(
        "up",
        help="start the local stack in the foreground until Ctrl-C",
        description="Start moto, the waterfall, the provider sandbox and the HTTP API on 127.0.0.1, create a "
        "test API key, and serve until Ctrl-C, SIGINT or SIGTERM.",
    )
    up.add_argument("--port", type=int, default=8787, help="TCP port of the HTTP API (0 picks a free port)")
    up.add_argument(
        "--ready-file",
        metavar="PATH",
        help="once the stack is healthy, write api_url, aws_endpoint_url and api_key to this file as JSON; "
        "the file is removed when the stack stops",
    )
    up.add_argument(
        "--worker-concurrency",
        type=_positive_int,
        default=5,
        help="row batches that the bulk worker handles at once, like the deployed worker's maximum concurrency "
        "(default: 5)",
    )
    up.set_defaults(run=_run_local_up)


def _jobs_client(arguments: argparse.Namespace) -> JobsClient | None:
    """Build the client from --api-url/--api-key or CASCADE_API_URL/CASCADE_API_KEY; print why not and return None."""
    from infra.jobs_client import JobsClient  # noqa: PLC0415 - loaded only for the jobs commands

    api_url: str | None = arguments.api_url or os.environ.get("CASCADE_API_URL")
    api_key: str | None = arguments.api_key or os.environ.get("CASCADE_API_KEY")
    if not api_url:
        _jobs_fail("no API URL; pass --api-url or set CASCADE_API_URL (`cascade local up` prints one)")
        return None
    if not api_key:
        _jobs_fail("no API key; pass --api-key or set CASCADE_API_KEY (`cascade keys create` makes one)")
        return None
    return JobsClient(api_url, api_key)


def _run_jobs_submit(arguments: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415

    from infra.jobs_client import JobsClientError, ProgressReporter, submit_file  # noqa: PLC0415

    path = Path(arguments.file)
    if not path.is_file():
        return _jobs_fail(f"{path} is not a file; pass the path of a CSV file", code=_EXIT_USAGE)
    client = _jobs_client(arguments)
    if client is None:
        return _EXIT_USAGE
    with client:
        try:
            result = submit_file(
                client,
                path,
                fields=arguments.fields,
                webhook_url=arguments.webhook_url,
                country=arguments.country,
                wait=arguments.wait,
                output=Path(arguments.output) if arguments.output else None,
                progress=ProgressReporter(sys.stderr) if arguments.wait else None,
                poll_seconds=arguments.poll_seconds,
            )
        except JobsClientError as error:
            return _jobs_fail(str(error))
    job = result.job
    if not arguments.wait:
        print(f"Created job {job['id']} for {path.name}; the upload is complete and the job starts shortly.")
        print(f"Follow it with: cascade jobs status {job['id']}")
        return 0
    print(_job_summary(job))
    for label, written in (("Results", result.results_path), ("Errors", result.errors_path)):
        if written is not None:
            print(f"{label} written to {written}")
    status = job.get("status")
    if status == "completed":
        return 0
    if status == "failed":
        return _EXIT_FAILED
    return _EXIT_NOT_COMPLETED


def _run_jobs_status(arguments: argparse.Namespace) -> int:
    from infra.jobs_client import JobsClientError  # noqa: PLC0415

    client = _jobs_client(arguments)
    if client is None:
        return _EXIT_USAGE
    with client:
        try:
            job = client.get_job(arguments.job_id)
        except JobsClientError as error:
            return _jobs_fail(str(error))
    if arguments.json:
        print(json.dumps(job, indent=2))
    else:
        print(_job_summary(job))
    return 0


def _job_summary(job: dict[str, Any]) -> str:
    """Render a job as aligned lines: status, counts, billed amount, and the error when there is one."""
    total = job.get("rows_total")
    lines = [
        f"Job {job.get('id')}  {job.get('file_name') or ''}".rstrip(),
        f"  status      {job.get('status')}",
        f"  rows        {job.get('rows_done', 0)} of {total if total is not None else '?'}",
        f"  matched     {job.get('matched', 0)}",
        f"  not found   {job.get('not_found', 0)}",
        f"  errors      {job.get('errors', 0)}",
        f"  billed      ${job.get('billed_amount')}",
    ]
    if job.get("error"):
        lines.append(f"  error       {job.get('error')}")
    for warning in job.get("warnings") or []:
        lines.append(f"  warning     {warning}")
    return "\n".join(lines)


def _jobs_fail(message: str, *, code: int = _EXIT_FAILED) -> int:
    print(f"cascade jobs: error: {message}", file=sys.stderr)
    return code


def _fields(text: str) -> list[str]:
    fields = [part.strip() for part in text.split(",") if part.strip()]
    allowed = ("email", "phone")
    unknown = [field for field in fields if field not in allowed]
    if not fields or unknown:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of fields; pass email, phone or email,phone")
    return fields


def _job_id(text: str) -> str:
    if not _JOB_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a job id; job ids are job_ and 26 hex digits")
    return text


def _add_jobs_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--api-url", help="base URL of the Cascade API (default: $CASCADE_API_URL)")
    connection.add_argument("--api-key", help="API key (default: $CASCADE_API_KEY)")

    jobs = commands.add_parser("jobs", help="submit CSV files as bulk jobs and follow them")
    actions = jobs.add_subparsers(dest="jobs_command", required=True)
    submit = actions.add_parser(
        "submit",
        parents=[connection],
        help="upload a CSV file as a bulk job",
        description="Create a bulk job, upload FILE to it, and with --wait follow it and download the results. "
        "Exit codes with --wait: 0 completed, 1 failed, 3 canceled or on hold; 2 for a usage error.",
    )
    submit.add_argument("file", metavar="FILE", help="CSV file to enrich, such as a CRM export")
    submit.add_argument(
        "--fields",
        type=_fields,
        default=None,
        help="fields to find per row: email, phone or email,phone (default: email)",
    )
    submit.add_argument("--webhook-url", help="URL that receives a signed POST when the job ends or pauses")
    submit.add_argument("--country", help="ISO 3166 alpha-2 country of rows that name none, such as GB")
    submit.add_argument("--wait", action="store_true", help="follow the job with a progress bar and download its files")
    submit.add_argument(
        "--output",
        metavar="PATH",
        help="where --wait writes the results (default: FILE's name with .results.csv); the errors file goes "
        "next to it as <name>.errors.csv",
    )
    submit.add_argument(
        "--poll-seconds", type=float, default=1.0, help="seconds between status requests with --wait (default: 1)"
    )
    submit.set_defaults(run=_run_jobs_submit)

    status = actions.add_parser(
        "status", parents=[connection], help="print a bulk job", description="Print a bulk job's status and counts."
    )
    status.add_argument(
        "job_id", metavar="ID", type=_job_id, help="id of the job, such as job_0f3a9c2d4e5b6a7980c1d2e3f4"
    )
    status.add_argument("--json", action="store_true", help="print the job as JSON, as the API returns it")
    status.set_defaults(run=_run_jobs_status)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cascade", description="Cascade contact enrichment: operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the provider sandbox on 127.0.0.1 until Ctrl-C")
    sandbox.add_argument("--port", type=int, default=8790, help="TCP port to listen on (0 picks a free port)")
    sandbox.add_argument("--seed", type=int, default=11, help="seed of the fault and latency draws")
    sandbox.set_defaults(run=_run_sandbox)

    _add_keys_parser(commands)
    _add_local_parser(commands)
    _add_jobs_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    result: int = arguments.run(arguments)
    return result


if __name__ == "__main__":
    sys.exit(main())
