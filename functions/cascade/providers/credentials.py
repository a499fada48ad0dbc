"""Vendor credentials: one Secrets Manager secret per provider on AWS, configuration locally.

A secret contains a JSON object of the fields that provider needs (``{"api_key": "..."}``,
or ``{"account_sid": "...", "auth_token": "..."}`` for Twilio). Secrets are read on first
use and cached for the life of the execution environment. A provider without credentials
is skipped by the plan and reported as ``skipped_no_credentials``; it is never called.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

Credentials = Mapping[str, str]


class CredentialStore(Protocol):
    def get(self, provider: str) -> Credentials | None:
        """Return the provider's credentials, or ``None`` when none are configured."""
        ...


class StaticCredentials:
    """Credentials given as configuration: the local stack, tests and the sandbox."""

    def __init__(self, by_provider: Mapping[str, Credentials]) -> None:
        self._by_provider = {name: dict(values) for name, values in by_provider.items()}

    def get(self, provider: str) -> Credentials | None:
        values = self._by_provider.get(provider)
        return dict(values) if values else None


class SecretsManagerCredentials:
    """Read ``<prefix><provider>`` from Secrets Manager once per provider and cache the result."""

    def __init__(self, client_factory: Callable[[], SecretsManagerClient], prefix: str) -> None:
        self._client_factory = client_factory
        self._prefix = prefix
        self._cache: dict[str, Credentials | None] = {}
        self._lock = threading.Lock()

    def get(self, provider: str) -> Credentials | None:
        with self._lock:
            if provider not in self._cache:
                self._cache[provider] = self._fetch(provider)
            return self._cache[provider]

    def _fetch(self, provider: str) -> Credentials | None:
        client = self._client_factory()
        try:
            secret = client.get_secret_value(SecretId=f"{self._prefix}{provider}")
        except client.exceptions.ResourceNotFoundException:
            return None
        raw = secret.get("SecretString")
        if not raw:
            return None
        values = json.loads(raw)
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise ValueError(
                f'secret {self._prefix}{provider} must be a JSON object of strings, such as {{"api_key": "..."}}'
            )
        return values
