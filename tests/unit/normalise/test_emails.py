from __future__ import annotations

import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.normalise.emails import Email, email_match_key, normalise_email
from cascade.normalise.notes import NoteKind, has_rejection


def _fullwidth(text: str) -> str:
    """Spell ASCII text in fullwidth forms, as East Asian input methods produce it."""
    return "".join(chr(ord(character) + 0xFEE0) for character in text)


def _codes(result: Email, kind: NoteKind) -> list[str]:
    return [note.code for note in result.notes if note.kind is kind]


def test_normalise_email_idn_unicode_form() -> None:
    result = normalise_email("vertrieb@bücherstube-beispiel.de")
    assert result.address == "vertrieb@bücherstube-beispiel.de"
    assert result.ascii_address == "vertrieb@xn--bcherstube-beispiel-59b.de"
    assert result.local == "vertrieb"
    assert result.domain == "bücherstube-beispiel.de"
    assert result.ascii_domain == "xn--bcherstube-beispiel-59b.de"
    assert not has_rejection(result.notes)


def test_normalise_email_idn_spellings_equal() -> None:
    unicode_form = normalise_email("vertrieb@bücherstube-beispiel.de")
    punycode_form = normalise_email("vertrieb@xn--bcherstube-beispiel-59b.de")
    assert unicode_form == punycode_form


def test_normalise_email_domain_lowered_local_kept() -> None:
    result = normalise_email("ADA.QUILL@EXAMPLE.COM")
    assert result.address == "ADA.QUILL@example.com"
    assert result.ascii_address == "ADA.QUILL@example.com"
    assert result.local == "ADA.QUILL"
    assert result.domain == "example.com"
    assert result.notes == ()


def test_normalise_email_reserved_domain() -> None:
    result = normalise_email("ada@quillon.test")
    assert _codes(result, NoteKind.REJECTED) == ["reserved_domain"]
    assert result.address is None
    assert result.match_key is None
    assert "'ada@quillon.test'" in result.notes[0].message


@pytest.mark.parametrize(
    "value",
    [
        "ada@quillon.test",
        "ada@mail.quillon.test",
        "ada@quillon.invalid",
        "ada@printer.local",
        "ada@localhost",
        "ada@dev.localhost",
        "ada@quillon.example",
        "ada@abcdefghijklmnop.onion",
        "ada@router.home.arpa",
        "ada@service.internal",
        "ADA@QUILLON.TEST.",
    ],
)
def test_normalise_email_reserved_domains_rejected(value: str) -> None:
    result = normalise_email(value)
    assert _codes(result, NoteKind.REJECTED) == ["reserved_domain"]
    assert result.address is None


def test_normalise_email_reserved_despite_test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)
    assert _codes(normalise_email("ada@quillon.test"), NoteKind.REJECTED) == ["reserved_domain"]


def test_match_key_gmail_variants_shared() -> None:
    assert email_match_key("Zz.Example.Tester+crm@googlemail.com") == "zzexampletester@gmail.com"
    assert email_match_key("zzexampletester@gmail.com") == "zzexampletester@gmail.com"


def test_match_key_company_dots_distinct() -> None:
    assert email_match_key("ada.quill@example.com") == "ada.quill@example.com"
    assert email_match_key("adaquill@example.com") == "adaquill@example.com"


def test_normalise_email_address_not_match_key() -> None:
    result = normalise_email("Zz.Example.Tester+crm@googlemail.com")
    assert result.address == "Zz.Example.Tester+crm@googlemail.com"
    assert result.match_key == "zzexampletester@gmail.com"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Ada.Quill@Gmail.com", "adaquill@gmail.com"),
        ("a.d.a.quill+news+more@gmail.com", "adaquill@gmail.com"),
        ("ada.quill@googlemail.com", "adaquill@gmail.com"),
        # Outlook.com, iCloud, Proton and Fastmail deliver plus tags but keep dots.
        ("Ada.Quill+crm@hotmail.co.uk", "ada.quill@hotmail.co.uk"),
        ("ada.quill+crm@outlook.de", "ada.quill@outlook.de"),
        ("ada+crm@live.com", "ada@live.com"),
        ("ada+crm@msn.com", "ada@msn.com"),
        ("ada+crm@icloud.com", "ada@icloud.com"),
        ("ada+crm@me.com", "ada@me.com"),
        ("ada+crm@proton.me", "ada@proton.me"),
        ("ada+crm@protonmail.com", "ada@protonmail.com"),
        ("ada+crm@fastmail.com", "ada@fastmail.com"),
        # Yahoo uses "-" for its disposable addresses, so nothing is removed.
        ("ada.quill+crm@yahoo.com", "ada.quill+crm@yahoo.com"),
        ("ada.quill-crm@yahoo.com", "ada.quill-crm@yahoo.com"),
        # Other free-mail providers and company domains keep plus tags and dots.
        ("ada+crm@gmx.de", "ada+crm@gmx.de"),
        ("Ada.Quill+Sales@Example.com", "ada.quill+sales@example.com"),
        # A company subdomain of a plus-tag provider's name is not that provider.
        ("ada+crm@outlook.example.com", "ada+crm@outlook.example.com"),
        ("vertrieb@bücherstube-beispiel.de", "vertrieb@xn--bcherstube-beispiel-59b.de"),
        ("Jürgen@Example.com", "jürgen@example.com"),
        # Nothing would be left of the local part, so the key keeps it whole.
        ("+crm@gmail.com", "+crm@gmail.com"),
    ],
)
def test_email_match_key(value: str, key: str) -> None:
    assert email_match_key(value) == key


@pytest.mark.parametrize("value", ["", "ada", "a@x.com; b@y.com", "ada@quillon.test"])
def test_email_match_key_invalid_is_none(value: str) -> None:
    assert email_match_key(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "ada@example.com",
        "  ada@example.com\t",
        "\ufeffada@example.com\u200b",
        "<ada@example.com>",
        "'ada@example.com'",
        '"ada@example.com"',
        "mailto:ada@example.com",
        "MAILTO:ada@example.com?subject=Hello",
        "mailto:ada%40example.com",
        "Ada Quill <ada@example.com>",
        '"Quill, Ada" <ada@example.com>',
        '"ada@example.com" <ada@example.com>',
        "ada@example.com <ada@example.com>",
        "ada@example.com (Ada Quill)",
        "ada@example.com.",
        "ada@EXAMPLE.com.",
        "ada@example.com;",
        "ada@example.com,",
        "ada" + _fullwidth("@") + "example.com",
        "ada@" + _fullwidth("EXAMPLE.com"),
    ],
)
def test_normalise_email_wrapping_removed(value: str) -> None:
    result = normalise_email(value)
    assert result.address == "ada@example.com"
    assert result.notes == ()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "missing_email"),
        ("   ", "missing_email"),
        ("<>", "missing_email"),
        ("ada", "invalid_email"),
        ("ada.quill(at)example.com", "invalid_email"),
        ("a@x.com; b@y.com", "multiple_addresses"),
        ("a@x.com, b@y.com", "multiple_addresses"),
        ("a@x.com b@y.com", "multiple_addresses"),
        ("a@x.com|b@y.com", "multiple_addresses"),
        ("a@x.com\nb@y.com", "multiple_addresses"),
        ("Ada <a@x.com>, Bob <b@y.com>", "multiple_addresses"),
        ("a@b@example.com", "invalid_email"),
        ("ada@", "invalid_email"),
        ("@example.com", "invalid_email"),
        ("ada..quill@example.com", "invalid_email"),
        (".ada@example.com", "invalid_email"),
        ('"ada quill"@example.com', "invalid_email"),
        ("ada@[192.0.2.1]", "invalid_email"),
        ("ada@192.0.2.1", "invalid_email"),
        ("ada@-example.com", "invalid_email"),
        ("ada@exa_mple.com", "invalid_email"),
        ("ada@example..com", "invalid_email"),
        ("a" * 65 + "@example.com", "invalid_email"),
        ("ada@" + "a" * 2000 + ".com", "invalid_email"),
        ("ada@example.c0m", "unknown_suffix"),
        ("ada@intranet.corp", "unknown_suffix"),
        ("ada@co.uk", "public_suffix_only"),
    ],
)
def test_normalise_email_rejected(value: str, code: str) -> None:
    result = normalise_email(value)
    assert _codes(result, NoteKind.REJECTED) == [code]
    assert result.address is None
    assert result.ascii_address is None
    assert result.match_key is None
    assert not result.is_free_mail


@pytest.mark.parametrize("value", ["ada", "a@x.com; b@y.com", "ada@example.c0m", "ada..quill@example.com", "ada@co.uk"])
def test_normalise_email_rejection_names_value(value: str) -> None:
    message = normalise_email(value).notes[0].message
    assert repr(value) in message
    assert "Send one email address" in message


def test_normalise_email_non_ascii_local_part() -> None:
    result = normalise_email("Jürgen@Bücherstube-Beispiel.de")
    assert result.address == "Jürgen@bücherstube-beispiel.de"
    assert result.ascii_address is None
    assert result.local == "Jürgen"
    assert result.ascii_domain == "xn--bcherstube-beispiel-59b.de"
    assert _codes(result, NoteKind.FLAGGED) == ["smtputf8_required"]


def test_normalise_email_local_part_nfc() -> None:
    result = normalise_email("ju\u0308rgen@example.com")
    assert result.local == "jürgen"
    assert result.address == "jürgen@example.com"


def test_normalise_email_rfc2142_local_lowered() -> None:
    # email_validator lower-cases the case-insensitive RFC 2142 mailbox names.
    assert normalise_email("POSTMASTER@example.com").address == "postmaster@example.com"


def test_normalise_email_subdomain_kept() -> None:
    result = normalise_email("ada@Mail.Example.co.uk")
    assert result.domain == "mail.example.co.uk"
    assert result.ascii_domain == "mail.example.co.uk"


@pytest.mark.parametrize(
    "value", ["ada@gmail.com", "ada@googlemail.com", "ada@hotmail.co.uk", "ada@yahoo.co.jp", "ada@web.de"]
)
def test_normalise_email_free_mail_flagged(value: str) -> None:
    result = normalise_email(value)
    assert result.is_free_mail
    assert not result.is_disposable
    assert _codes(result, NoteKind.FLAGGED) == ["free_mail_domain"]


def test_normalise_email_disposable_flagged() -> None:
    result = normalise_email("ada@mailinator.com")
    assert result.address == "ada@mailinator.com"
    assert result.is_disposable
    assert _codes(result, NoteKind.FLAGGED) == ["disposable_domain"]


def test_normalise_email_company_not_flagged() -> None:
    result = normalise_email("ada.quill@example.com")
    assert not result.is_free_mail
    assert not result.is_disposable
    assert not result.is_role


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sales@example.com", True),
        ("Info@example.com", True),
        ("SUPPORT@example.com", True),
        ("admin@example.com", True),
        ("contact@example.com", True),
        ("hello@example.com", True),
        ("office@example.com", True),
        ("billing@example.com", True),
        ("hr@example.com", True),
        ("jobs@example.com", True),
        ("careers@example.com", True),
        ("noreply@example.com", True),
        ("no-reply@example.com", True),
        ("no_reply@example.com", True),
        ("do-not-reply@example.com", True),
        ("marketing@example.com", True),
        ("team@example.com", True),
        ("enquiries@example.com", True),
        ("webmaster@example.com", True),
        ("postmaster@example.com", True),
        ("abuse@example.com", True),
        ("customer.service@example.com", True),
        ("sales+eu@example.com", True),
        ("vertrieb@bücherstube-beispiel.de", True),
        ("ada.quill@example.com", False),
        ("salesforce@example.com", False),
        ("ada+sales@example.com", False),
    ],
)
def test_normalise_email_role(value: str, expected: bool) -> None:
    result = normalise_email(value)
    assert result.is_role is expected
    assert ("role_address" in _codes(result, NoteKind.FLAGGED)) is expected


_LOCAL = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._+-]{0,12}[A-Za-z0-9])?", fullmatch=True)
_UNICODE_LOCAL = st.text(alphabet="abcÄäöüßéñ", min_size=1, max_size=10)
_DOMAIN = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.COM",
        "mail.example.co.uk",
        "bücherstube-beispiel.de",
        "xn--bcherstube-beispiel-59b.de",
        "gmail.com",
        "googlemail.com",
        "hotmail.co.uk",
        "yahoo.com",
        "icloud.com",
        "mailinator.com",
        "example.github.io",
        "пример.рф",
        "quillon.test",
    ]
)


@st.composite
def _email_values(draw: st.DrawFn) -> str:
    address = f"{draw(st.one_of(_LOCAL, _UNICODE_LOCAL))}@{draw(_DOMAIN)}"
    wrapping = draw(st.sampled_from(["{}", " {} ", "<{}>", "mailto:{}", "Ada Quill <{}>", "{}.", "{};"]))
    return wrapping.format(address)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalise_email_never_raises(value: str) -> None:
    result = normalise_email(value)
    assert (result.address is None) == has_rejection(result.notes)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab.@+-<>;, :\"'()[]ü" + _fullwidth(".@"), max_size=30))
def test_normalise_email_punctuation_never_raises(value: str) -> None:
    result = normalise_email(value)
    assert (result.address is None) == has_rejection(result.notes)


@settings(max_examples=200, deadline=None)
@given(_email_values())
def test_normalise_email_idempotent(value: str) -> None:
    result = normalise_email(value)
    if result.address is None:
        return
    assert normalise_email(result.address) == result
    if result.ascii_address is not None:
        assert normalise_email(result.ascii_address) == result


@settings(max_examples=200, deadline=None)
@given(_email_values())
def test_email_match_key_idempotent(value: str) -> None:
    key = email_match_key(value)
    if key is None:
        return
    assert email_match_key(key) == key


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9]{2,12}", fullmatch=True), st.data())
def test_email_match_key_gmail_dots_and_tags(local: str, data: st.DataObject) -> None:
    dotted = ".".join(local[index] for index in range(len(local)))
    tag = data.draw(st.sampled_from(["", "+crm", "+a.b"]))
    spelling = data.draw(st.sampled_from([local, dotted, local.upper()]))
    domain = data.draw(st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]))
    assert email_match_key(f"{spelling}{tag}@{domain}") == f"{local}@gmail.com"
