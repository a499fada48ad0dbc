"""Test tiers: each test gets the marker of the folder it lives in.

``unit`` tests run with sockets blocked (Unix sockets stay open for the event loop).
``e2e`` tests need a deployed stack and run only when ``-m e2e`` is passed with the
stack's URL and key in the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_socket import disable_socket, enable_socket

TIERS = ("unit", "integration", "infra", "e2e")
TESTS_ROOT = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = Path(str(item.path)).relative_to(TESTS_ROOT)
        tier = relative.parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _block_network_in_unit_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


EVENTS_DIR = TESTS_ROOT.parent / "events"


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and our handlers read."""

    function_name: str = "cascade-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:cascade-test"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/cascade-test"
    log_stream_name: str = "2026/12/04/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def load_event(relative_path: str) -> dict[str, Any]:
    """Load a sample event from ``events/``; each test gets its own copy."""
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / relative_path).read_text())
    return loaded
