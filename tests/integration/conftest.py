"""Fixtures shared by integration tests: the whole provider sandbox and a registry pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from cascade.providers.credentials import StaticCredentials
from cascade.providers.registry import ProviderRegistry
from cascade.storage.schema import TABLES
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


MOTO_REGION = "eu-west-1"
TEST_TABLE_NAMES = {spec.logical_name: f"test-{spec.logical_name.replace('_', '-')}" for spec in TABLES}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call, with fake credentials and no endpoint override.

    Nothing can reach a real account, and botocore never probes the instance-metadata address.
    """
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        yield
