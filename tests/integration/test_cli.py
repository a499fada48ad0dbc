"""The ``cascade`` entry point installed in .venv/bin."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

CASCADE = Path(sys.executable).with_name("cascade")


def test_cli_help_lists_commands() -> None:
    result = subprocess.run([str(CASCADE), "--help"], capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0
    assert "sandbox" in result.stdout


def test_cli_sandbox_serves_then_stops_on_sigint() -> None:
    process = subprocess.Popen(  # noqa: S603 - our own entry point with fixed arguments
        [str(CASCADE), "sandbox", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split(" on ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        health = httpx.get(f"{url}/__sandbox/health", timeout=5)
        assert health.status_code == 200
        assert "hunter" in health.json()["providers"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
