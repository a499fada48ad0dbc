"""The local stack, started in this process once per test module, and HTTP clients for its API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from cascade.domain.keys import ApiKey
from infra.local.stack import LocalStack


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    stack = LocalStack(port=0)
    stack.start()
    try:
        stack.wait_until_healthy()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def test_key(local_stack: LocalStack) -> tuple[ApiKey, str]:
    return local_stack.create_api_key(name="integration tests")


@pytest.fixture
def anonymous(local_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.endpoints.api_url, timeout=60) as client:
        yield client


@pytest.fixture
def client(local_stack: LocalStack, test_key: tuple[ApiKey, str]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {test_key[1]}"}
    with httpx.Client(base_url=local_stack.endpoints.api_url, headers=headers, timeout=60) as client:
        yield client


def current_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")
