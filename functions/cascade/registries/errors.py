"""Errors that the registry adapters raise, one class per kind of failure.

Adapters map HTTP status codes to these classes (401 and 403 to ``RegistryAuthError``, 404 to
``RegistryNotFoundError``, 429 to ``RegistryThrottledError``, 408 and 5xx to
``RegistryUnavailableError``), never the text of a response body.
"""

from __future__ import annotations


class RegistryError(Exception):
    """A registry request failed. ``registry`` is the registry's name, such as ``companies_house``."""

    def __init__(self, registry: str, message: str) -> None:
        super().__init__(message)
        self.registry = registry


class RegistryAuthError(RegistryError):
    """The registry rejected the credentials or the declared User-Agent (HTTP 401 or 403)."""


class RegistryNotFoundError(RegistryError):
    """The registry has no record at the requested path (HTTP 404)."""


class RegistryThrottledError(RegistryError):
    """The registry or the local pacer limits the request rate; ``retry_after`` is in seconds when known."""

    def __init__(self, registry: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(registry, message)
        self.retry_after = retry_after


class RegistryUnavailableError(RegistryError):
    """The request timed out, the connection failed or the registry returned HTTP 408 or 5xx."""


class RegistryBadResponseError(RegistryError):
    """The registry returned a status or body that the adapter cannot read."""
