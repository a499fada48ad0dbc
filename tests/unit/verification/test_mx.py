from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from cascade.verification import mx
from cascade.verification.mx import DnsMxResolver, MxAnswer, MxStatus, StaticMxResolver, answer_from_records

# --- StaticMxResolver and record parsing ---------------------------------------------------------


def test_static_mx_parses_preference_and_host() -> None:
    answer = StaticMxResolver({"example.com": ["20 mx2.example.com", "10 mx1.example.com"]}).resolve_mx("example.com")
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((10, "mx1.example.com"), (20, "mx2.example.com"))
    assert answer.host_names == ("mx1.example.com", "mx2.example.com")


def test_static_mx_bare_hosts_keep_given_order() -> None:
    answer = StaticMxResolver({"example.com": ["b.example.com", "a.example.com"]}).resolve_mx("example.com")
    assert answer.hosts == ((10, "b.example.com"), (20, "a.example.com"))


def test_static_mx_lowercases_and_drops_root_dot() -> None:
    answer = StaticMxResolver({"Example.COM.": ["10 MX1.Example.com."]}).resolve_mx("EXAMPLE.com")
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((10, "mx1.example.com"),)


def test_static_mx_null_mx_is_no_mx() -> None:
    answer = StaticMxResolver({"example.com": ["0 ."]}).resolve_mx("example.com")
    assert answer.status is MxStatus.NO_MX
    assert answer.hosts == ()
    assert answer.detail is not None
    assert "null MX" in answer.detail


def test_static_mx_empty_entry_is_no_mx() -> None:
    answer = StaticMxResolver({"example.com": []}).resolve_mx("example.com")
    assert answer.status is MxStatus.NO_MX
    assert answer.hosts == ()


def test_static_mx_missing_domain_is_no_domain() -> None:
    answer = StaticMxResolver({"example.com": ["mx.example.com"]}).resolve_mx("example.org")
    assert answer.status is MxStatus.NO_DOMAIN
    assert answer.hosts == ()


@pytest.mark.parametrize("entry", ["10 mx.example.com extra", "high mx.example.com", ""])
def test_static_mx_rejects_malformed_entry(entry: str) -> None:
    with pytest.raises(ValueError, match="static MX entry"):
        StaticMxResolver({"example.com": [entry]})


def test_answer_from_records_mixed_null_mx() -> None:
    answer = answer_from_records([(0, "."), (10, "mx.example.com.")])
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((10, "mx.example.com"),)


def test_answer_from_records_sorts_equal_preferences_by_host() -> None:
    answer = answer_from_records([(10, "b.example.com."), (10, "a.example.com."), (5, "c.example.com.")])
    assert answer.hosts == ((5, "c.example.com"), (10, "a.example.com"), (10, "b.example.com"))


def test_answer_from_records_drops_duplicates() -> None:
    answer = answer_from_records([(10, "mx.example.com."), (10, "MX.example.com")])
    assert answer.hosts == ((10, "mx.example.com"),)


# --- DnsMxResolver with a scripted dnspython resolver ---------------------------------------------


def _mx(text: str) -> Any:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, text)


def _a(text: str) -> Any:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, text)


class _ScriptedResolver(dns.resolver.Resolver):
    """A dnspython resolver that returns scripted records or raises scripted errors, without sockets.

    Names missing from the script do not exist (NXDOMAIN).
    """

    def __init__(self, script: Mapping[tuple[str, str], Sequence[Any] | Exception]) -> None:
        super().__init__(configure=False)
        self.script = dict(script)
        self.queries: list[tuple[str, str]] = []

    def resolve(self, qname: Any, rdtype: Any = "A", *args: Any, **kwargs: Any) -> Any:
        dns.name.from_text(str(qname))  # raises on names that are not valid DNS names, as dnspython does
        key = (str(qname), str(rdtype))
        self.queries.append(key)
        outcome = self.script.get(key, dns.resolver.NXDOMAIN())
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_dns_mx_found_sorted_by_preference() -> None:
    scripted = _ScriptedResolver({("example.com", "MX"): [_mx("20 mx2.example.com."), _mx("10 mx1.example.com.")]})
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((10, "mx1.example.com"), (20, "mx2.example.com"))


def test_dns_mx_nxdomain_is_no_domain() -> None:
    answer = DnsMxResolver(_ScriptedResolver({})).resolve_mx("missing.example")
    assert answer.status is MxStatus.NO_DOMAIN


def test_dns_mx_implicit_from_a() -> None:
    scripted = _ScriptedResolver(
        {("example.com", "MX"): dns.resolver.NoAnswer(), ("example.com", "A"): [_a("192.0.2.10")]}
    )
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((0, "example.com"),)
    assert answer.detail is not None
    assert "implicit MX" in answer.detail


def test_dns_mx_implicit_from_aaaa() -> None:
    scripted = _ScriptedResolver(
        {
            ("example.com", "MX"): dns.resolver.NoAnswer(),
            ("example.com", "A"): dns.resolver.NoAnswer(),
            ("example.com", "AAAA"): [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.AAAA, "2001:db8::1")],
        }
    )
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.FOUND
    assert answer.hosts == ((0, "example.com"),)


def test_dns_mx_no_records_is_no_mx() -> None:
    scripted = _ScriptedResolver(
        {
            ("example.com", "MX"): dns.resolver.NoAnswer(),
            ("example.com", "A"): dns.resolver.NoAnswer(),
            ("example.com", "AAAA"): dns.resolver.NoAnswer(),
        }
    )
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.NO_MX


def test_dns_mx_null_mx_is_no_mx() -> None:
    scripted = _ScriptedResolver({("example.com", "MX"): [_mx("0 .")]})
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.NO_MX
    assert answer.detail is not None
    assert "RFC 7505" in answer.detail


@pytest.mark.parametrize(
    "error",
    [dns.exception.Timeout(timeout=3.0), dns.resolver.NoNameservers(), dns.resolver.YXDOMAIN()],
    ids=["timeout", "servfail", "yxdomain"],
)
def test_dns_mx_failures_are_errors(error: Exception) -> None:
    scripted = _ScriptedResolver({("example.com", "MX"): error})
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.ERROR
    assert answer.hosts == ()


def test_dns_mx_timeout_of_implicit_lookup_is_error() -> None:
    scripted = _ScriptedResolver(
        {("example.com", "MX"): dns.resolver.NoAnswer(), ("example.com", "A"): dns.exception.Timeout(timeout=3.0)}
    )
    answer = DnsMxResolver(scripted).resolve_mx("example.com")
    assert answer.status is MxStatus.ERROR


@pytest.mark.parametrize("domain", ["", "a" * 64 + ".example.com"])
def test_dns_mx_invalid_name_is_no_domain(domain: str) -> None:
    answer = DnsMxResolver(_ScriptedResolver({})).resolve_mx(domain)
    assert answer.status is MxStatus.NO_DOMAIN


def test_dns_mx_queries_canonical_name() -> None:
    scripted = _ScriptedResolver({("example.com", "MX"): [_mx("10 mx.example.com.")]})
    DnsMxResolver(scripted).resolve_mx(" Example.COM. ")
    assert scripted.queries == [("example.com", "MX")]


def test_dns_mx_caches_answer_within_ttl() -> None:
    clock = _Clock()
    scripted = _ScriptedResolver({("example.com", "MX"): [_mx("10 mx.example.com.")]})
    resolver = DnsMxResolver(scripted, cache_ttl_seconds=60.0, clock=clock)
    first = resolver.resolve_mx("example.com")
    clock.now += 59.0
    second = resolver.resolve_mx("EXAMPLE.com")
    assert second == first
    assert scripted.queries == [("example.com", "MX")]


def test_dns_mx_cache_expires_after_ttl() -> None:
    clock = _Clock()
    scripted = _ScriptedResolver({("example.com", "MX"): [_mx("10 mx.example.com.")]})
    resolver = DnsMxResolver(scripted, cache_ttl_seconds=60.0, clock=clock)
    resolver.resolve_mx("example.com")
    clock.now += 60.0
    resolver.resolve_mx("example.com")
    assert len(scripted.queries) == 2


def test_dns_mx_caches_negative_answer() -> None:
    scripted = _ScriptedResolver({})
    resolver = DnsMxResolver(scripted, clock=_Clock())
    resolver.resolve_mx("missing.example")
    resolver.resolve_mx("missing.example")
    assert len(scripted.queries) == 1


def test_dns_mx_does_not_cache_error() -> None:
    scripted = _ScriptedResolver({("example.com", "MX"): dns.exception.Timeout(timeout=3.0)})
    resolver = DnsMxResolver(scripted, clock=_Clock())
    resolver.resolve_mx("example.com")
    resolver.resolve_mx("example.com")
    assert len(scripted.queries) == 2


def test_dns_mx_cache_ttl_zero_disables_cache() -> None:
    scripted = _ScriptedResolver({("example.com", "MX"): [_mx("10 mx.example.com.")]})
    resolver = DnsMxResolver(scripted, cache_ttl_seconds=0.0, clock=_Clock())
    resolver.resolve_mx("example.com")
    resolver.resolve_mx("example.com")
    assert len(scripted.queries) == 2


def test_dns_mx_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mx, "_MAX_CACHE_ENTRIES", 3)
    scripted = _ScriptedResolver({})
    resolver = DnsMxResolver(scripted, clock=_Clock())
    for index in range(5):
        resolver.resolve_mx(f"d{index}.example")
    # The oldest entries were evicted, so d0 is looked up again and d4 is still cached.
    resolver.resolve_mx("d0.example")
    resolver.resolve_mx("d4.example")
    assert scripted.queries.count(("d0.example", "MX")) == 2
    assert scripted.queries.count(("d4.example", "MX")) == 1


def test_dns_mx_builds_no_resolver_until_first_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[bool] = []

    def _record_build(*args: Any, **kwargs: Any) -> dns.resolver.Resolver:
        built.append(True)
        return _ScriptedResolver({})

    monkeypatch.setattr(dns.resolver, "Resolver", _record_build)
    resolver = DnsMxResolver()
    assert built == []
    resolver.resolve_mx("missing.example")
    assert built == [True]


def test_mx_answer_defaults_are_empty() -> None:
    answer = MxAnswer(MxStatus.NO_MX)
    assert answer.hosts == ()
    assert answer.host_names == ()
    assert answer.detail is None
