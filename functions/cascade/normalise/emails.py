"""Normalise email addresses and derive the key that finds duplicates among them.

Syntax follows the standards as implemented by ``email_validator`` (RFC 5321/5322 with SMTPUTF8
and IDNA 2008 domains); no DNS lookup happens here. The returned address is always the one
supplied, with the domain normalised and lower-cased; only ``match_key`` folds spellings that
reach the same mailbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from email_validator import EmailNotValidError, validate_email

from cascade.normalise.domains import Domain, normalise_domain
from cascade.normalise.notes import Note, NoteKind, flagged, rejected

# Role mailboxes reach a team or a system, not one person. Entries are lower case with ".", "-"
# and "_" removed, because "no-reply", "no_reply" and "no.reply" are the same role.
_ROLE_LOCAL_PARTS = frozenset(
    {
        # English
        "abuse",
        "accounting",
        "accounts",
        "admin",
        "administrator",
        "all",
        "billing",
        "careers",
        "compliance",
        "contact",
        "contactus",
        "customercare",
        "customerservice",
        "donotreply",
        "enquiries",
        "enquiry",
        "everyone",
        "feedback",
        "finance",
        "hello",
        "help",
        "helpdesk",
        "hostmaster",
        "hr",
        "info",
        "information",
        "inquiries",
        "inquiry",
        "invoice",
        "invoices",
        "it",
        "jobs",
        "legal",
        "mail",
        "mailerdaemon",
        "marketing",
        "media",
        "news",
        "newsletter",
        "noreply",
        "notifications",
        "office",
        "operations",
        "orders",
        "partners",
        "postmaster",
        "press",
        "privacy",
        "procurement",
        "purchasing",
        "reception",
        "recruiting",
        "recruitment",
        "root",
        "sales",
        "security",
        "service",
        "staff",
        "support",
        "team",
        "webmaster",
        "welcome",
        # German, French, Spanish, Italian and Dutch equivalents of the common ones
        "bewerbung",
        "buchhaltung",
        "buero",
        "büro",
        "empfang",
        "kontakt",
        "rechnung",
        "verkauf",
        "vertrieb",
        "comptabilite",
        "facturation",
        "recrutement",
        "ventes",
        "contacto",
        "facturacion",
        "ventas",
        "contatti",
        "contatto",
        "vendite",
        "verkoop",
    }
)

# Consumer providers that deliver "name+tag@" to "name@". Yahoo is absent on purpose
# because its disposable addresses use "-", and company domains are absent because a company's
# "a+b@" may be a distinct mailbox.
_PLUS_TAG_DOMAINS = frozenset(
    {
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "fastmail.com",
        "fastmail.fm",
    }
)
# Outlook.com serves every consumer Microsoft domain (outlook.de, hotmail.co.uk, live.fr, ...), and
# all of them accept plus tags. The free-mail list decides which of those domains exist.
_MICROSOFT_CONSUMER_LABELS = frozenset({"outlook", "hotmail", "live", "msn"})
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
_ADDRESS_SEPARATORS = re.compile(r"[;,|\s]+")
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>$")
_TRAILING_COMMENT = re.compile(r"\s*\([^()]*\)$")
_ADDRESS_WRAPPING = "<>\"'()"
_SURROUNDING = "\u200b\u200c\u200d\u2060\ufeff\"'`"
# RFC 5321 limits a path to 256 octets; a much longer cell is not an address and is not parsed.
_MAX_INPUT_LENGTH = 1024
_QUOTED_LENGTH = 80

_SEND_ADDRESS = "Send one email address, such as name@company.com."
# Email wording for each rejection code of the domain normaliser.
_DOMAIN_PROBLEMS = {
    "reserved_domain": "uses a reserved domain such as .test, .invalid or .local, which never receives mail.",
    "unknown_suffix": "has a domain that does not end in a public suffix such as .com or .co.uk.",
    "public_suffix_only": "has a public suffix such as co.uk after the @ sign instead of a domain.",
    "invalid_domain": "has an invalid domain after the @ sign.",
    "ip_address": "has an IP address after the @ sign instead of a domain.",
}


@dataclass(frozen=True, slots=True)
class Email:
    """A normalised email address with its flags.

    ``address`` keeps the local part as supplied (after Unicode NFC normalisation) and has the
    domain in lower-case Unicode. ``ascii_address`` has the domain in punycode and is ``None``
    when the local part itself needs SMTPUTF8. ``domain`` is the full mail domain, not the
    registrable domain. ``match_key`` is for finding duplicates only and is never an address to
    send mail to. Every value is ``None`` when a note rejects the input.
    """

    address: str | None
    ascii_address: str | None
    local: str | None
    domain: str | None
    ascii_domain: str | None
    match_key: str | None
    is_free_mail: bool
    is_disposable: bool
    is_role: bool
    notes: tuple[Note, ...]


def normalise_email(value: str) -> Email:
    """Validate and normalise one email address.

    Surrounding whitespace, quotes, angle brackets, a ``mailto:`` prefix, a display name
    (``Ada Quill <ada@example.com>``) and a trailing dot after the domain are removed. The local
    part keeps its case, except that email_validator lower-cases the RFC 2142 names
    (``postmaster``, ``abuse``, ...) because they are case-insensitive by definition.
    """
    quoted = _quoted(value)
    candidate = _extract_address(value, quoted)
    if isinstance(candidate, Note):
        return _rejected_email(candidate)

    try:
        validated = validate_email(
            candidate,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_empty_local=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            # Enforces the 64-character local-part limit of RFC 5321, which is otherwise skipped.
            strict=True,
            # Passed explicitly so that a module-wide TEST_ENVIRONMENT switch set elsewhere cannot
            # let .test addresses through.
            test_environment=False,
            globally_deliverable=True,
        )
    except EmailNotValidError as error:
        return _rejected_email(_syntax_note(quoted, candidate, error))

    domain = normalise_domain(validated.ascii_domain)
    domain_rejection = _domain_rejection(quoted, domain)
    if domain_rejection is not None:
        return _rejected_email(domain_rejection)

    # Flag messages name the normalised address, so that spellings of one address give equal results.
    address = validated.normalized
    local = validated.local_part
    is_role = _is_role(local)
    notes = list(domain.notes)
    if validated.ascii_email is None:
        notes.append(
            flagged(
                "smtputf8_required",
                f"{address} has non-ASCII characters before the @ sign, so it has no ASCII form and only "
                "mail servers that support SMTPUTF8 can deliver to it.",
            )
        )
    if is_role:
        notes.append(flagged("role_address", f"{address} is a role mailbox for a team, not one person."))

    return Email(
        address=address,
        ascii_address=validated.ascii_email,
        local=local,
        domain=validated.domain,
        ascii_domain=validated.ascii_domain,
        match_key=_match_key(local, validated.ascii_domain, is_free_mail=domain.is_free_mail),
        is_free_mail=domain.is_free_mail,
        is_disposable=domain.is_disposable,
        is_role=is_role,
        notes=tuple(notes),
    )


def email_match_key(address: str) -> str | None:
    """Return the de-duplication key of an address, or ``None`` when it is not a valid address.

    The key is the lower-cased address with the domain in ASCII. For Gmail (and googlemail.com,
    which is the same service) dots and a ``+tag`` in the local part are removed. For other
    consumer providers that deliver plus tags to the base mailbox, only the ``+tag`` is removed.
    Company domains keep both, because ``a.b@`` and ``ab@`` may be different people there.
    """
    return normalise_email(address).match_key


def _match_key(local: str, ascii_domain: str, *, is_free_mail: bool) -> str:
    key_local = local.lower()
    key_domain = ascii_domain.lower()
    if key_domain in _GMAIL_DOMAINS:
        key_domain = "gmail.com"
        key_local = _without_plus_tag(key_local).replace(".", "")
    elif _delivers_plus_tags(key_domain, is_free_mail=is_free_mail):
        key_local = _without_plus_tag(key_local)
    return f"{key_local or local.lower()}@{key_domain}"


def _delivers_plus_tags(ascii_domain: str, *, is_free_mail: bool) -> bool:
    if ascii_domain in _PLUS_TAG_DOMAINS:
        return True
    return is_free_mail and ascii_domain.split(".", 1)[0] in _MICROSOFT_CONSUMER_LABELS


def _without_plus_tag(local: str) -> str:
    return local.split("+", 1)[0]


def _is_role(local: str) -> bool:
    base = _without_plus_tag(local.lower())
    return re.sub(r"[._-]", "", base) in _ROLE_LOCAL_PARTS


def _extract_address(value: str, quoted: str) -> str | Note:
    """Return the single address inside a cell, or a note that rejects the cell."""
    if len(value) > _MAX_INPUT_LENGTH:
        return rejected("invalid_email", f"{quoted} is too long to be an email address. {_SEND_ADDRESS}")
    text = _trim(value)
    if not text:
        return rejected("missing_email", f"The email address is empty. {_SEND_ADDRESS}")
    if _contains_several_addresses(text):
        return rejected("multiple_addresses", f"{quoted} contains more than one email address. {_SEND_ADDRESS}")
    candidate = _unwrap(text)
    if not candidate:
        return rejected("missing_email", f"{quoted} contains no email address. {_SEND_ADDRESS}")
    if "@" not in candidate:
        return rejected("invalid_email", f"{quoted} has no @ sign, so it is not an email address. {_SEND_ADDRESS}")
    return candidate


def _contains_several_addresses(text: str) -> bool:
    # Outlook copies an address as '"ada@example.com" <ada@example.com>', so the same address
    # written twice still counts as one.
    addresses = {piece.strip(_ADDRESS_WRAPPING).lower() for piece in _ADDRESS_SEPARATORS.split(text) if "@" in piece}
    return len(addresses) > 1


def _unwrap(text: str) -> str:
    """Remove the wrapping that copies from mail clients and CRMs put around one address."""
    # An RFC 5322 comment after the address, as in "ada@example.com (Ada Quill)", is not part of it.
    candidate = _TRAILING_COMMENT.sub("", text)
    match = _ANGLE_ADDRESS.search(candidate)
    if match is not None:
        # "Ada Quill <ada@example.com>": only the part in angle brackets is the address.
        candidate = match.group(1)
    candidate = _trim(candidate)
    if _MAILTO.match(candidate):
        # RFC 6068 allows percent-encoding and header fields after "?" in a mailto URI.
        candidate = unquote(candidate[len("mailto:") :].split("?", 1)[0])
    candidate = _trim(candidate).replace("\uff20", "@").replace("\ufe6b", "@")
    candidate = candidate.rstrip(";,")
    if "@" in candidate and candidate.endswith("."):
        # A trailing dot is the DNS root, not part of the domain name.
        candidate = candidate.removesuffix(".")
    return candidate


def _syntax_note(quoted: str, candidate: str, error: EmailNotValidError) -> Note:
    # email_validator rejects special-use domains as a syntax error. The domain normaliser
    # identifies that case, so that callers get the specific code.
    domain = normalise_domain(candidate.rpartition("@")[2])
    if any(note.code == "reserved_domain" for note in domain.notes):
        return rejected("reserved_domain", f"{quoted} {_DOMAIN_PROBLEMS['reserved_domain']} {_SEND_ADDRESS}")
    return rejected("invalid_email", f"{quoted} is not a valid email address: {error} {_SEND_ADDRESS}")


def _domain_rejection(quoted: str, domain: Domain) -> Note | None:
    """Restate a rejection of the mail domain as a rejection of the whole address."""
    for note in domain.notes:
        if note.kind is NoteKind.REJECTED:
            problem = _DOMAIN_PROBLEMS.get(note.code, "has a domain that cannot receive mail.")
            return rejected(note.code, f"{quoted} {problem} {_SEND_ADDRESS}")
    return None


def _rejected_email(note: Note) -> Email:
    return Email(
        address=None,
        ascii_address=None,
        local=None,
        domain=None,
        ascii_domain=None,
        match_key=None,
        is_free_mail=False,
        is_disposable=False,
        is_role=False,
        notes=(note,),
    )


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
