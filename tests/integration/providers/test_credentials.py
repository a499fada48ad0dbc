"""Secrets Manager credentials through moto."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_secretsmanager import SecretsManagerClient

from cascade.providers.credentials import SecretsManagerCredentials, StaticCredentials


@pytest.fixture
def secrets() -> Iterator[SecretsManagerClient]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")


def test_secrets_read_once_and_cached(secrets: SecretsManagerClient) -> None:
    secrets.create_secret(Name="cascade/providers/hunter", SecretString=json.dumps({"api_key": "k1"}))
    built: list[int] = []

    def factory() -> SecretsManagerClient:
        built.append(1)
        return secrets

    store = SecretsManagerCredentials(factory, "cascade/providers/")
    assert store.get("hunter") == {"api_key": "k1"}
    secrets.put_secret_value(SecretId="cascade/providers/hunter", SecretString=json.dumps({"api_key": "k2"}))
    assert store.get("hunter") == {"api_key": "k1"}
    assert len(built) == 1


def test_secrets_missing_provider_is_none(secrets: SecretsManagerClient) -> None:
    store = SecretsManagerCredentials(lambda: secrets, "cascade/providers/")
    assert store.get("lusha") is None


def test_secrets_non_object_rejected(secrets: SecretsManagerClient) -> None:
    secrets.create_secret(Name="cascade/providers/apollo", SecretString='"just-a-key"')
    store = SecretsManagerCredentials(lambda: secrets, "cascade/providers/")
    with pytest.raises(ValueError, match="JSON object of strings"):
        store.get("apollo")


def test_static_credentials_empty_is_none() -> None:
    store = StaticCredentials({"hunter": {"api_key": "k"}, "apollo": {}})
    assert store.get("hunter") == {"api_key": "k"}
    assert store.get("apollo") is None
    assert store.get("prospeo") is None
