"""The billing commands of the ``cascade`` command line: monthly caps, usage exports and reconciliation.

``cascade keys update KEY_ID --monthly-cap AMOUNT|none`` changes a key's monthly cap and resumes its bulk
jobs that the cap put on hold. ``cascade usage export`` writes each billed key's export of a month to
files, and ``cascade usage reconcile`` compares the ledger, the usage counters and the exports. Both work
on the tables that ``cascade keys`` reaches (``--endpoint-url`` or ``AWS_ENDPOINT_URL`` for the local stack).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_NO_CAP = "none"
_EXIT_MISMATCH = 1


def monthly_cap(text: str) -> Decimal | None:
    """Parse ``--monthly-cap``: a dollar amount such as ``500.00``, or ``none`` to remove the cap."""
    if text.strip().lower() == _NO_CAP:
        return None
    from cascade.domain.money import parse_amount  # noqa: PLC0415

    try:
        return parse_amount(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error}; or send 'none' to remove the cap") from None


def month(text: str) -> str:
    if not _MONTH.fullmatch(text):
        raise argparse.ArgumentTypeError(f"month {text!r} is not a calendar month; send it as YYYY-MM, such as 2026-03")
    return text


def keys_update(arguments: argparse.Namespace, target: Any) -> int:
    """Set the monthly cap of ``arguments.key_id`` and resume its held bulk jobs. ``target`` is a ``_KeysTarget``."""
    key = target.repository.get(arguments.key_id)
    if key is None:
        from cascade.storage.keys import KeyNotFoundError  # noqa: PLC0415

        raise KeyNotFoundError(arguments.key_id)
    plan = key.plan.model_copy(update={"monthly_cap": arguments.monthly_cap})
    updated = target.repository.update_plan(arguments.key_id, plan)
    cap = updated.plan.monthly_cap
    cap_text = "no monthly cap" if cap is None else f"a monthly cap of {cap} USD"
    print(f"API key {updated.key_id} of account {updated.account_id} now has {cap_text}.")
    print("The authorizer caches key lookups, so requests may see the old cap for up to a minute.")
    resumed = resume_held_jobs(updated.key_id)
    if resumed is not None:
        print(f"Resumed {resumed} bulk job(s) that were on hold.")
    return 0


def resume_held_jobs(key_id: str) -> int | None:
    """Resume the key's bulk jobs that are ``on_hold``; return how many, or ``None`` when resuming failed.

    A failure is printed and does not undo the cap change: the jobs stay on hold until resumed.
    """
    from cascade.bulk.holds import resume_held_jobs as resume  # noqa: PLC0415
    from cascade.bulk.services import build_bulk_services  # noqa: PLC0415
    from cascade.settings import get_settings  # noqa: PLC0415
    from cascade.storage.dynamo import StorageError  # noqa: PLC0415

    try:
        return resume(key_id, build_bulk_services(get_settings()))
    except (StorageError, ValueError) as error:
        print(
            f"cascade keys update: warning: the cap changed, but resuming held bulk jobs failed: {error}; "
            "run the command again to retry",
            file=sys.stderr,
        )
        return None


def add_keys_update_parser(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    connection: argparse.ArgumentParser,
    *,
    run: Callable[[argparse.Namespace], int],
    key_id: Callable[[str], str],
) -> None:
    update = actions.add_parser(
        "update",
        parents=[connection],
        help="change an API key's monthly cap",
        description="Change an API key's monthly spend cap and resume its bulk jobs held by the cap.",
    )
    update.add_argument("key_id", metavar="KEY_ID", type=key_id, help="id of the key, such as key_0123456789abcdef")
    update.add_argument(
        "--monthly-cap",
        type=monthly_cap,
        required=True,
        metavar="AMOUNT|none",
        help="maximum USD billed per UTC calendar month, such as 500.00; 'none' removes the cap",
    )
    update.set_defaults(run=run, keys_action=keys_update)


def add_usage_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], connection: argparse.ArgumentParser
) -> None:
    usage = commands.add_parser("usage", help="export and reconcile monthly usage")
    actions = usage.add_subparsers(dest="usage_command", required=True)

    export = actions.add_parser(
        "export",
        parents=[connection],
        help="write monthly usage exports to files",
        description="Write the ledger export of every key billed in a month (or of one key) to files named "
        "<KEY_ID>-<YYYY-MM>.csv or .json.",
    )
    export.add_argument("--month", type=month, required=True, help="UTC calendar month, as YYYY-MM")
    export.add_argument("--key", metavar="KEY_ID", help="export only this key (default: every key billed that month)")
    export.add_argument("--out", type=Path, default=Path(), help="directory to write to (default: the current one)")
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="file format (default: csv)")
    export.set_defaults(run=_run_usage, usage_action=_usage_export)

    reconcile = actions.add_parser(
        "reconcile",
        parents=[connection],
        help="compare ledger, usage counters and exports",
        description="Compare every billed key's ledger lines, usage counters and export in a month, to the cent. "
        "Exits with status 1 on any mismatch.",
    )
    reconcile.add_argument("--month", type=month, required=True, help="UTC calendar month, as YYYY-MM")
    reconcile.set_defaults(run=_run_usage, usage_action=_usage_reconcile)


def _run_usage(arguments: argparse.Namespace) -> int:
    # The keys commands resolve the endpoint, region and credentials the same way, and map the same errors.
    from infra.cli import _run_keys  # noqa: PLC0415

    arguments.keys_action = lambda parsed, target: parsed.usage_action(parsed, target.client)
    return _run_keys(arguments)


def _repositories(client: DynamoDBClient) -> tuple[Any, Any, Any]:
    from cascade.settings import get_settings  # noqa: PLC0415
    from cascade.storage.billing import BillingItems  # noqa: PLC0415
    from cascade.storage.ledger import LedgerRepository  # noqa: PLC0415
    from cascade.storage.usage import UsageRepository  # noqa: PLC0415

    settings = get_settings()
    ledger = LedgerRepository(
        client,
        ledger_table=settings.ledger_table,
        usage_table=settings.usage_table,
        shards=settings.usage_counter_shards,
    )
    usage = UsageRepository(client, usage_table=settings.usage_table)
    return ledger, usage, BillingItems(client, usage_table=settings.usage_table)


def _usage_export(arguments: argparse.Namespace, client: DynamoDBClient) -> int:
    from cascade.billing.exports import export_csv, export_json, month_export  # noqa: PLC0415

    ledger, _, items = _repositories(client)
    out: Path = arguments.out
    if not out.is_dir():
        print(f"cascade usage export: error: --out {out} is not a directory; create it first", file=sys.stderr)
        return _EXIT_MISMATCH
    key_ids = [arguments.key] if arguments.key else items.key_ids_for_month(arguments.month)
    render = export_json if arguments.format == "json" else export_csv
    for key_id in key_ids:
        export = month_export(ledger, key_id, arguments.month)
        path = out / f"{key_id}-{arguments.month}.{arguments.format}"
        path.write_bytes(render(export))
        print(f"{path}: {len(export.lines)} line(s), {export.amount} USD")
    if not key_ids:
        print(f"No key has usage in {arguments.month}; nothing written.")
    return 0


def _usage_reconcile(arguments: argparse.Namespace, client: DynamoDBClient) -> int:
    from cascade.billing.reconcile import reconcile_month  # noqa: PLC0415

    ledger, usage, items = _repositories(client)
    report = reconcile_month(ledger, usage, items.key_ids_for_month(arguments.month), arguments.month)
    if not report.keys:
        print(f"No key has usage in {arguments.month}; nothing to reconcile.")
        return 0
    print(report.table())
    if report.matches:
        print(f"All {len(report.keys)} key(s) reconcile to the cent in {arguments.month}.")
        return 0
    mismatches = sum(1 for key in report.keys if not key.matches)
    print(f"{mismatches} of {len(report.keys)} key(s) do not reconcile in {arguments.month}.", file=sys.stderr)
    return _EXIT_MISMATCH
