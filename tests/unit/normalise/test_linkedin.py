from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.normalise.linkedin import LinkedInUrl, LinkedInUrlKind, parse_linkedin_url
from cascade.normalise.notes import NoteKind, has_rejection

CANONICAL = "https://www.linkedin.com/in/ada-quill-4d52c31b"
SLUG = "ada-quill-4d52c31b"


def _codes(result: LinkedInUrl, kind: NoteKind) -> list[str]:
    return [note.code for note in result.notes if note.kind is kind]


def test_parse_linkedin_legacy_pub_url() -> None:
    result = parse_linkedin_url("https://uk.linkedin.com/pub/ada-quill/1b/2c3/4d5?trk=biz_employee_pub")
    assert result.kind is LinkedInUrlKind.PERSON
    assert result.slug == SLUG
    assert result.canonical_url == CANONICAL
    assert _codes(result, NoteKind.REPAIRED) == ["legacy_profile_url"]
    assert not has_rejection(result.notes)


@pytest.mark.parametrize(
    "value",
    [
        "http://de.linkedin.com/in/ada-quill-4d52c31b/?originalSubdomain=de",
        "m.linkedin.com/in/ada-quill-4d52c31b",
        CANONICAL,
        CANONICAL + "/",
        "linkedin.com/in/ada-quill-4d52c31b",
        "www.linkedin.com/in/ada-quill-4d52c31b#experience",
        "//www.linkedin.com/in/ada-quill-4d52c31b",
        "HTTPS://WWW.LINKEDIN.COM/in/Ada-Quill-4D52C31B/",
        "https://www.linkedin.com/IN/ada-quill-4d52c31b",
        "https://ca.linkedin.com/in/ada-quill-4d52c31b?trk=public_profile_browsemap",
        "https://www.linkedin.com/in/ada-quill-4d52c31b?utm_source=share&utm_medium=member_desktop",
        "https://touch.linkedin.com/in/ada-quill-4d52c31b",
        "https://www.linkedin.com./in/ada-quill-4d52c31b",
        "https://www.linkedin.com:443/in/ada-quill-4d52c31b",
        "https://www.linkedin.com//in//ada-quill-4d52c31b//",
        "https://www.linkedin.com/in/ada-quill-4d52c31b/details/experience/",
        "https://www.linkedin.com/in/ada-quill-4d52c31b/overlay/contact-info/",
        "https://www.linkedin.com/in/ada-quill-4d52c31b/recent-activity/all/",
        "https://www.linkedin.com/mwlite/in/ada-quill-4d52c31b",
        "  <https://www.linkedin.com/in/ada-quill-4d52c31b>  ",
        "\ufeffhttps://www.linkedin.com/in/ada-quill-4d52c31b\u200b",
        "https://www.linkedin.com/in/ada%2Dquill%2D4d52c31b",
        "http://uk.linkedin.com/pub/ada-quill/1B/2C3/4D5",
        "uk.linkedin.com/pub/Ada-Quill/1b/2c3/4d5/",
    ],
)
def test_parse_linkedin_person_variants(value: str) -> None:
    result = parse_linkedin_url(value)
    assert result.kind is LinkedInUrlKind.PERSON
    assert result.slug == SLUG
    assert result.canonical_url == CANONICAL
    assert result.request_url() == CANONICAL
    assert not has_rejection(result.notes)


@pytest.mark.parametrize(
    "value",
    [
        "https://www.linkedin.com/in/J%C3%BCrgen-M%C3%BCller-1a2b3c",
        "https://www.linkedin.com/in/j%c3%bcrgen-m%c3%bcller-1a2b3c/",
        "https://www.linkedin.com/in/ju\u0308rgen-mu\u0308ller-1a2b3c",
        "https://www.linkedin.com/in/ju%CC%88rgen-mu%CC%88ller-1a2b3c",
        "https://www.linkedin.com/in/J%25C3%25BCrgen-M%25C3%25BCller-1a2b3c",
        "https://www.linkedin.com/in/JÜRGEN-MÜLLER-1A2B3C",
        "https://de.linkedin.com/in/jürgen-müller-1a2b3c?originalSubdomain=de",
    ],
)
def test_parse_linkedin_unicode_slug(value: str) -> None:
    result = parse_linkedin_url(value)
    assert result.kind is LinkedInUrlKind.PERSON
    assert result.slug == "jürgen-müller-1a2b3c"
    assert result.canonical_url == "https://www.linkedin.com/in/jürgen-müller-1a2b3c"
    assert result.request_url() == "https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller-1a2b3c"


def test_parse_linkedin_non_latin_slug() -> None:
    result = parse_linkedin_url("https://www.linkedin.com/in/%E7%8E%8B%E4%BC%9F-12345")
    assert result.slug == "王伟-12345"
    assert result.request_url() == "https://www.linkedin.com/in/%E7%8E%8B%E4%BC%9F-12345"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("https://www.linkedin.com/sales/lead/ACwAAAExample,NAME_SEARCH,abcd", LinkedInUrlKind.SALES_NAVIGATOR),
        ("https://www.linkedin.com/sales/people/ACwAAAExample,NAME_SEARCH,abcd", LinkedInUrlKind.SALES_NAVIGATOR),
        ("linkedin.com/sales/company/1234", LinkedInUrlKind.SALES_NAVIGATOR),
        ("https://www.linkedin.com/talent/profile/AEMAAExample", LinkedInUrlKind.RECRUITER),
        ("https://www.linkedin.com/recruiter/profile/12345,abc,CAP", LinkedInUrlKind.RECRUITER),
        ("https://www.linkedin.com/company/quillon-widgets/", LinkedInUrlKind.COMPANY),
        ("https://www.linkedin.com/showcase/quillon-labs/", LinkedInUrlKind.COMPANY),
        ("https://www.linkedin.com/school/quillon-university/", LinkedInUrlKind.SCHOOL),
        ("https://www.linkedin.com/edu/quillon-university-12345", LinkedInUrlKind.SCHOOL),
        ("https://www.linkedin.com/feed/", LinkedInUrlKind.OTHER),
        ("https://www.linkedin.com/jobs/view/1234567890/", LinkedInUrlKind.OTHER),
        ("https://www.linkedin.com/posts/ada-quill-4d52c31b_activity-123", LinkedInUrlKind.OTHER),
        ("https://www.linkedin.com/profile/view?id=AAkAAExample", LinkedInUrlKind.OTHER),
        ("https://www.linkedin.com/pub/dir/Ada/Quill", LinkedInUrlKind.OTHER),
        ("https://www.linkedin.com/", LinkedInUrlKind.OTHER),
    ],
)
def test_parse_linkedin_not_profile(value: str, kind: LinkedInUrlKind) -> None:
    result = parse_linkedin_url(value)
    assert result.kind is kind
    assert result.slug is None
    assert result.canonical_url is None
    assert result.request_url() is None
    assert _codes(result, NoteKind.REJECTED) == ["not_profile_url"]
    assert "not a public profile URL" in result.notes[0].message
    assert "linkedin.com/in/" in result.notes[0].message


def test_parse_linkedin_sales_navigator_message_names_value() -> None:
    value = "https://www.linkedin.com/sales/lead/ACwAAAExample,NAME_SEARCH,abcd"
    assert repr(value) in parse_linkedin_url(value).notes[0].message


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("https://lnkd.in/abcDEF12", "short_link"),
        ("https://business.linkedin.com/in/ada-quill-4d52c31b", "not_profile_url"),
        ("https://learning.linkedin.com/in/ada-quill-4d52c31b", "not_profile_url"),
    ],
)
def test_parse_linkedin_other_hosts(value: str, code: str) -> None:
    result = parse_linkedin_url(value)
    assert result.kind is LinkedInUrlKind.OTHER
    assert result.slug is None
    assert _codes(result, NoteKind.REJECTED) == [code]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "missing_url"),
        ("   ", "missing_url"),
        ("linkedin.com/in/", "missing_slug"),
        ("https://www.linkedin.com/in", "missing_slug"),
        ("https://linkedin.com.evil.test/in/ada-quill-4d52c31b", "not_linkedin_url"),
        ("notlinkedin.com/in/ada-quill-4d52c31b", "not_linkedin_url"),
        ("https://www.linkedin.co/in/ada-quill-4d52c31b", "not_linkedin_url"),
        ("https://linkedin.com@evil.test/in/ada-quill-4d52c31b", "not_linkedin_url"),
        ("https://example.com/in/ada-quill-4d52c31b", "not_linkedin_url"),
        ("ada-quill-4d52c31b", "not_linkedin_url"),
        ("Ada Quill", "not_linkedin_url"),
        ("ftp://www.linkedin.com/in/ada-quill-4d52c31b", "invalid_url"),
        ("javascript:alert(1)", "not_linkedin_url"),
        ("https://[::1/in/ada", "invalid_url"),
        ("https://www.linkedin.com/in/" + "a" * 5000, "invalid_url"),
        ("https://www.linkedin.com/in/ab", "invalid_slug"),
        ("https://www.linkedin.com/in/" + "a" * 101, "invalid_slug"),
        ("https://www.linkedin.com/in/ada%20quill", "invalid_slug"),
        ("https://www.linkedin.com/in/ada.quill", "invalid_slug"),
        ("https://www.linkedin.com/in/ada%2Fquill", "invalid_slug"),
        ("https://www.linkedin.com/in/ada%ZZquill", "invalid_slug"),
        ("https://www.linkedin.com/in/%FF%FEada", "invalid_slug"),
        ("https://www.linkedin.com/in/ACwAAAExample,NAME_SEARCH,abcd", "invalid_slug"),
        ("https://www.linkedin.com/pub/ada-quill/1b/2c3", "invalid_legacy_url"),
        ("https://www.linkedin.com/pub/ada-quill", "invalid_legacy_url"),
        ("https://www.linkedin.com/pub/ada-quill/1b/2c/4d5", "invalid_legacy_url"),
        ("https://www.linkedin.com/pub/ada-quill/zz/2c3/4d5", "invalid_legacy_url"),
    ],
)
def test_parse_linkedin_invalid(value: str, code: str) -> None:
    result = parse_linkedin_url(value)
    assert result.kind is LinkedInUrlKind.INVALID
    assert result.slug is None
    assert result.canonical_url is None
    assert result.request_url() is None
    assert _codes(result, NoteKind.REJECTED) == [code]


@pytest.mark.parametrize(
    "value",
    ["https://linkedin.com.evil.test/in/ada-quill-4d52c31b", "https://www.linkedin.com/in/ab", "Ada Quill"],
)
def test_parse_linkedin_rejection_names_value(value: str) -> None:
    message = parse_linkedin_url(value).notes[0].message
    assert repr(value) in message
    assert "Send the person's public profile URL" in message


def test_linkedin_kind_values() -> None:
    assert [kind.value for kind in LinkedInUrlKind] == [
        "person",
        "sales_navigator",
        "recruiter",
        "company",
        "school",
        "other",
        "invalid",
    ]


_SLUG_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_üÜéßçłøæ王伟й"
_SLUG_TEXT = st.text(alphabet=_SLUG_ALPHABET, min_size=3, max_size=40)


@st.composite
def _linkedin_values(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]))
    host = draw(
        st.sampled_from(
            [
                "www.linkedin.com",
                "linkedin.com",
                "uk.linkedin.com",
                "m.linkedin.com",
                "LinkedIn.com",
                "linkedin.com.evil.test",
                "notlinkedin.com",
                "lnkd.in",
            ]
        )
    )
    section = draw(st.sampled_from(["in", "pub", "sales/lead", "company", "school", "talent", "feed", "IN"]))
    slug = draw(st.one_of(_SLUG_TEXT, st.text(max_size=20)))
    if draw(st.booleans()):
        slug = quote(slug, safe="")
    tail = draw(st.sampled_from(["", "/", "/details/experience/", "?trk=x", "#top", "/1b/2c3/4d5"]))
    return f"{scheme}{host}/{section}/{slug}{tail}"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_linkedin_never_raises(value: str) -> None:
    result = parse_linkedin_url(value)
    assert (result.kind is LinkedInUrlKind.PERSON) == (result.slug is not None)


@settings(max_examples=200, deadline=None)
@given(_linkedin_values())
def test_parse_linkedin_urlish_never_raises(value: str) -> None:
    result = parse_linkedin_url(value)
    assert (result.kind is LinkedInUrlKind.PERSON) == (result.canonical_url is not None)
    assert (result.kind is LinkedInUrlKind.PERSON) != has_rejection(result.notes)


@settings(max_examples=200, deadline=None)
@given(_linkedin_values())
def test_parse_linkedin_idempotent(value: str) -> None:
    result = parse_linkedin_url(value)
    if result.canonical_url is None:
        return
    again = parse_linkedin_url(result.canonical_url)
    assert again.slug == result.slug
    assert again.canonical_url == result.canonical_url
    assert again.notes == ()
    assert parse_linkedin_url(result.request_url() or "") == again


@settings(max_examples=200, deadline=None)
@given(_SLUG_TEXT)
def test_parse_linkedin_slug_case_and_encoding(slug: str) -> None:
    expected = unicodedata.normalize("NFC", unicodedata.normalize("NFC", slug).lower())
    plain = parse_linkedin_url(f"https://www.linkedin.com/in/{slug}")
    # Only ASCII letters are upper-cased, because upper-casing is lossy for letters such as "ß".
    upper = "".join(character.upper() if character.isascii() else character for character in slug)
    encoded = parse_linkedin_url(f"https://www.linkedin.com/in/{quote(upper, safe='')}")
    decomposed = parse_linkedin_url(f"https://www.linkedin.com/in/{unicodedata.normalize('NFD', slug)}")
    assert plain.slug == expected
    assert encoded.slug == plain.slug
    assert decomposed.slug == plain.slug
