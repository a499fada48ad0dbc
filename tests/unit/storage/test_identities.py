"""Contact identities for the freshness store and the suppression list: stable hashes, and None when unknown."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.domain.models import NormalisedPerson
from cascade.storage.freshness import contact_identity, name_domain_key
from cascade.storage.suppressions import suppression_identities

PROFILE = "https://www.linkedin.com/in/ada-quill"
# Stored items are addressed by these hashes, so a change of the formula would orphan them.
PROFILE_IDENTITY = "ef6c6a4430ad43c75a4c7e6759177b528c4d5d2dcf55cbfc5721795524d87342"
NAME_DOMAIN_IDENTITY = "2b9b0bd8bc1b9f032aee675c8e55714a3a6bbdc4a9d0097a0b4277f410b58e99"
PROFILE_SUPPRESSION = "li#d6f1d79b394781c27749417d0fd5dd66aa5da2b2abfbe41c49e7bb591904a568"
NAME_DOMAIN_SUPPRESSION = "nd#4fcc4df7df291ad7c7ed4ac2de77267c30ef29e6ea58ad978dd9c96c8398c6e8"
EMAIL_SUPPRESSION = "em#a6d170f3d2f70c3dab92bb7f57ed69e5ed009f5585f1d282046ca357d522de7f"
_HASHED = re.compile(r"[0-9a-f]{64}")


def _person(
    *, linkedin_url: str | None = None, first: str = "ada", last: str = "quill", domain: str | None = "quill.example"
) -> NormalisedPerson:
    return NormalisedPerson(linkedin_url=linkedin_url, company_domain=domain, ascii_first=first, ascii_last=last)


def test_contact_identity_profile() -> None:
    assert contact_identity(_person(linkedin_url=PROFILE)) == PROFILE_IDENTITY


def test_contact_identity_profile_wins_over_name() -> None:
    assert contact_identity(_person(linkedin_url=PROFILE, first="bea")) == PROFILE_IDENTITY


def test_contact_identity_name_domain() -> None:
    assert contact_identity(_person()) == NAME_DOMAIN_IDENTITY


@pytest.mark.parametrize(
    "url",
    [
        "http://uk.linkedin.com/in/Ada-Quill/",
        "linkedin.com/in/ada-quill?trk=profile",
        "https://www.linkedin.com/in/ada-quill/details/experience/",
    ],
)
def test_contact_identity_profile_spellings(url: str) -> None:
    assert contact_identity(_person(linkedin_url=url)) == PROFILE_IDENTITY


def test_contact_identity_unicode_slug_encodings() -> None:
    plain = contact_identity(_person(linkedin_url="https://www.linkedin.com/in/jörg-müller"))
    encoded = contact_identity(_person(linkedin_url="https://www.linkedin.com/in/j%C3%B6rg-m%C3%BCller"))
    assert plain == encoded


def test_contact_identity_ignores_case_of_name() -> None:
    assert contact_identity(_person(first="Ada", last="QUILL", domain="Quill.Example")) == NAME_DOMAIN_IDENTITY


@pytest.mark.parametrize(
    "person",
    [
        NormalisedPerson(),
        _person(first=""),
        _person(last=""),
        _person(domain=None),
        _person(domain=""),
        _person(domain=None, linkedin_url="https://www.linkedin.com/company/quill"),
    ],
    ids=["empty", "no_first", "no_last", "no_domain", "blank_domain", "company_page"],
)
def test_contact_identity_none(person: NormalisedPerson) -> None:
    assert contact_identity(person) is None


def test_contact_identity_company_page_falls_back_to_name() -> None:
    person = _person(linkedin_url="https://www.linkedin.com/company/quill")
    assert contact_identity(person) == NAME_DOMAIN_IDENTITY


def test_name_domain_key_parts() -> None:
    assert name_domain_key(_person()) == "ada|quill|quill.example"


def test_suppression_identities_every_kind() -> None:
    identities = suppression_identities(_person(linkedin_url=PROFILE), email="Ada.Quill@Acme-Corp.com")
    assert identities == (PROFILE_SUPPRESSION, NAME_DOMAIN_SUPPRESSION, EMAIL_SUPPRESSION)


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("ada.quill@acme-corp.com", (EMAIL_SUPPRESSION,)),
        ("  <ADA.QUILL@ACME-CORP.COM> ", (EMAIL_SUPPRESSION,)),
        ("not an address", ()),
        ("ada@quill.example", ()),
        ("", ()),
        (None, ()),
    ],
)
def test_suppression_identities_email(email: str | None, expected: tuple[str, ...]) -> None:
    assert suppression_identities(NormalisedPerson(), email=email) == expected


def test_suppression_identities_gmail_variants_match() -> None:
    tagged = suppression_identities(NormalisedPerson(), email="ada.quill+news@googlemail.com")
    plain = suppression_identities(NormalisedPerson(), email="adaquill@gmail.com")
    assert tagged == plain


def test_suppression_identities_empty_person() -> None:
    assert suppression_identities(NormalisedPerson()) == ()


_text = st.text(max_size=60)


@settings(max_examples=200, deadline=None)
@given(linkedin_url=st.none() | _text, first=_text, last=_text, domain=st.none() | _text, email=st.none() | _text)
def test_identities_never_raise(
    linkedin_url: str | None, first: str, last: str, domain: str | None, email: str | None
) -> None:
    person = NormalisedPerson(linkedin_url=linkedin_url, company_domain=domain, ascii_first=first, ascii_last=last)
    identity = contact_identity(person)
    assert identity is None or _HASHED.fullmatch(identity)
    for suppression in suppression_identities(person, email=email):
        assert re.fullmatch(r"(li|nd|em)#[0-9a-f]{64}", suppression)
    assert contact_identity(person) == identity
