"""A loopback DNS server that serves the sandbox directory's mail domains over UDP.

It answers MX queries with the directory's MX hosts, A queries for those hosts with 127.0.0.1,
NXDOMAIN for names that the directory does not contain, and an empty NOERROR answer (NODATA) for known
names without records of the queried type. It answers only the queries it receives and never
forwards or recurses, so it is safe to point a resolver at it with ``nameservers=["127.0.0.1"]``
and ``port=server.port``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

LOOPBACK_ADDRESS = "127.0.0.1"
_TTL_SECONDS = 60
_MX_PREFERENCE_STEP = 10
# The maximum UDP datagram size. The replies stay far below the classic 512-byte limit.
_MAX_DATAGRAM = 65535
# How often the serving thread checks for stop(), in seconds.
_POLL_SECONDS = 0.1
_NULL_MX = "."

_logger = logging.getLogger(__name__)


class _Company(Protocol):
    @property
    def mx_hosts(self) -> tuple[str, ...]: ...


class MxDirectory(Protocol):
    """The parts of the sandbox directory that DNS answers come from."""

    @property
    def companies(self) -> Sequence[_Company]: ...

    def mx_hosts(self, domain: str) -> tuple[str, ...]: ...

    def company_by_domain(self, domain: str) -> object | None: ...


class LoopbackDnsServer:
    """A UDP DNS server on a loopback address, serving from a background thread.

    ``extra_mx`` adds or overrides domains: each maps to its MX host names in preference order
    (preferences 10, 20, ...), ``"."`` alone is a null MX (RFC 7505) and an empty sequence is a
    domain without MX records. ``extra_addresses`` maps host names to IPv4 addresses, for
    example a domain that receives mail at its own address (the implicit MX of RFC 5321).
    Names in ``failing`` get SERVFAIL. Names are compared case-insensitively.
    """

    def __init__(
        self,
        directory: MxDirectory | None,
        *,
        extra_mx: Mapping[str, Sequence[str]] | None = None,
        extra_addresses: Mapping[str, str] | None = None,
        failing: Iterable[str] = (),
        host: str = LOOPBACK_ADDRESS,
    ) -> None:
        self._directory = directory
        self._extra_mx = {
            _canonical(name): tuple(_canonical(host) for host in hosts) for name, hosts in (extra_mx or {}).items()
        }
        self._extra_addresses = {_canonical(name): address for name, address in (extra_addresses or {}).items()}
        self._failing = frozenset(_canonical(name) for name in failing)
        # Company MX hosts may live outside the company's domain ("aspmx.l.google.com"), so
        # they are indexed up front. Free-mail and disposable hosts are found under their domain.
        self._directory_hosts = frozenset(
            _canonical(host) for company in (directory.companies if directory else ()) for host in company.mx_hosts
        )
        self._host = host
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._queries: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the DNS server has no port until start() is called")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def host(self) -> str:
        return self._host

    def query_count(self, name: str | None = None, record_type: str | None = None) -> int:
        """Count the queries received so far, optionally only those for one name and record type."""
        with self._lock:
            return sum(
                count
                for (queried_name, queried_type), count in self._queries.items()
                if (name is None or queried_name == _canonical(name))
                and (record_type is None or queried_type == record_type.upper())
            )

    def start(self) -> Self:
        """Bind an ephemeral UDP port and serve from a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("the DNS server is already running")
        bound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        bound.bind((self._host, 0))
        bound.settimeout(_POLL_SECONDS)
        self._socket = bound
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, args=(bound,), name="sandbox-dns", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Calling it again does nothing."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self, bound: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                data, peer = bound.recvfrom(_MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                _logger.exception("sandbox DNS server stopped: receiving on the socket failed")
                return
            reply = self._reply(data)
            if reply is not None:
                bound.sendto(reply, peer)

    def _reply(self, data: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException as error:
            # A datagram that is not a DNS message has no ID to answer with.
            _logger.warning("sandbox DNS server dropped a malformed query: %s", type(error).__name__)
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        try:
            self._answer(query, response)
        except Exception:
            _logger.exception("sandbox DNS server failed to answer a query, so it answered SERVFAIL")
            response.answer.clear()
            response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire()

    def _answer(self, query: dns.message.Message, response: dns.message.Message) -> None:
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return

        name = _canonical(question.name.to_text())
        record_type = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self._queries[(name, record_type)] += 1

        if name in self._failing:
            response.set_rcode(dns.rcode.SERVFAIL)
            return
        records = self._records(name, question.rdtype)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return
        if records:
            response.answer.append(
                dns.rrset.from_text_list(question.name, _TTL_SECONDS, dns.rdataclass.IN, question.rdtype, records)
            )

    def _records(self, name: str, record_type: dns.rdatatype.RdataType) -> list[str] | None:
        """Return the record texts for a name and type, or ``None`` when the name does not exist."""
        mx_hosts = self._mx_hosts(name)
        address = self._address(name)
        if mx_hosts is None and address is None and not self._is_known_domain(name):
            return None
        if record_type == dns.rdatatype.MX:
            return _mx_records(mx_hosts or ())
        if record_type == dns.rdatatype.A and address is not None:
            return [address]
        return []

    def _mx_hosts(self, name: str) -> tuple[str, ...] | None:
        if name in self._extra_mx:
            return self._extra_mx[name]
        if self._directory is None:
            return None
        hosts = tuple(_canonical(host) for host in self._directory.mx_hosts(name))
        return hosts or None

    def _address(self, name: str) -> str | None:
        if name in self._extra_addresses:
            return self._extra_addresses[name]
        if name in self._directory_hosts or any(name in hosts for hosts in self._extra_mx.values()):
            return LOOPBACK_ADDRESS
        # Other directory MX hosts are named under their domain, such as "mx1.gmail.com" for
        # "gmail.com", so the parent domains are the candidates.
        labels = name.split(".")
        for start in range(1, len(labels) - 1):
            parent = ".".join(labels[start:])
            if name in (self._mx_hosts(parent) or ()):
                return LOOPBACK_ADDRESS
        return None

    def _is_known_domain(self, name: str) -> bool:
        if name in self._extra_mx:
            return True
        return self._directory is not None and self._directory.company_by_domain(name) is not None


def _mx_records(hosts: Sequence[str]) -> list[str]:
    if tuple(hosts) == (_NULL_MX,):
        return ["0 ."]
    return [f"{position * _MX_PREFERENCE_STEP} {host}." for position, host in enumerate(hosts, start=1)]


def _canonical(name: str) -> str:
    stripped = name.strip().lower()
    return stripped if stripped == _NULL_MX else stripped.rstrip(".")
