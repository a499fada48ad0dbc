"""SmtpVerifier and verify_email over real SMTP against the sandbox's loopback servers."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable, Iterator

import dns.resolver
import pytest

from cascade.domain.models import AttemptOutcome, EmailFlag, EmailVerdict
from cascade.verification.email import verify_email
from cascade.verification.mx import DnsMxResolver, MxResolver, StaticMxResolver
from cascade.verification.smtp import SmtpVerifier
from infra.sandbox.directory import Directory, SandboxPerson, default_directory
from infra.sandbox.dns import LoopbackDnsServer
from infra.sandbox.smtp import LoopbackSmtpServer

LOOPBACK = "127.0.0.1"
CATCH_ALL_CANDIDATES = ("ada.quill@example.net", "aquill@example.net")


@pytest.fixture(scope="module")
def directory() -> Directory:
    return default_directory()


@pytest.fixture(scope="module")
def directory_server(directory: Directory) -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer(directory) as running:
        yield running


@pytest.fixture(scope="module")
def catch_all_server() -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer(None, accept_all=True) as running:
        yield running


@pytest.fixture(scope="module")
def greylisting_server(directory: Directory) -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer(directory, greylist_all=True) as running:
        yield running


def _person(directory: Directory, predicate: Callable[[SandboxPerson], bool]) -> SandboxPerson:
    return next(person for person in directory.people if predicate(person))


def _valid_person(directory: Directory) -> SandboxPerson:
    return _person(
        directory, lambda p: p.email_status == "valid" and not p.company.catch_all and bool(p.company.mx_hosts)
    )


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _verifier(resolver: MxResolver, port: int, *, timeout: float = 2.0) -> SmtpVerifier:
    return SmtpVerifier(
        resolver, helo_host="verifier.sandbox.invalid", mail_from="probe@sandbox.invalid", port=port, timeout=timeout
    )


def _loopback_verifier(port: int, *addresses: str) -> SmtpVerifier:
    """A verifier whose MX lookup sends every address's domain to the loopback server."""
    return _verifier(StaticMxResolver({_domain(address): [LOOPBACK] for address in addresses}), port)


# --- (a) a catch-all server -------------------------------------------------------------------------------


@pytest.mark.parametrize("address", CATCH_ALL_CANDIDATES)
def test_smtp_catch_all_server_never_valid(catch_all_server: LoopbackSmtpServer, address: str) -> None:
    result = _loopback_verifier(catch_all_server.port, address).verify(address)
    assert result.outcome is AttemptOutcome.FOUND
    # CATCH_ALL and never VALID: the random probe address was accepted too.
    assert result.verdict is EmailVerdict.CATCH_ALL


def test_smtp_catch_all_probe_sent_before_candidate(catch_all_server: LoopbackSmtpServer) -> None:
    already = len(catch_all_server.checks)
    verifier = _loopback_verifier(catch_all_server.port, *CATCH_ALL_CANDIDATES)
    for address in CATCH_ALL_CANDIDATES:
        verifier.verify(address)
    checks = catch_all_server.checks[already:]
    assert [check.address for check in checks[1::2]] == list(CATCH_ALL_CANDIDATES)
    probes = [check.address for check in checks[0::2]]
    assert len(set(probes)) == 2
    assert all(probe.endswith("@example.net") for probe in probes)
    assert not set(probes) & set(CATCH_ALL_CANDIDATES)
    assert all(check.code == 250 for check in checks)


def test_smtp_catch_all_directory_domain(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    person = _person(directory, lambda p: p.company.catch_all and bool(p.company.mx_hosts))
    result = _loopback_verifier(directory_server.port, person.email).verify(person.email)
    assert result.verdict is EmailVerdict.CATCH_ALL


# --- (b) a directory-backed server ------------------------------------------------------------------------


def test_smtp_valid_person_is_valid(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    person = _valid_person(directory)
    result = _loopback_verifier(directory_server.port, person.email).verify(person.email)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.VALID
    assert result.vendor_status == "250"
    assert result.latency_ms >= 0


def test_smtp_stale_address_is_invalid(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    person = _person(directory, lambda p: p.stale_email is not None)
    stale = person.stale_email or ""
    result = _loopback_verifier(directory_server.port, stale).verify(stale)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.INVALID
    assert result.vendor_status == "550"
    assert result.vendor_sub_status == "5.1.1"


@pytest.mark.parametrize("kind", ["person", "free_mail"])
def test_smtp_unknown_mailbox_is_greylisted(
    directory: Directory, directory_server: LoopbackSmtpServer, kind: str
) -> None:
    if kind == "person":
        address = _person(directory, lambda p: p.email_status == "unknown").email
    else:
        address = "ada.quill@gmail.com"
    result = _loopback_verifier(directory_server.port, address).verify(address)
    assert result.outcome is AttemptOutcome.FOUND
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.vendor_status == "450"
    assert result.detail is not None
    assert "greylisting" in result.detail


def test_smtp_greylisting_server_defers_valid_person(
    directory: Directory, greylisting_server: LoopbackSmtpServer
) -> None:
    person = _valid_person(directory)
    result = _loopback_verifier(greylisting_server.port, person.email).verify(person.email)
    assert result.verdict is EmailVerdict.UNKNOWN


def test_smtp_role_address_flagged(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    person = _valid_person(directory)
    address = f"sales@{person.company.domain}"
    result = _loopback_verifier(directory_server.port, address).verify(address)
    assert result.verdict is EmailVerdict.VALID
    assert result.flags == frozenset({EmailFlag.ROLE})


# --- (c) unreachable servers ------------------------------------------------------------------------------


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but not listening, so connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind((LOOPBACK, 0))
        yield bound.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections into its backlog and never sends a greeting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.bind((LOOPBACK, 0))
        listening.listen(8)
        yield listening.getsockname()[1]


def test_smtp_connection_refused_is_transient(refusing_port: int) -> None:
    address = "ada.quill@example.net"
    result = _loopback_verifier(refusing_port, address).verify(address)
    assert result.outcome is AttemptOutcome.TRANSIENT_ERROR
    assert result.verdict is EmailVerdict.UNKNOWN
    assert result.detail == "no connection to any of 1 mail host(s): connect failed (ConnectionRefusedError)"


def test_smtp_silent_server_times_out(silent_port: int) -> None:
    resolver = StaticMxResolver({"example.net": [LOOPBACK]})
    result = _verifier(resolver, silent_port, timeout=0.5).verify("ada.quill@example.net")
    assert result.outcome is AttemptOutcome.TIMEOUT
    assert result.latency_ms >= 500


def test_smtp_next_host_after_refused(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    # Nothing listens on 127.0.0.2 at the server's port, because the server binds 127.0.0.1 only.
    person = _valid_person(directory)
    resolver = StaticMxResolver({person.company.domain: ["10 127.0.0.2", f"20 {LOOPBACK}"]})
    result = _verifier(resolver, directory_server.port).verify(person.email)
    assert result.verdict is EmailVerdict.VALID


# --- the server itself ------------------------------------------------------------------------------------


def test_smtp_server_rejects_data(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    person = _valid_person(directory)
    with smtplib.SMTP(LOOPBACK, directory_server.port, local_hostname="client.sandbox.invalid", timeout=2) as client:
        client.ehlo()
        with pytest.raises(smtplib.SMTPDataError) as raised:
            client.sendmail("probe@sandbox.invalid", [person.email], b"Subject: test\r\n\r\nhello\r\n")
    assert raised.value.smtp_code == 554


def test_smtp_server_rejects_contradicting_modes() -> None:
    with pytest.raises(ValueError, match="contradict"):
        LoopbackSmtpServer(None, accept_all=True, greylist_all=True)


def test_smtp_server_needs_directory_without_mode() -> None:
    with pytest.raises(ValueError, match="directory is required"):
        LoopbackSmtpServer(None)


# --- verify_email over the loopback servers ---------------------------------------------------------------


def test_verify_email_smtp_decides(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    person = _valid_person(directory)
    resolver = StaticMxResolver({person.company.domain: [LOOPBACK]})
    result = verify_email(person.email, mx_resolver=resolver, verifiers=[_verifier(resolver, directory_server.port)])
    assert result.verdict is EmailVerdict.VALID
    assert result.verifier == "smtp"
    assert [attempt.outcome for attempt in result.attempts] == [AttemptOutcome.FOUND]


def test_verify_email_skips_unreachable_verifier(
    directory: Directory, directory_server: LoopbackSmtpServer, refusing_port: int
) -> None:
    person = _person(directory, lambda p: p.stale_email is not None)
    stale = person.stale_email or ""
    resolver = StaticMxResolver({_domain(stale): [LOOPBACK]})
    verifiers = [_verifier(resolver, refusing_port), _verifier(resolver, directory_server.port)]
    result = verify_email(stale, mx_resolver=resolver, verifiers=verifiers)
    assert result.verdict is EmailVerdict.INVALID
    assert [attempt.outcome for attempt in result.attempts] == [AttemptOutcome.TRANSIENT_ERROR, AttemptOutcome.FOUND]


def test_verify_email_through_loopback_dns(directory: Directory, directory_server: LoopbackSmtpServer) -> None:
    # The loopback DNS server names 127.0.0.1 as the domain's mail host, so the SMTP connection
    # needs no further name lookup.
    person = _valid_person(directory)
    with LoopbackDnsServer(directory, extra_mx={person.company.domain: [LOOPBACK]}) as dns_server:
        stub = dns.resolver.Resolver(configure=False)
        stub.nameservers = [dns_server.host]
        stub.port = dns_server.port
        resolver = DnsMxResolver(stub, lifetime=2.0)
        result = verify_email(
            person.email, mx_resolver=resolver, verifiers=[_verifier(resolver, directory_server.port)]
        )
    assert result.mx is not None
    assert result.mx.host_names == (LOOPBACK,)
    assert result.verdict is EmailVerdict.VALID
