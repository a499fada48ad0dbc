"""Fixtures for the provider integration tests: one module's sandbox vendors on loopback and a client for them.

A test module names its vendor in ``PROVIDER``. The ``sandbox`` fixture serves that vendor, or every
vendor in the module's ``SANDBOX_PROVIDERS`` when the module lists more than one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cascade.providers.http import ProviderHttp
from infra.sandbox.app import vendor_apis
from infra.sandbox.directory import Directory, default_directory
from infra.sandbox.server import RunningSandbox, running
from tests.integration.providers.support import sandbox_http


@pytest.fixture(scope="module")
def directory() -> Directory:
    return default_directory()


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest, directory: Directory) -> Iterator[RunningSandbox]:
    providers = getattr(request.module, "SANDBOX_PROVIDERS", None) or (request.module.PROVIDER,)
    vendors = [vendor for vendor in vendor_apis(directory) if vendor.provider in providers]
    with running(vendors) as started:
        yield started


@pytest.fixture
def no_faults(sandbox: RunningSandbox) -> Iterator[None]:
    """Clear the injected faults before and after the test, so that no fault leaks into another test."""
    sandbox.state.faults.reset()
    yield
    sandbox.state.faults.reset()


@pytest.fixture(scope="module")
def http(request: pytest.FixtureRequest, sandbox: RunningSandbox) -> Iterator[ProviderHttp]:
    """A client for the module's ``PROVIDER`` on the sandbox, with short timeouts."""
    with sandbox_http(sandbox, request.module.PROVIDER) as client:
        yield client
