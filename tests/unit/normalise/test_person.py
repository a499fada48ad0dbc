from __future__ import annotations

from typing import Any

import pytest

from cascade.domain.errors import InvalidInputError
from cascade.domain.models import PersonEnrichmentRequest
from cascade.normalise.person import normalise_person_request


def _normalise(**fields: Any) -> Any:
    return normalise_person_request(PersonEnrichmentRequest.model_validate(fields))


def _errors(**fields: Any) -> dict[str, str]:
    with pytest.raises(InvalidInputError) as caught:
        _normalise(**fields)
    return {error.field: error.message for error in caught.value.errors}


def test_person_name_and_domain_canonical() -> None:
    result = _normalise(full_name="DENZIL MACHIN", company_domain="https://www.Machin-Tools.co.uk/about", country="gb")
    assert result.person.first_name == "Denzil"
    assert result.person.last_name == "Machin"
    assert result.person.company_domain == "machin-tools.co.uk"
    assert result.person.country == "GB"
    assert result.person.ascii_first == "denzil"


def test_person_linkedin_canonicalised() -> None:
    result = _normalise(linkedin_url="http://de.linkedin.com/in/ada-quill-4d52c31b/?originalSubdomain=de")
    assert result.person.linkedin_url == "https://www.linkedin.com/in/ada-quill-4d52c31b"


def test_person_company_legal_form_kept_for_display() -> None:
    result = _normalise(first_name="Ada", last_name="Quill", company_name="Brenner Fahrzeugteile GmbH & Co. KG")
    assert result.person.company_name == "Brenner Fahrzeugteile GmbH & Co. KG"
    assert result.company is not None
    assert result.company.base == "Brenner Fahrzeugteile"


def test_person_free_mail_domain_falls_back_to_company_name() -> None:
    result = _normalise(first_name="Ada", last_name="Quill", company_name="Quillon Widgets", company_domain="gmail.com")
    assert result.person.company_domain is None
    assert result.person.company_name == "Quillon Widgets"
    assert any(item.field == "company_domain" and item.note.code == "free_mail_domain" for item in result.notes)


def test_person_free_mail_domain_alone_rejected() -> None:
    errors = _errors(first_name="Ada", last_name="Quill", company_domain="gmail.com")
    assert "company_domain" in errors
    assert "gmail.com" in errors["company_domain"]


def test_person_couple_rejected() -> None:
    errors = _errors(full_name="Ada and Ben Quill", company_domain="quillon.de")
    assert "full_name" in errors
    assert "one person" in errors["full_name"]


def test_person_sales_navigator_url_alone_rejected() -> None:
    errors = _errors(linkedin_url="https://www.linkedin.com/sales/lead/ACwAAAExample,NAME_SEARCH,abcd")
    assert "linkedin_url" in errors


def test_person_sales_navigator_url_dropped_when_name_present() -> None:
    result = _normalise(
        full_name="Ada Quill",
        company_domain="quillon.de",
        linkedin_url="https://www.linkedin.com/sales/lead/ACwAAAExample,NAME_SEARCH,abcd",
    )
    assert result.person.linkedin_url is None
    assert result.linkedin is None
    assert any(item.field == "linkedin_url" for item in result.notes)


def test_person_title_only_surname_kept() -> None:
    result = _normalise(full_name="Dr. Quillfeather", company_domain="quillon.de")
    assert result.person.first_name is None
    assert result.person.last_name == "Quillfeather"
    assert result.person.ascii_first == ""
    assert any(item.note.code == "first_name_missing" for item in result.notes)


def test_person_reserved_domain_rejected() -> None:
    errors = _errors(full_name="Ada Quill", company_domain="quillon.test")
    assert "company_domain" in errors
