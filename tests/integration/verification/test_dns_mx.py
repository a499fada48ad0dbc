"""DnsMxResolver over real UDP against the sandbox's loopback DNS server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dns.resolver
import pytest

from cascade.verification.mx import DnsMxResolver, MxStatus
from infra.sandbox.directory import Directory, SandboxCompany, default_directory
from infra.sandbox.dns import LoopbackDnsServer

NULL_MX_DOMAIN = "null-mx.example"
IMPLICIT_MX_DOMAIN = "implicit-mx.example"
BROKEN_DOMAIN = "servfail.example"
UNKNOWN_DOMAIN = "no-such-company.example"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return default_directory()


@pytest.fixture(scope="module")
def server(directory: Directory) -> Iterator[LoopbackDnsServer]:
    with LoopbackDnsServer(
        directory,
        extra_mx={NULL_MX_DOMAIN: ["."]},
        extra_addresses={IMPLICIT_MX_DOMAIN: "127.0.0.1"},
        failing=[BROKEN_DOMAIN],
    ) as running:
        yield running


def _dns(server: LoopbackDnsServer) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    return resolver


@pytest.fixture
def resolver(server: LoopbackDnsServer) -> DnsMxResolver:
    return DnsMxResolver(_dns(server), lifetime=2.0)


def _company(directory: Directory, *, own_mx: bool) -> SandboxCompany:
    for company in directory.companies:
        if own_mx and company.mx_hosts and company.mx_hosts[0] == f"mx1.{company.domain}":
            return company
        if not own_mx and not company.mx_hosts:
            return company
    raise LookupError("the directory has no company of the requested kind")


def test_dns_mx_found_own_hosts(resolver: DnsMxResolver, directory: Directory) -> None:
    company = _company(directory, own_mx=True)
    answer = resolver.resolve_mx(company.domain)
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((10, f"mx1.{company.domain}"), (20, f"mx2.{company.domain}"))


def test_dns_mx_found_hosted_mail(resolver: DnsMxResolver, directory: Directory) -> None:
    company = next(company for company in directory.companies if len(company.mx_hosts) == 3)
    answer = resolver.resolve_mx(company.domain.upper())
    assert answer.status is MxStatus.FOUND
    assert answer.host_names == company.mx_hosts


def test_dns_mx_found_free_mail(resolver: DnsMxResolver) -> None:
    answer = resolver.resolve_mx("gmail.com")
    assert answer.status is MxStatus.FOUND
    assert answer.host_names == ("mx1.gmail.com", "mx2.gmail.com")


def test_dns_mx_unknown_domain_is_no_domain(resolver: DnsMxResolver) -> None:
    answer = resolver.resolve_mx(UNKNOWN_DOMAIN)
    assert answer.status is MxStatus.NO_DOMAIN
    assert answer.hosts == ()


def test_dns_mx_company_without_mx_is_no_mx(resolver: DnsMxResolver, directory: Directory) -> None:
    company = _company(directory, own_mx=False)
    answer = resolver.resolve_mx(company.domain)
    assert answer.status is MxStatus.NO_MX
    assert answer.hosts == ()


def test_dns_mx_null_mx_is_no_mx(resolver: DnsMxResolver) -> None:
    answer = resolver.resolve_mx(NULL_MX_DOMAIN)
    assert answer.status is MxStatus.NO_MX
    assert answer.detail is not None
    assert "RFC 7505" in answer.detail


def test_dns_mx_implicit_mx_from_a_record(resolver: DnsMxResolver) -> None:
    answer = resolver.resolve_mx(IMPLICIT_MX_DOMAIN)
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((0, IMPLICIT_MX_DOMAIN),)


def test_dns_mx_servfail_is_error(resolver: DnsMxResolver) -> None:
    answer = resolver.resolve_mx(BROKEN_DOMAIN)
    assert answer.status is MxStatus.ERROR


def test_dns_mx_silent_server_is_error() -> None:
    # A bound socket that never reads: queries reach it and no reply ever comes back.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        silent = dns.resolver.Resolver(configure=False)
        silent.nameservers = ["127.0.0.1"]
        silent.port = sink.getsockname()[1]
        answer = DnsMxResolver(silent, lifetime=0.5).resolve_mx("gmail.com")
    assert answer.status is MxStatus.ERROR
    assert answer.detail is not None
    assert "timed out" in answer.detail


def test_dns_mx_second_lookup_served_from_cache(resolver: DnsMxResolver, server: LoopbackDnsServer) -> None:
    before = server.query_count("yahoo.com", "MX")
    first = resolver.resolve_mx("yahoo.com")
    second = resolver.resolve_mx("yahoo.com")
    assert second == first
    assert server.query_count("yahoo.com", "MX") == before + 1


def test_dns_server_answers_mx_host_with_loopback(server: LoopbackDnsServer, directory: Directory) -> None:
    company = next(company for company in directory.companies if len(company.mx_hosts) == 3)
    for host in (company.mx_hosts[0], "mx1.gmail.com"):
        answer = _dns(server).resolve(host, "A", search=False)
        assert [record.to_text() for record in answer] == ["127.0.0.1"]


def test_dns_server_known_domain_has_no_address(server: LoopbackDnsServer) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        _dns(server).resolve("gmail.com", "A", search=False)


def test_dns_server_unknown_name_is_nxdomain(server: LoopbackDnsServer) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        _dns(server).resolve(f"mx1.{UNKNOWN_DOMAIN}", "A", search=False)


def test_dns_server_drops_malformed_datagram(server: LoopbackDnsServer, resolver: DnsMxResolver) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.sendto(b"\x00\x01garbage", (server.host, server.port))
    # The server keeps answering after the malformed datagram.
    assert resolver.resolve_mx("gmail.com").status is MxStatus.FOUND


def test_dns_server_port_before_start_raises(directory: Directory) -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = LoopbackDnsServer(directory).port


def test_dns_server_stop_twice_is_harmless(directory: Directory) -> None:
    server = LoopbackDnsServer(directory).start()
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError, match="start"):
        _ = server.port
