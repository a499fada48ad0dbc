"""Fixtures shared by integration tests: the whole provider sandbox and a registry pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cascade.providers.credentials import StaticCredentials
from cascade.providers.registry import ProviderRegistry
from infra.sandbox.app import start_sandbox
from infra.sandbox.keys import SANDBOX_CREDENTIALS
from infra.sandbox.server import RunningSandbox


@pytest.fixture(scope="session")
def full_sandbox() -> Iterator[RunningSandbox]:
    sandbox = start_sandbox()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox_registry(full_sandbox: RunningSandbox) -> Iterator[ProviderRegistry]:
    full_sandbox.state.faults.reset()
    registry = ProviderRegistry(
        StaticCredentials(SANDBOX_CREDENTIALS), connect_timeout=1.0, read_timeout=3.0, base_url=full_sandbox.url
    )
    yield registry
    registry.close()
    full_sandbox.state.faults.reset()
