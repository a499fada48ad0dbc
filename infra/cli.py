"""The ``cascade`` command line.

``cascade sandbox`` serves every provider's wire protocol on loopback until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType


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
        stop.wait()
    finally:
        sandbox.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cascade", description="Cascade contact enrichment: operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the provider sandbox on 127.0.0.1 until Ctrl-C")
    sandbox.add_argument("--port", type=int, default=8790, help="TCP port to listen on (0 picks a free port)")
    sandbox.add_argument("--seed", type=int, default=11, help="seed of the fault and latency draws")
    sandbox.set_defaults(run=_run_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    result: int = arguments.run(arguments)
    return result


if __name__ == "__main__":
    sys.exit(main())
