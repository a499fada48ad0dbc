"""Benchmark: cold import time of each Lambda entry point, relative to importing ``json``.

Every handler module under ``functions/cascade/handlers/`` is imported in a fresh Python process,
three times, and the median of the time spent in the ``import`` statement is printed in
milliseconds, together with its ratio to importing ``json`` in the same way. Compare the ratios
between runs: these machines are shared, so absolute times drift while the ratios stay comparable.
Interpreter start-up is not counted, and neither is anything the handler does on its first call.

Whether Python may use bytecode caches changes the figures a lot: with ``PYTHONDONTWRITEBYTECODE``
set (as ``make bench`` sets it) and a virtualenv installed with ``--no-compile``, every import
compiles its source, as a Lambda package without ``.pyc`` files does. The script prints which case
it measured. Run with ``make bench`` or ``.venv/bin/python tests/benchmarks/bench_cold_imports.py``.
"""

from __future__ import annotations

import os
import pkgutil
import statistics
import subprocess
import sys

import cascade.handlers

RUNS = 3
BASELINE = "json"
# Prints the seconds spent importing the module named by the first argument.
_TIMER = (
    "import importlib, sys, time\n"
    "started = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - started)\n"
)


def handler_modules() -> list[str]:
    """Return the import name of every module in ``cascade.handlers``, sorted."""
    return sorted(
        f"{cascade.handlers.__name__}.{module.name}" for module in pkgutil.iter_modules(cascade.handlers.__path__)
    )


def cold_import_seconds(module: str) -> float:
    """Return the median over ``RUNS`` fresh processes of the time to import ``module``."""
    samples = []
    for _ in range(RUNS):
        completed = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
            [sys.executable, "-c", _TIMER, module], capture_output=True, text=True, check=True
        )
        samples.append(float(completed.stdout.strip()))
    return statistics.median(samples)


def main() -> None:
    bytecode = "off (every import compiles source)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(f"cold imports, median of {RUNS} fresh processes; bytecode cache writes {bytecode}")
    baseline = cold_import_seconds(BASELINE)
    print(f"{'module':<40} {'ms':>9} {'x ' + BASELINE:>10}")
    print(f"{BASELINE:<40} {baseline * 1000:>9.1f} {1.0:>10.0f}")
    for module in handler_modules():
        seconds = cold_import_seconds(module)
        print(f"{module:<40} {seconds * 1000:>9.1f} {seconds / baseline:>10.0f}")


if __name__ == "__main__":
    main()
