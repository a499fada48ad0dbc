"""Normalise a company domain given as a bare domain, a website URL or an email address.

The key is the registrable domain (the public suffix plus one label) in lower-case ASCII.
Private entries of the Public Suffix List count as suffixes, so ``example.github.io`` and
``example.uk.com`` stay distinct companies instead of collapsing into ``github.io`` and
``uk.com``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import unquote, urlsplit

import idna
import tldextract
from disposable_email_domains import blocklist

from cascade.normalise.notes import Note, NoteKind, flagged, has_rejection, rejected

# Special-use top-level names that never belong to a real company: RFC 6761 (test, example, invalid,
# localhost), RFC 6762 (local), RFC 7686 (onion), RFC 9476 (alt), ICANN's private-use "internal",
# and the infrastructure domain arpa (which includes home.arpa from RFC 8375).
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost", "local", "onion", "alt", "internal", "arpa"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
# Characters that surround pasted values in spreadsheets and CRM fields but are never part of a host.
_SURROUNDING = "\u200b\u200c\u200d\u2060\ufeff<>\"'`"
# UTS 46 mapping cannot shrink a raw host this long to the 253 characters DNS allows. Rejecting it
# early keeps the per-character mapping cheap on junk input.
_MAX_RAW_HOST = 1024
_QUOTED_LENGTH = 80

_SEND_WEBSITE = "Send the company's own website, such as example.com."


@dataclass(frozen=True, slots=True)
class Domain:
    """A normalised domain with its provider flags.

    ``ascii`` is the registrable domain in lower-case ASCII (punycode) and is the key to store and
    compare. ``display`` is the same domain decoded to Unicode. ``host`` is the full host in
    lower-case ASCII without a leading ``www.``. The three values are ``None`` when a note rejects
    the input.
    """

    ascii: str | None
    display: str | None
    host: str | None
    is_free_mail: bool
    is_disposable: bool
    notes: tuple[Note, ...]


def normalise_domain(value: str) -> Domain:
    """Normalise a bare domain, a website URL or an email address to its registrable domain.

    Scheme, userinfo, port, path, query, fragment, a trailing dot, letter case and a leading
    ``www.`` are dropped, and an email address contributes its domain. Free-mail and disposable
    domains are accepted with flagged notes; use ``normalise_company_domain`` to reject them.
    """
    raw_host = _extract_host(value)
    if isinstance(raw_host, Note):
        return _rejected_domain(raw_host)

    ascii_host = _encode_host(value, raw_host)
    if isinstance(ascii_host, Note):
        return _rejected_domain(ascii_host)

    registrable = _registrable_domain(value, ascii_host)
    if isinstance(registrable, Note):
        return _rejected_domain(registrable)

    host = ascii_host
    if host.startswith("www.") and host != registrable:
        host = host.removeprefix("www.")

    is_free_mail = is_free_mail_domain(ascii_host)
    is_disposable = is_disposable_domain(ascii_host)
    notes: list[Note] = []
    if is_free_mail:
        notes.append(
            flagged("free_mail_domain", f"{registrable} is the domain of a free email provider, not a company.")
        )
    if is_disposable:
        notes.append(flagged("disposable_domain", f"{registrable} is the domain of a disposable email service."))
    return Domain(
        ascii=registrable,
        display=_display_form(registrable),
        host=host,
        is_free_mail=is_free_mail,
        is_disposable=is_disposable,
        notes=tuple(notes),
    )


def normalise_company_domain(value: str) -> Domain:
    """Normalise a domain that must belong to an employer.

    Works as ``normalise_domain`` but rejects free-mail and disposable domains, because a
    personal mailbox provider is never the employer. The flags stay set on the rejected result.
    """
    result = normalise_domain(value)
    if has_rejection(result.notes):
        return result

    quoted = _quoted(value)
    rejections: list[Note] = []
    if result.is_free_mail:
        rejections.append(
            rejected(
                "free_mail_domain",
                f"{quoted} is the domain of a free email provider ({result.ascii}), not a company domain. "
                "Send the employer's own website instead, or leave the company domain empty.",
            )
        )
    if result.is_disposable:
        rejections.append(
            rejected(
                "disposable_domain",
                f"{quoted} is the domain of a disposable email service ({result.ascii}), not a company "
                "domain. Send the employer's own website instead, or leave the company domain empty.",
            )
        )
    if not rejections:
        return result
    # The rejections replace the flagged notes about the same domain.
    other_notes = [note for note in result.notes if note.kind is not NoteKind.FLAGGED]
    return Domain(
        ascii=None,
        display=None,
        host=None,
        is_free_mail=result.is_free_mail,
        is_disposable=result.is_disposable,
        notes=(*other_notes, *rejections),
    )


def is_free_mail_domain(ascii_domain: str) -> bool:
    """Return whether the domain, or a domain it is under, is a free or consumer mail provider."""
    return _listed(ascii_domain, _free_mail_domains())


def is_disposable_domain(ascii_domain: str) -> bool:
    """Return whether the domain, or a domain it is under, is a disposable (throwaway) mail service."""
    return _listed(ascii_domain, _disposable_domains())


def _listed(ascii_domain: str, listed: frozenset[str]) -> bool:
    name = ascii_domain.strip().lower().removesuffix(".")
    labels = name.split(".")
    return any(".".join(labels[index:]) in listed for index in range(len(labels)))


@cache
def _free_mail_domains() -> frozenset[str]:
    text = resources.files("cascade.normalise.data").joinpath("free_mail_domains.txt").read_text("utf-8")
    names = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(name for name in names if name)


@cache
def _disposable_domains() -> frozenset[str]:
    return frozenset(name.strip().lower() for name in blocklist)


@cache
def _suffix_extractor() -> tldextract.TLDExtract:
    # An empty URL list and no cache directory make tldextract read only the Public Suffix List
    # snapshot bundled with the installed version: it never fetches and never writes to disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _extract_host(value: str) -> str | Note:
    """Return the host part of a domain, URL or email address, still undecoded."""
    text = _trim(value)
    if not text:
        return rejected("missing_domain", f"The domain is empty. {_SEND_WEBSITE}")

    quoted = _quoted(value)
    if _MAILTO.match(text):
        text = text[len("mailto:") :].split("?", 1)[0]

    if _SCHEME.match(text) or "@" not in text or "/" in text:
        url = text
        if not _SCHEME.match(text) and not text.startswith("//"):
            # Without "//" urlsplit would read "example.com:8080" as the scheme "example.com".
            url = "//" + text
        try:
            netloc = urlsplit(url).netloc
        except ValueError:
            return rejected("invalid_domain", f"{quoted} is not a valid website URL. {_SEND_WEBSITE}")
        host = netloc.rpartition("@")[2]
    else:
        host = text.rpartition("@")[2].split("?", 1)[0]

    if not host:
        return rejected("missing_domain", f"{quoted} contains no domain. {_SEND_WEBSITE}")
    if host.startswith("["):
        return _ip_address_note(quoted)
    if _is_ip_address(host):
        return _ip_address_note(quoted)
    return host.rpartition(":")[0] if ":" in host else host


def _encode_host(value: str, raw_host: str) -> str | Note:
    """Map a host with UTS 46 and encode it to lower-case ASCII, or reject it."""
    quoted = _quoted(value)
    mapped = _map_host(quoted, raw_host)
    if isinstance(mapped, Note):
        return mapped

    # One trailing dot is the DNS root. A second one would leave an empty label behind.
    host = mapped.removesuffix(".")
    if host.endswith("."):
        return rejected("invalid_domain", f"{quoted} ends in an empty label. {_SEND_WEBSITE}")
    special = _special_use_note(quoted, host)
    if special is not None:
        return special

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError as error:
        return rejected("invalid_domain", f"{quoted} is not a valid domain: {error}. {_SEND_WEBSITE}")


def _map_host(quoted: str, raw_host: str) -> str | Note:
    if len(raw_host) > _MAX_RAW_HOST:
        return rejected("invalid_domain", f"{quoted} is too long to be a domain. {_SEND_WEBSITE}")
    if any(character.isspace() for character in raw_host):
        return rejected(
            "invalid_domain",
            f"{quoted} contains spaces, so it is not a domain (a company name, perhaps). {_SEND_WEBSITE}",
        )
    try:
        # Mapping first turns fullwidth letters and ideographic full stops into ASCII, so the
        # trailing-dot, IP-address and reserved-name checks see the real labels.
        return idna.uts46_remap(unquote(raw_host, errors="strict"), std3_rules=False, transitional=False)
    except UnicodeError as error:
        return rejected("invalid_domain", f"{quoted} is not a valid domain: {error}. {_SEND_WEBSITE}")


def _special_use_note(quoted: str, host: str) -> Note | None:
    if _is_ip_address(host):
        return _ip_address_note(quoted)
    top_level = host.rpartition(".")[2]
    if top_level in _RESERVED_TLDS:
        return rejected(
            "reserved_domain",
            f"{quoted} uses the reserved top-level domain .{top_level}, which no real company can hold. "
            f"{_SEND_WEBSITE}",
        )
    return None


def _registrable_domain(value: str, ascii_host: str) -> str | Note:
    """Return the registrable domain of an ASCII host according to the Public Suffix List."""
    quoted = _quoted(value)
    parts = _suffix_extractor().extract_str(ascii_host)
    if not parts.suffix:
        return rejected(
            "unknown_suffix",
            f"{quoted} does not end in a public suffix such as .com or .co.uk, so it is not an internet "
            f"domain. {_SEND_WEBSITE}",
        )
    if parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    if parts.is_private and parts.registry_suffix:
        # The host is itself a private suffix such as github.io: the company is the operator that
        # registered it under the ICANN suffix.
        labels = ascii_host.split(".")
        return ".".join(labels[-(parts.registry_suffix.count(".") + 2) :])
    return rejected(
        "public_suffix_only",
        f"{quoted} is a public suffix under which anyone can register a domain, not a company domain. {_SEND_WEBSITE}",
    )


def _display_form(ascii_domain: str) -> str:
    try:
        return idna.decode(ascii_domain)
    except UnicodeError:
        # The decoder checks the labels again. Should it ever disagree with the encoder, the ASCII
        # form is still a correct spelling to show.
        return ascii_domain


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ip_address_note(quoted: str) -> Note:
    return rejected("ip_address", f"{quoted} is an IP address, not a domain name. {_SEND_WEBSITE}")


def _rejected_domain(note: Note) -> Domain:
    return Domain(ascii=None, display=None, host=None, is_free_mail=False, is_disposable=False, notes=(note,))


def _trim(value: str) -> str:
    text = value
    while True:
        stripped = text.strip().strip(_SURROUNDING)
        if stripped == text:
            return text
        text = stripped


def _quoted(value: str) -> str:
    text = value.strip()
    if len(text) > _QUOTED_LENGTH:
        text = text[:_QUOTED_LENGTH] + "..."
    return repr(text)
