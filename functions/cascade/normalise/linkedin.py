"""Parse LinkedIn URLs into one canonical public profile URL per person.

The same profile reaches us under country and mobile hosts, with tracking parameters, as a
legacy ``/pub/`` URL, or percent-encoded. All of them reduce to
``https://www.linkedin.com/in/<slug>`` with a lower-case, NFC-normalised slug. Sales Navigator,
Recruiter, company and school URLs are recognised and rejected, so their path is never stored
as a person's slug.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote, urlsplit

from cascade.normalise.notes import Note, rejected, repaired

_CANONICAL_PREFIX = "https://www.linkedin.com/in/"
_LINKEDIN_DOMAIN = "linkedin.com"
_SHORT_LINK_DOMAIN = "lnkd.in"
# Hosts that serve member profiles: the bare domain, www, the mobile sites and two-letter
# country sites such as uk.linkedin.com. Hosts such as business.linkedin.com serve no profiles.
_PROFILE_SUBDOMAINS = frozenset({"", "www", "m", "mobile", "touch"})
_COUNTRY_SUBDOMAIN = re.compile(r"[a-z]{2}")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Legacy /pub/NAME/A/B/C URLs carry the member id in three hexadecimal groups. The last two
# groups must have three digits, because how shorter groups were padded is unknown.
_LEGACY_FIRST_GROUP = re.compile(r"[0-9a-f]{1,3}")
_LEGACY_GROUP = re.compile(r"[0-9a-f]{3}")
_SURROUNDING = "\u200b\u200c\u200d\u2060\ufeff<>\"'`"
# LinkedIn's help centre limits custom profile URLs to 3 to 100 characters.
_MIN_SLUG_LENGTH = 3
_MAX_SLUG_LENGTH = 100
# Exports sometimes percent-encode a URL twice. A valid slug never contains "%", so decoding
# again is safe, and the bound stops pathological input.
_MAX_DECODE_ROUNDS = 3
_MAX_INPUT_LENGTH = 4096
_QUOTED_LENGTH = 100

_SEND_PROFILE = "Send the person's public profile URL, such as https://www.linkedin.com/in/ada-quill."


class LinkedInUrlKind(StrEnum):
    """Kind of page that a LinkedIn URL points to."""

    PERSON = "person"
    SALES_NAVIGATOR = "sales_navigator"
    RECRUITER = "recruiter"
    COMPANY = "company"
    SCHOOL = "school"
    OTHER = "other"
    INVALID = "invalid"


# First path segments of LinkedIn pages that are not public profiles, with the name used in
# messages. "showcase" pages belong to companies and "edu" is the old school path.
_NON_PROFILE_PATHS: dict[str, tuple[LinkedInUrlKind, str]] = {
    "sales": (LinkedInUrlKind.SALES_NAVIGATOR, "a Sales Navigator URL"),
    "talent": (LinkedInUrlKind.RECRUITER, "a LinkedIn Recruiter URL"),
    "recruiter": (LinkedInUrlKind.RECRUITER, "a LinkedIn Recruiter URL"),
    "company": (LinkedInUrlKind.COMPANY, "a company page URL"),
    "showcase": (LinkedInUrlKind.COMPANY, "a company showcase page URL"),
    "school": (LinkedInUrlKind.SCHOOL, "a school page URL"),
    "edu": (LinkedInUrlKind.SCHOOL, "a school page URL"),
}


@dataclass(frozen=True, slots=True)
class LinkedInUrl:
    """A parsed LinkedIn URL.

    ``slug`` and ``canonical_url`` are set only for a person's public profile. The slug is
    percent-decoded, lower case and NFC-normalised, and ``canonical_url`` contains it unencoded, so
    it is the key to store and compare. Use ``request_url`` for the form to send over HTTP.
    """

    kind: LinkedInUrlKind
    slug: str | None
    canonical_url: str | None
    notes: tuple[Note, ...]

    def request_url(self) -> str | None:
        """Return the canonical profile URL with the slug percent-encoded, for calling vendors."""
        if self.slug is None:
            return None
        return _CANONICAL_PREFIX + quote(self.slug, safe="")


def parse_linkedin_url(value: str) -> LinkedInUrl:
    """Parse a LinkedIn URL and reduce a public profile URL to its canonical form.

    A missing scheme, http, country and mobile hosts, upper-case hosts, a trailing slash, query
    strings, fragments and sub-pages such as ``/details/experience/`` are all accepted. A legacy
    ``/pub/NAME/A/B/C`` URL becomes ``/in/NAME-CBA`` with a repaired note.
    """
    quoted = _quoted(value)
    text = _trim(value)
    if not text:
        return _invalid(rejected("missing_url", f"The LinkedIn URL is empty. {_SEND_PROFILE}"))
    if len(text) > _MAX_INPUT_LENGTH:
        return _invalid(rejected("invalid_url", f"{quoted} is too long to be a LinkedIn URL. {_SEND_PROFILE}"))

    if not _SCHEME.match(text):
        text = "https:" + text if text.startswith("//") else "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").removesuffix(".")
    except ValueError:
        return _invalid(rejected("invalid_url", f"{quoted} is not a valid URL. {_SEND_PROFILE}"))

    if parts.scheme.lower() not in {"http", "https"}:
        return _invalid(rejected("invalid_url", f"{quoted} is not a web URL. {_SEND_PROFILE}"))
    host_note = _host_note(quoted, host)
    if host_note is not None:
        kind = LinkedInUrlKind.INVALID if host_note.code == "not_linkedin_url" else LinkedInUrlKind.OTHER
        return LinkedInUrl(kind=kind, slug=None, canonical_url=None, notes=(host_note,))

    segments = [segment for segment in parts.path.split("/") if segment]
    if segments and segments[0].lower() == "mwlite":
        # LinkedIn Lite serves the same pages under a /mwlite prefix.
        segments = segments[1:]
    return _parse_path(quoted, segments)


def _host_note(quoted: str, host: str) -> Note | None:
    """Return a rejection when the host cannot serve a public profile, else ``None``."""
    if host == _SHORT_LINK_DOMAIN or host.endswith("." + _SHORT_LINK_DOMAIN):
        return rejected(
            "short_link",
            f"{quoted} is a shortened LinkedIn link, which cannot be resolved without opening it. {_SEND_PROFILE}",
        )
    if host != _LINKEDIN_DOMAIN and not host.endswith("." + _LINKEDIN_DOMAIN):
        # Only an exact match or a true subdomain counts, so lookalikes such as
        # linkedin.com.example.net and notlinkedin.com are rejected.
        return rejected("not_linkedin_url", f"{quoted} is not a LinkedIn URL. {_SEND_PROFILE}")

    subdomain = host.removesuffix(_LINKEDIN_DOMAIN).removesuffix(".")
    if subdomain in _PROFILE_SUBDOMAINS or _COUNTRY_SUBDOMAIN.fullmatch(subdomain):
        return None
    return rejected(
        "not_profile_url",
        f"{quoted} is on a LinkedIn site that has no member profiles, so it is not a public profile URL. "
        f"{_SEND_PROFILE}",
    )


def _parse_path(quoted: str, segments: list[str]) -> LinkedInUrl:
    section = segments[0].lower() if segments else ""
    if section == "in":
        if len(segments) < 2:
            return _invalid(rejected("missing_slug", f"{quoted} has no profile name after /in/. {_SEND_PROFILE}"))
        # Anything after the slug (/details/experience/, /overlay/..., /recent-activity/) is a
        # sub-page of the same profile.
        return _person(quoted, segments[1], notes=())
    if section == "pub":
        return _parse_legacy_path(quoted, segments)
    if section in _NON_PROFILE_PATHS:
        kind, description = _NON_PROFILE_PATHS[section]
        return LinkedInUrl(
            kind=kind,
            slug=None,
            canonical_url=None,
            notes=(_not_profile_note(quoted, description),),
        )
    return LinkedInUrl(
        kind=LinkedInUrlKind.OTHER,
        slug=None,
        canonical_url=None,
        notes=(_not_profile_note(quoted, "a LinkedIn page"),),
    )


def _parse_legacy_path(quoted: str, segments: list[str]) -> LinkedInUrl:
    """Convert a legacy ``/pub/NAME/A/B/C`` URL, whose member id is the groups in reverse order."""
    if len(segments) >= 2 and segments[1].lower() == "dir":
        return LinkedInUrl(
            kind=LinkedInUrlKind.OTHER,
            slug=None,
            canonical_url=None,
            notes=(_not_profile_note(quoted, "a LinkedIn member directory search"),),
        )

    groups = [segment.lower() for segment in segments[2:5]]
    if (
        len(groups) != 3
        or not _LEGACY_FIRST_GROUP.fullmatch(groups[0])
        or not _LEGACY_GROUP.fullmatch(groups[1])
        or not _LEGACY_GROUP.fullmatch(groups[2])
    ):
        return _invalid(
            rejected(
                "invalid_legacy_url",
                f"{quoted} is a legacy /pub/ profile URL without the three member-id groups "
                f"(/pub/name/1b/2c3/4d5). {_SEND_PROFILE}",
            )
        )

    first, middle, last = groups
    slug = f"{segments[1]}-{last}{middle}{first}"
    note = repaired(
        "legacy_profile_url",
        f"{quoted} is a legacy /pub/ profile URL and was converted to the /in/ form LinkedIn redirects it to.",
    )
    return _person(quoted, slug, notes=(note,))


def _person(quoted: str, raw_slug: str, *, notes: tuple[Note, ...]) -> LinkedInUrl:
    slug = _decode_slug(raw_slug)
    if slug is None:
        return _invalid(
            rejected(
                "invalid_slug",
                f"{quoted} does not contain a valid profile name: LinkedIn profile names are "
                f"{_MIN_SLUG_LENGTH} to {_MAX_SLUG_LENGTH} letters, digits and hyphens. {_SEND_PROFILE}",
            )
        )
    return LinkedInUrl(
        kind=LinkedInUrlKind.PERSON,
        slug=slug,
        canonical_url=_CANONICAL_PREFIX + slug,
        notes=notes,
    )


def _decode_slug(raw_slug: str) -> str | None:
    """Percent-decode, lower-case and NFC-normalise a slug, or return ``None`` when it is invalid."""
    text = raw_slug
    for _ in range(_MAX_DECODE_ROUNDS):
        if not _PERCENT_ESCAPE.search(text):
            break
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError:
            return None

    # Slugs are case-insensitive on LinkedIn. Lower-casing can produce combining marks (as for
    # U+0130), so NFC is applied again afterwards to keep the result stable.
    slug = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    if not _MIN_SLUG_LENGTH <= len(slug) <= _MAX_SLUG_LENGTH:
        return None
    if not all(_is_slug_character(character) for character in slug):
        return None
    return slug


def _is_slug_character(character: str) -> bool:
    # Letters, combining marks and digits of any script, because LinkedIn assigns slugs such as
    # "jürgen-müller-1a2b3c" from the member's name. Underscores are accepted as well, because
    # rejecting a real profile costs more than passing an odd slug on to a vendor.
    return character in "-_" or unicodedata.category(character)[0] in "LMN"


def _not_profile_note(quoted: str, description: str) -> Note:
    return rejected(
        "not_profile_url",
        f"{quoted} is {description}, not a public profile URL. Send the person's public linkedin.com/in/ URL instead.",
    )


def _invalid(note: Note) -> LinkedInUrl:
    return LinkedInUrl(kind=LinkedInUrlKind.INVALID, slug=None, canonical_url=None, notes=(note,))


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
