"""The provider registry: every provider Cascade supports, and how to build the configured ones.

The registry is the single list that the plan step, the state-machine definition and the
sandbox are checked against. Adding a provider means adding its module and one entry to
``_ENTRIES``. A provider without credentials is never built: ``availability`` reports it
as ``no_credentials`` and the plan skips it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import httpx

from cascade.providers import (
    apollo,
    findymail,
    hunter,
    leadmagic,
    lusha,
    millionverifier,
    neverbounce,
    pattern,
    peopledatalabs,
    prospeo,
    twilio,
    zerobounce,
)
from cascade.providers.base import ContactFinder, EmailVerifier, PhoneValidator, ProviderInfo, ProviderKind
from cascade.providers.credentials import Credentials, CredentialStore
from cascade.providers.http import ProviderHttp

Adapter = ContactFinder | EmailVerifier | PhoneValidator


@dataclass(frozen=True)
class ProviderEntry:
    info: ProviderInfo
    build: Callable[[ProviderHttp, Credentials], Adapter]


_ENTRIES: tuple[ProviderEntry, ...] = (
    ProviderEntry(hunter.INFO, hunter.HunterFinder),
    ProviderEntry(prospeo.INFO, prospeo.ProspeoFinder),
    ProviderEntry(apollo.INFO, apollo.ApolloFinder),
    ProviderEntry(leadmagic.INFO, leadmagic.LeadMagicFinder),
    ProviderEntry(findymail.INFO, findymail.FindymailFinder),
    ProviderEntry(peopledatalabs.INFO, peopledatalabs.PeopleDataLabsFinder),
    ProviderEntry(lusha.INFO, lusha.LushaFinder),
    ProviderEntry(zerobounce.INFO, zerobounce.ZeroBounceVerifier),
    ProviderEntry(neverbounce.INFO, neverbounce.NeverBounceVerifier),
    ProviderEntry(millionverifier.INFO, millionverifier.MillionVerifierVerifier),
    ProviderEntry(twilio.INFO, twilio.TwilioLookup),
)

# The in-house pattern source has no vendor endpoint; it is built from the configured verifiers.
PATTERN = pattern.INFO

# The default waterfall: cheaper, email-first sources before the phone-heavy ones, and the
# pattern source last because each of its candidates costs a verifier call.
DEFAULT_ORDER: tuple[str, ...] = (
    "hunter",
    "prospeo",
    "apollo",
    "leadmagic",
    "findymail",
    "peopledatalabs",
    "lusha",
    "pattern",
)


class Availability(StrEnum):
    READY = "ready"
    NO_CREDENTIALS = "no_credentials"


def all_provider_infos() -> tuple[ProviderInfo, ...]:
    """Return every provider, the pattern source included, in registry order."""
    return (*(entry.info for entry in _ENTRIES), PATTERN)


def contact_finder_names() -> tuple[str, ...]:
    return tuple(info.name for info in all_provider_infos() if info.kind is ProviderKind.CONTACT_FINDER)


class ProviderRegistry:
    """Builds adapters on first use, each with its own pooled HTTP client, and keeps them.

    ``base_url`` replaces every vendor's host with ``<base_url>/<provider name>``: this is how
    the sandbox is reached, with no code path of its own in any adapter.
    """

    def __init__(
        self,
        credentials: CredentialStore,
        *,
        connect_timeout: float,
        read_timeout: float,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._base_url = base_url.rstrip("/") if base_url else None
        self._transport = transport
        self._entries: Mapping[str, ProviderEntry] = {entry.info.name: entry for entry in _ENTRIES}
        self._built: dict[str, Adapter] = {}
        self._clients: list[ProviderHttp] = []

    def info(self, name: str) -> ProviderInfo:
        if name == PATTERN.name:
            return PATTERN
        entry = self._entries.get(name)
        if entry is None:
            known = ", ".join(info.name for info in all_provider_infos())
            raise KeyError(f"unknown provider {name!r}; known providers are: {known}")
        return entry.info

    def availability(self, name: str) -> Availability:
        if name == PATTERN.name:
            return Availability.READY if self.verifiers() else Availability.NO_CREDENTIALS
        self.info(name)
        return Availability.READY if self._credentials.get(name) else Availability.NO_CREDENTIALS

    def finder(self, name: str) -> ContactFinder | None:
        if name == PATTERN.name:
            verifiers = self.verifiers()
            return pattern.PatternFinder(verifiers) if verifiers else None
        adapter = self._adapter(name)
        return adapter if isinstance(adapter, ContactFinder) else None

    def verifiers(self) -> list[EmailVerifier]:
        """Return the configured hosted email verifiers, in registry order."""
        found: list[EmailVerifier] = []
        for entry in _ENTRIES:
            if entry.info.kind is ProviderKind.EMAIL_VERIFIER:
                adapter = self._adapter(entry.info.name)
                if isinstance(adapter, EmailVerifier):
                    found.append(adapter)
        return found

    def phone_validator(self) -> PhoneValidator | None:
        adapter = self._adapter(twilio.INFO.name)
        return adapter if isinstance(adapter, PhoneValidator) else None

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._built.clear()

    def _adapter(self, name: str) -> Adapter | None:
        if name in self._built:
            return self._built[name]
        entry = self._entries.get(name)
        if entry is None:
            raise KeyError(f"unknown provider {name!r}")
        credentials = self._credentials.get(name)
        if not credentials:
            return None
        base_url = f"{self._base_url}/{name}" if self._base_url else entry.info.default_base_url
        http = ProviderHttp(
            base_url,
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
            transport=self._transport,
        )
        self._clients.append(http)
        adapter = entry.build(http, credentials)
        self._built[name] = adapter
        return adapter
