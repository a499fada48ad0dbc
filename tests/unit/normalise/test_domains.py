from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.normalise import domains
from cascade.normalise.domains import (
    Domain,
    is_disposable_domain,
    is_free_mail_domain,
    normalise_company_domain,
    normalise_domain,
)
from cascade.normalise.notes import NoteKind, has_rejection

BUECHERSTUBE_ASCII = "xn--bcherstube-beispiel-59b.de"
BUECHERSTUBE_DISPLAY = "bücherstube-beispiel.de"


def _fullwidth(text: str) -> str:
    """Spell ASCII text in fullwidth forms, as East Asian input methods produce it."""
    return "".join(chr(ord(character) + 0xFEE0) for character in text)


def _codes(result: Domain, kind: NoteKind) -> list[str]:
    return [note.code for note in result.notes if note.kind is kind]


@pytest.mark.parametrize(
    ("value", "ascii_domain", "display", "host"),
    [
        # Private Public Suffix List entries keep companies apart.
        ("https://www.example.uk.com/about", "example.uk.com", "example.uk.com", "example.uk.com"),
        ("https://example.github.io/team", "example.github.io", "example.github.io", "example.github.io"),
        ("https://docs.example.github.io/", "example.github.io", "example.github.io", "docs.example.github.io"),
        ("shop.example.co.uk", "example.co.uk", "example.co.uk", "shop.example.co.uk"),
        # A host that is itself a private suffix belongs to the operator of that suffix.
        ("github.io", "github.io", "github.io", "github.io"),
        # Unicode and punycode spellings share one key.
        ("bücherstube-beispiel.de", BUECHERSTUBE_ASCII, BUECHERSTUBE_DISPLAY, BUECHERSTUBE_ASCII),
        (BUECHERSTUBE_ASCII, BUECHERSTUBE_ASCII, BUECHERSTUBE_DISPLAY, BUECHERSTUBE_ASCII),
        (BUECHERSTUBE_ASCII.upper(), BUECHERSTUBE_ASCII, BUECHERSTUBE_DISPLAY, BUECHERSTUBE_ASCII),
        ("Bücherstube-Beispiel.DE", BUECHERSTUBE_ASCII, BUECHERSTUBE_DISPLAY, BUECHERSTUBE_ASCII),
        ("https://b%C3%BCcherstube-beispiel.de/", BUECHERSTUBE_ASCII, BUECHERSTUBE_DISPLAY, BUECHERSTUBE_ASCII),
        ("https://www.пример.рф/", "xn--e1afmkfd.xn--p1ai", "пример.рф", "xn--e1afmkfd.xn--p1ai"),
        # Fullwidth letters and ideographic full stops map to ASCII.
        (_fullwidth("EXAMPLE.com"), "example.com", "example.com", "example.com"),
        ("example。com", "example.com", "example.com", "example.com"),
        # URL parts, case, trailing dot and www are dropped.
        ("https://user:secret@WWW.Example.COM.:8443/path?q=1#top", "example.com", "example.com", "example.com"),
        ("http://example.com:8080", "example.com", "example.com", "example.com"),
        ("example.com/about/team", "example.com", "example.com", "example.com"),
        ("//example.com/about", "example.com", "example.com", "example.com"),
        ("example.com.", "example.com", "example.com", "example.com"),
        ("  <https://www.example.com/>  ", "example.com", "example.com", "example.com"),
        ("'example.com'", "example.com", "example.com", "example.com"),
        ("\ufeffexample.com", "example.com", "example.com", "example.com"),
        ("www.mail.example.com", "example.com", "example.com", "mail.example.com"),
        # An email address contributes its domain.
        ("ada@example.com", "example.com", "example.com", "example.com"),
        ("Ada Quill <ada@Mail.Example.com>", "example.com", "example.com", "mail.example.com"),
        ("mailto:ada@example.co.uk?subject=Hello", "example.co.uk", "example.co.uk", "example.co.uk"),
        # The example domains of RFC 2606 are valid syntax.
        ("example.net", "example.net", "example.net", "example.net"),
        ("example.org", "example.org", "example.org", "example.org"),
        # "www" is only dropped when it is not itself the registrable label.
        ("www.co.uk", "www.co.uk", "www.co.uk", "www.co.uk"),
    ],
)
def test_normalise_domain_accepted(value: str, ascii_domain: str, display: str, host: str) -> None:
    result = normalise_domain(value)
    assert result.ascii == ascii_domain
    assert result.display == display
    assert result.host == host
    assert not has_rejection(result.notes)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "missing_domain"),
        ("   ", "missing_domain"),
        ("https://", "missing_domain"),
        ("mailto:", "missing_domain"),
        ("ada@", "missing_domain"),
        ("intranet", "unknown_suffix"),
        ("http://intranet/wiki", "unknown_suffix"),
        ("example.c0m", "unknown_suffix"),
        ("localhost", "reserved_domain"),
        ("quillon.test", "reserved_domain"),
        ("https://www.quillon.test/about", "reserved_domain"),
        ("billing.invalid", "reserved_domain"),
        ("printer.local", "reserved_domain"),
        ("dev.localhost", "reserved_domain"),
        ("quillon.example", "reserved_domain"),
        ("example", "reserved_domain"),
        ("abcdefghijklmnop.onion", "reserved_domain"),
        ("router.home.arpa", "reserved_domain"),
        ("service.internal", "reserved_domain"),
        ("QUILLON.TEST.", "reserved_domain"),
        ("quillon" + _fullwidth(".test"), "reserved_domain"),
        ("127.0.0.1", "ip_address"),
        ("http://192.0.2.1:8080/login", "ip_address"),
        (_fullwidth("192.0.2.1"), "ip_address"),
        ("2001:db8::1", "ip_address"),
        ("http://[2001:db8::1]/", "ip_address"),
        ("ada@192.0.2.1", "ip_address"),
        ("co.uk", "public_suffix_only"),
        ("com", "public_suffix_only"),
        ("Quillon Widgets", "invalid_domain"),
        ("exa mple.com", "invalid_domain"),
        ("-quillon.com", "invalid_domain"),
        ("quillon-.com", "invalid_domain"),
        ("quillon..com", "invalid_domain"),
        ("quillon.com..", "invalid_domain"),
        (".quillon.com", "invalid_domain"),
        ("quillon_widgets.com", "invalid_domain"),
        ("ab--quillon.com", "invalid_domain"),
        ("xn--zz.com", "invalid_domain"),
        ("😀.com", "invalid_domain"),
        ("a" * 64 + ".com", "invalid_domain"),
        (".".join(["a"] * 130) + ".com", "invalid_domain"),
        ("a" * 2000 + ".com", "invalid_domain"),
        ("http://[::1", "invalid_domain"),
        ("https://example%FF.com/", "invalid_domain"),
        ("N/A", "unknown_suffix"),
    ],
)
def test_normalise_domain_rejected(value: str, code: str) -> None:
    result = normalise_domain(value)
    assert _codes(result, NoteKind.REJECTED) == [code]
    assert result.ascii is None
    assert result.display is None
    assert result.host is None


@pytest.mark.parametrize("value", ["localhost", "quillon.test", "192.0.2.1", "co.uk", "Quillon Widgets"])
def test_normalise_domain_rejection_names_value(value: str) -> None:
    message = normalise_domain(value).notes[0].message
    assert repr(value) in message
    assert "Send the company's own website" in message


def test_normalise_domain_message_truncates_value() -> None:
    message = normalise_domain("a" * 2000 + ".com").notes[0].message
    assert len(message) < 300


@pytest.mark.parametrize(
    ("value", "ascii_domain", "host"),
    [
        ("gmail.com", "gmail.com", "gmail.com"),
        ("GMAIL.COM.", "gmail.com", "gmail.com"),
        ("googlemail.com", "googlemail.com", "googlemail.com"),
        ("ada.quill@gmail.com", "gmail.com", "gmail.com"),
        ("https://mail.yahoo.co.uk/", "yahoo.co.uk", "mail.yahoo.co.uk"),
        ("hotmail.co.uk", "hotmail.co.uk", "hotmail.co.uk"),
        ("web.de", "web.de", "web.de"),
    ],
)
def test_normalise_domain_free_mail_flagged(value: str, ascii_domain: str, host: str) -> None:
    result = normalise_domain(value)
    assert result.ascii == ascii_domain
    assert result.host == host
    assert result.is_free_mail
    assert not result.is_disposable
    assert _codes(result, NoteKind.FLAGGED) == ["free_mail_domain"]


def test_normalise_domain_disposable_flagged() -> None:
    result = normalise_domain("https://www.mailinator.com/")
    assert result.ascii == "mailinator.com"
    assert result.is_disposable
    assert not result.is_free_mail
    assert _codes(result, NoteKind.FLAGGED) == ["disposable_domain"]


def test_normalise_domain_company_not_flagged() -> None:
    result = normalise_domain("https://www.example.com/")
    assert not result.is_free_mail
    assert not result.is_disposable
    assert result.notes == ()


@pytest.mark.parametrize("value", ["gmail.com", "https://www.gmail.com/", "ada@googlemail.com", "Outlook.com"])
def test_normalise_company_domain_free_mail_rejected(value: str) -> None:
    result = normalise_company_domain(value)
    assert _codes(result, NoteKind.REJECTED) == ["free_mail_domain"]
    assert _codes(result, NoteKind.FLAGGED) == []
    assert result.is_free_mail
    assert result.ascii is None
    assert result.host is None


def test_normalise_company_domain_free_mail_message() -> None:
    message = normalise_company_domain("gmail.com").notes[0].message
    assert "'gmail.com'" in message
    assert "employer's own website" in message


def test_normalise_company_domain_disposable_rejected() -> None:
    result = normalise_company_domain("mailinator.com")
    assert _codes(result, NoteKind.REJECTED) == ["disposable_domain"]
    assert result.is_disposable
    assert result.ascii is None
    assert "employer's own website" in result.notes[0].message


@pytest.mark.parametrize("value", ["https://www.example.uk.com/about", "bücherstube-beispiel.de", "localhost", ""])
def test_normalise_company_domain_same_as_domain_otherwise(value: str) -> None:
    assert normalise_company_domain(value) == normalise_domain(value)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmail.com", True),
        ("GMAIL.COM.", True),
        ("mail.gmail.com", True),
        ("yahoo.co.jp", True),
        ("example.com", False),
        ("gmail.com.example.net", False),
        ("notgmail.com", False),
        ("com", False),
        ("", False),
    ],
)
def test_is_free_mail_domain(domain: str, expected: bool) -> None:
    assert is_free_mail_domain(domain) is expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mailinator.com", True),
        ("inbox.mailinator.com", True),
        ("example.com", False),
        ("gmail.com", False),
        ("", False),
    ],
)
def test_is_disposable_domain(domain: str, expected: bool) -> None:
    assert is_disposable_domain(domain) is expected


def _free_mail_lines() -> list[str]:
    text = resources.files("cascade.normalise.data").joinpath("free_mail_domains.txt").read_text("utf-8")
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for name in names if name]


def test_free_mail_list_size() -> None:
    assert len(_free_mail_lines()) >= 150


def test_free_mail_list_no_duplicates() -> None:
    lines = _free_mail_lines()
    assert len(lines) == len(set(lines))


def test_free_mail_list_entries_registrable() -> None:
    not_registrable = [name for name in _free_mail_lines() if normalise_domain(name).ascii != name]
    assert not_registrable == []


def test_free_mail_list_not_disposable() -> None:
    assert [name for name in _free_mail_lines() if is_disposable_domain(name)] == []


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
        "126.com",
        "proton.me",
        "protonmail.com",
        "zohomail.com",
        "naver.com",
        "hanmail.net",
        "rediffmail.com",
        "libero.it",
        "orange.fr",
        "free.fr",
        "t-online.de",
        "btinternet.com",
        "comcast.net",
    ],
)
def test_free_mail_list_major_providers(domain: str) -> None:
    assert is_free_mail_domain(domain)


def test_suffix_list_offline_despite_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The network is blocked in unit tests, so any fetch of the suffix list would raise here.
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "https://publicsuffix.invalid/list.dat")
    domains._suffix_extractor.cache_clear()
    try:
        result = normalise_domain("https://example.github.io/team")
    finally:
        domains._suffix_extractor.cache_clear()
    assert result.ascii == "example.github.io"


def test_suffix_list_extractor_never_fetches() -> None:
    extractor = domains._suffix_extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor.fallback_to_snapshot


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_UNICODE_LABEL = st.text(alphabet="abcxyzüößéñçłå", min_size=1, max_size=10)
_SUFFIX = st.sampled_from(["com", "co.uk", "de", "github.io", "uk.com", "рф", "xn--p1ai", "com.au", "io"])


@st.composite
def _domain_names(draw: st.DrawFn) -> str:
    labels = draw(st.lists(st.one_of(_LABEL, _UNICODE_LABEL), min_size=1, max_size=3))
    return ".".join([*labels, draw(_SUFFIX)])


@st.composite
def _website_values(draw: st.DrawFn) -> str:
    name = draw(_domain_names())
    if draw(st.booleans()):
        name = name.upper()
    scheme = draw(st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]))
    www = draw(st.sampled_from(["", "www.", "WWW."]))
    port = draw(st.sampled_from(["", ":8080", ":443"]))
    path = draw(st.sampled_from(["", "/", "/about", "/a/b?x=1#top", "?utm_source=x"]))
    dot = draw(st.sampled_from(["", "."]))
    return f"{scheme}{www}{name}{dot}{port}{path}"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalise_domain_never_raises(value: str) -> None:
    result = normalise_domain(value)
    assert (result.ascii is None) == has_rejection(result.notes)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_website_values(), st.text(alphabet="abc.:/@[]%-_ 。" + _fullwidth(".e"), max_size=30)))
def test_normalise_company_domain_never_raises(value: str) -> None:
    result = normalise_company_domain(value)
    assert (result.ascii is None) == has_rejection(result.notes)


@settings(max_examples=200, deadline=None)
@given(_website_values())
def test_normalise_domain_idempotent(value: str) -> None:
    result = normalise_domain(value)
    if result.ascii is None or result.display is None or result.host is None:
        return
    again = normalise_domain(result.ascii)
    assert again.ascii == result.ascii
    assert again.display == result.display
    assert again.host == result.ascii
    assert normalise_domain(result.display) == again
    assert normalise_domain(again.ascii or "") == again
    from_host = normalise_domain(result.host)
    assert from_host.ascii == result.ascii
    assert from_host.host == result.host
