"""``cascade local up`` as a user runs it: the ready file contract, the API behind it, and a clean stop."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.integration.local.conftest import current_month

CASCADE = Path(sys.executable).with_name("cascade")
READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 15


def _start(arguments: list[str], output_dir: Path) -> subprocess.Popen[bytes]:
    # Files rather than pipes, so that a chatty stack can never block on a full pipe.
    stdout = (output_dir / "stdout.txt").open("wb")
    stderr = (output_dir / "stderr.txt").open("wb")
    with stdout, stderr:
        return subprocess.Popen([str(CASCADE), "local", "up", *arguments], stdout=stdout, stderr=stderr)  # noqa: S603


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], output_dir: Path) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if path.exists():
            facts: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
            return facts
        if process.poll() is not None:
            pytest.fail(f"cascade local up exited early: {(output_dir / 'stderr.txt').read_text()}")
        time.sleep(0.05)
    pytest.fail(f"no ready file after {READY_TIMEOUT_SECONDS} s: {(output_dir / 'stderr.txt').read_text()}")


@pytest.fixture
def stopped_at_end() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ready_file_contract(tmp_path: Path, stopped_at_end: list[subprocess.Popen[bytes]]) -> None:
    ready_file = tmp_path / "ready.json"
    process = _start(["--port", "0", "--ready-file", str(ready_file)], tmp_path)
    stopped_at_end.append(process)
    facts = _wait_for_file(ready_file, process, tmp_path)

    usage = httpx.get(
        f"{facts['api_url']}/v1/usage",
        params={"month": current_month()},
        headers={"Authorization": f"Bearer {facts['api_key']}"},
        timeout=30,
    )
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=facts["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    tables = dynamodb.list_tables()["TableNames"]
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=STOP_TIMEOUT_SECONDS)
    printed = (tmp_path / "stdout.txt").read_text()

    assert set(facts) == {"api_url", "aws_endpoint_url", "api_key"}
    assert facts["api_url"].startswith("http://127.0.0.1:")
    assert facts["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert facts["api_key"].startswith("cas_test_")
    assert usage.status_code == 200
    assert usage.json()["amount"] == "0.00"
    assert "cascade-api-keys" in tables
    assert code == 0
    assert not ready_file.exists()
    assert facts["api_key"] in printed
    assert facts["api_url"] in printed
    assert not list(tmp_path.glob(".ready.json.*"))


def test_port_in_use_fails_with_message(tmp_path: Path, stopped_at_end: list[subprocess.Popen[bytes]]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        process = _start(["--port", str(port), "--ready-file", str(tmp_path / "ready.json")], tmp_path)
        stopped_at_end.append(process)
        code = process.wait(timeout=READY_TIMEOUT_SECONDS)
    message = (tmp_path / "stderr.txt").read_text()
    assert code == 1
    assert "already in use" in message
    assert not (tmp_path / "ready.json").exists()


def test_missing_ready_file_directory_fails(tmp_path: Path, stopped_at_end: list[subprocess.Popen[bytes]]) -> None:
    process = _start(["--port", "0", "--ready-file", str(tmp_path / "absent" / "ready.json")], tmp_path)
    stopped_at_end.append(process)
    code = process.wait(timeout=30)
    assert code == 1
    assert "does not exist" in (tmp_path / "stderr.txt").read_text()
