"""Building the waterfall dependencies from settings, and installing test ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cascade.providers.credentials import SecretsManagerCredentials
from cascade.providers.registry import Availability, ProviderRegistry
from cascade.settings import Settings, Stage, get_settings
from cascade.waterfall import dependencies as dependencies_module
from cascade.waterfall.dependencies import (
    build_dependencies,
    get_dependencies,
    install_dependencies,
    parse_provider_credentials,
)
from tests.unit.waterfall.fakes import FakeRegistry, dependencies


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    install_dependencies(None)
    get_settings.cache_clear()
    dependencies_module._from_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    dependencies_module._from_settings.cache_clear()


def test_dependencies_from_settings_cached(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CASCADE_PROVIDER_CREDENTIALS_JSON", '{"hunter": {"api_key": "k"}}')
    first = get_dependencies()
    assert get_dependencies() is first
    assert isinstance(first.registry, ProviderRegistry)
    assert first.registry.availability("hunter") is Availability.READY
    assert first.registry.availability("apollo") is Availability.NO_CREDENTIALS


def test_dependencies_installed_win(fresh_settings: pytest.MonkeyPatch) -> None:
    mine = dependencies(FakeRegistry([]))
    install_dependencies(mine)
    assert get_dependencies() is mine
    install_dependencies(None)
    assert get_dependencies() is not mine


def test_dependencies_aws_use_secrets_manager() -> None:
    built = build_dependencies(Settings(stage=Stage.AWS))
    assert isinstance(built.registry, ProviderRegistry)
    assert isinstance(built.registry._credentials, SecretsManagerCredentials)


def test_dependencies_local_no_credentials() -> None:
    built = build_dependencies(Settings(stage=Stage.LOCAL))
    assert built.registry.availability("hunter") is Availability.NO_CREDENTIALS


def test_dependencies_mx_nameserver_used() -> None:
    built = build_dependencies(Settings(mx_nameserver="127.0.0.1:5353"))
    resolver = built.mx_resolver._resolver  # type: ignore[attr-defined]
    assert resolver.nameservers == ["127.0.0.1"]
    assert resolver.port == 5353


@pytest.mark.parametrize("nameserver", ["127.0.0.1:dns", ":53", "[::1]:x"])
def test_dependencies_mx_nameserver_invalid(nameserver: str) -> None:
    with pytest.raises(ValueError, match="CASCADE_MX_NAMESERVER"):
        build_dependencies(Settings(mx_nameserver=nameserver))


def test_provider_credentials_parsed() -> None:
    parsed = parse_provider_credentials('{"twilio": {"account_sid": "AC1", "auth_token": "t"}}')
    assert parsed == {"twilio": {"account_sid": "AC1", "auth_token": "t"}}


@pytest.mark.parametrize(
    "document", ["not json s3cret", '["s3cret"]', '{"hunter": "s3cret"}', '{"hunter": {"api_key": 1, "x": "s3cret"}}']
)
def test_provider_credentials_invalid(document: str) -> None:
    with pytest.raises(ValueError, match="CASCADE_PROVIDER_CREDENTIALS_JSON") as caught:
        parse_provider_credentials(document)
    assert "s3cret" not in str(caught.value)
