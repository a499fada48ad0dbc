"""MX lookups: which hosts accept mail for a domain, or why none do.

``DnsMxResolver`` queries DNS through dnspython and follows RFC 5321 section 5.1: a domain without
MX records but with an address record receives mail at that address (the implicit MX). A null
MX (a single ``0 .`` record, RFC 7505) declares that the domain accepts no mail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import dns.exception
import dns.name
import dns.resolver

# Positive and negative answers are reused for this long. It is short on purpose, because a warm
# Lambda environment lives for hours and a domain that moves its mail should not stay wrong for long.
DEFAULT_CACHE_TTL_SECONDS = 300.0
_MAX_CACHE_ENTRIES = 4096
# Preference of the implicit MX, which has no record and so no preference of its own.
_IMPLICIT_PREFERENCE = 0
# Preferences given to the hosts of a static mapping entry that lists bare host names, in order.
_STATIC_PREFERENCE_STEP = 10
_INVALID_NAME_ERRORS = (
    dns.name.NameTooLong,
    dns.name.LabelTooLong,
    dns.name.EmptyLabel,
    dns.name.BadEscape,
    dns.name.IDNAException,
)


class MxStatus(StrEnum):
    """Outcome of an MX lookup."""

    FOUND = "found"
    NO_MX = "no_mx"
    NO_DOMAIN = "no_domain"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class MxAnswer:
    """The mail hosts of one domain as ``(preference, host)`` pairs, lowest preference first.

    ``hosts`` is empty unless ``status`` is ``found``. Host names are lower case without the
    trailing dot. ``detail`` explains why the lookup ended this way and never contains an address.
    """

    status: MxStatus
    hosts: tuple[tuple[int, str], ...] = ()
    detail: str | None = None

    @property
    def host_names(self) -> tuple[str, ...]:
        """Host names in the order a sender tries them."""
        return tuple(host for _, host in self.hosts)


class MxResolver(Protocol):
    def resolve_mx(self, domain: str) -> MxAnswer:
        """Look up the mail hosts of an ASCII (punycode) domain, reporting DNS failures in the answer, not raising."""
        ...


class DnsMxResolver:
    """MX lookups through DNS, with a per-domain cache of ``cache_ttl_seconds``.

    Without a ``resolver`` the system configuration (``/etc/resolv.conf``) is read on the
    first lookup, not at construction, so building one costs nothing. Answers with status
    ``error`` are not cached, so the next call queries again.
    """

    def __init__(
        self,
        resolver: dns.resolver.Resolver | None = None,
        lifetime: float = 3.0,
        *,
        cache_ttl_seconds: float = DEFAULT_CACHE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._lifetime = lifetime
        self._cache = _MxCache(cache_ttl_seconds, clock)
        self._resolver_lock = threading.Lock()

    def resolve_mx(self, domain: str) -> MxAnswer:
        name = _canonical_domain(domain)
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        answer = self._lookup(name)
        if answer.status is not MxStatus.ERROR:
            self._cache.put(name, answer)
        return answer

    def _dns(self) -> dns.resolver.Resolver:
        with self._resolver_lock:
            if self._resolver is None:
                self._resolver = dns.resolver.Resolver()
            return self._resolver

    def _lookup(self, domain: str) -> MxAnswer:
        if not domain:
            return MxAnswer(MxStatus.NO_DOMAIN, detail="the domain is empty")
        resolver = self._dns()
        try:
            records = resolver.resolve(domain, "MX", search=False, lifetime=self._lifetime)
        except dns.resolver.NXDOMAIN:
            return MxAnswer(MxStatus.NO_DOMAIN, detail="the domain does not exist in DNS (NXDOMAIN)")
        except dns.resolver.NoAnswer:
            return self._implicit_mx(resolver, domain)
        except _INVALID_NAME_ERRORS:
            return MxAnswer(MxStatus.NO_DOMAIN, detail="the domain is not a valid DNS name")
        except dns.exception.Timeout:
            return MxAnswer(MxStatus.ERROR, detail=f"the MX lookup timed out after {self._lifetime:g} s")
        except dns.exception.DNSException as error:
            # NoNameservers (every server answered SERVFAIL or refused), YXDOMAIN and the like.
            return MxAnswer(MxStatus.ERROR, detail=f"the MX lookup failed: {type(error).__name__}")
        return answer_from_records((record.preference, record.exchange.to_text()) for record in records)

    def _implicit_mx(self, resolver: dns.resolver.Resolver, domain: str) -> MxAnswer:
        """Apply RFC 5321 section 5.1: with no MX records, the domain's own address receives mail."""
        for record_type in ("A", "AAAA"):
            try:
                resolver.resolve(domain, record_type, search=False, lifetime=self._lifetime)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.Timeout:
                return MxAnswer(
                    MxStatus.ERROR,
                    detail=f"the domain has no MX records and its {record_type} lookup timed out",
                )
            except dns.exception.DNSException as error:
                return MxAnswer(
                    MxStatus.ERROR,
                    detail=f"the domain has no MX records and its {record_type} lookup failed: {type(error).__name__}",
                )
            return MxAnswer(
                MxStatus.FOUND,
                hosts=((_IMPLICIT_PREFERENCE, domain),),
                detail=f"implicit MX: the domain has no MX records, so mail goes to its {record_type} record",
            )
        return MxAnswer(MxStatus.NO_MX, detail="the domain has neither MX nor address records")


class StaticMxResolver:
    """MX answers from a fixed mapping, for tests and the local stack.

    Each value lists the domain's hosts as ``"preference host"`` strings (``"10 mx1.example.com"``)
    or as bare host names, which get preferences 10, 20, ... in the order given. ``"0 ."`` is a
    null MX. A domain mapped to an empty sequence has no MX, and a domain missing from the
    mapping does not exist. Keys are compared case-insensitively, without a trailing dot.
    """

    def __init__(self, mapping: Mapping[str, Sequence[str]]) -> None:
        self._answers = {_canonical_domain(domain): _parse_static(hosts) for domain, hosts in mapping.items()}

    def resolve_mx(self, domain: str) -> MxAnswer:
        answer = self._answers.get(_canonical_domain(domain))
        if answer is None:
            return MxAnswer(MxStatus.NO_DOMAIN, detail="the domain is not in the static MX mapping")
        return answer


def answer_from_records(records: Iterable[tuple[int, str]]) -> MxAnswer:
    """Build an answer from ``(preference, exchange)`` MX records, applying RFC 7505 null MX.

    A null MX is an exchange of ``.`` (the root). A domain that publishes it next to other MX
    records breaks RFC 7505, and the other records are used, because a sender would try them.
    """
    hosts: list[tuple[int, str]] = []
    saw_null_mx = False
    for preference, exchange in records:
        host = exchange.strip().rstrip(".").lower()
        if not host:
            saw_null_mx = True
            continue
        hosts.append((preference, host))
    if hosts:
        return MxAnswer(MxStatus.FOUND, hosts=tuple(sorted(set(hosts))))
    if saw_null_mx:
        return MxAnswer(MxStatus.NO_MX, detail="the domain publishes a null MX (RFC 7505), so it accepts no mail")
    return MxAnswer(MxStatus.NO_MX, detail="the domain publishes no MX records")


def _parse_static(entries: Sequence[str]) -> MxAnswer:
    records: list[tuple[int, str]] = []
    for position, entry in enumerate(entries, start=1):
        parts = entry.split()
        if len(parts) == 2 and parts[0].isdigit():
            records.append((int(parts[0]), parts[1]))
        elif len(parts) == 1:
            records.append((position * _STATIC_PREFERENCE_STEP, parts[0]))
        else:
            raise ValueError(
                f"static MX entry {entry!r} is not a host name or a 'preference host' pair; "
                "write it as 'mx1.example.com' or '10 mx1.example.com'"
            )
    return answer_from_records(records)


def _canonical_domain(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


class _MxCache:
    """A per-domain store of answers that expire ``ttl_seconds`` after they were stored."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, MxAnswer]] = {}
        self._lock = threading.Lock()

    def get(self, domain: str) -> MxAnswer | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(domain)
            if entry is None:
                return None
            expires_at, answer = entry
            if expires_at <= now:
                del self._entries[domain]
                return None
            return answer

    def put(self, domain: str, answer: MxAnswer) -> None:
        if self._ttl_seconds <= 0:
            return
        now = self._clock()
        with self._lock:
            if len(self._entries) >= _MAX_CACHE_ENTRIES:
                self._evict(now)
            # Re-inserting moves the domain to the end, which keeps the dict ordered by age.
            self._entries.pop(domain, None)
            self._entries[domain] = (now + self._ttl_seconds, answer)

    def _evict(self, now: float) -> None:
        """Drop expired entries, then the oldest ones, until there is room for one more."""
        for domain in [domain for domain, (expires_at, _) in self._entries.items() if expires_at <= now]:
            del self._entries[domain]
        # Dicts keep insertion order, so the first keys are the oldest entries.
        while len(self._entries) >= _MAX_CACHE_ENTRIES:
            del self._entries[next(iter(self._entries))]
