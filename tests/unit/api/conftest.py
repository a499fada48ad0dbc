"""An API application over collaborators that fail the test if a request gets as far as them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cascade.api.app import CascadeApi, create_app
from cascade.api.services import install_services
from cascade.settings import Settings
from tests.unit.api.support import unused_services

MAX_REQUEST_BYTES = 2048


@pytest.fixture
def api() -> Iterator[CascadeApi]:
    install_services(unused_services())
    yield create_app(Settings(max_request_bytes=MAX_REQUEST_BYTES))
    install_services(None)
