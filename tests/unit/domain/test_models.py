from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cascade.domain.errors import field_errors
from cascade.domain.models import (
    Billing,
    BillingLine,
    EmailResult,
    EmailVerdict,
    EnrichmentResult,
    EnrichmentStatus,
    NormalisedPerson,
    PersonEnrichmentRequest,
    RequestedField,
)


def _errors(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        PersonEnrichmentRequest.model_validate(payload)
    return {error.field: error.message for error in field_errors(caught.value, PersonEnrichmentRequest)}


def test_request_defaults_to_email() -> None:
    request = PersonEnrichmentRequest(linkedin_url="https://www.linkedin.com/in/ada-quill")
    assert request.fields == [RequestedField.EMAIL]
    assert request.waterfall.accept_catch_all is False


@pytest.mark.parametrize(
    "payload",
    [
        {"linkedin_url": "linkedin.com/in/ada-quill"},
        {"full_name": "Ada Quill", "company_domain": "quillon.de"},
        {"first_name": "Ada", "last_name": "Quill", "company_name": "Quillon Widgets"},
    ],
)
def test_request_minimum_input_accepted(payload: dict[str, Any]) -> None:
    assert PersonEnrichmentRequest.model_validate(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"full_name": "Ada Quill"},
        {"first_name": "Ada", "company_domain": "quillon.de"},
        {"company_domain": "quillon.de", "company_name": "Quillon"},
        {"full_name": "   ", "company_domain": "quillon.de"},
    ],
)
def test_request_too_little_input_rejected(payload: dict[str, Any]) -> None:
    errors = _errors(payload)
    assert "too little to identify a person" in next(iter(errors.values()))


def test_request_unknown_field_lists_accepted() -> None:
    errors = _errors({"linkedin_url": "linkedin.com/in/ada", "company_domian": "x.de"})
    assert "company_domian" in errors
    assert "accepted fields are" in errors["company_domian"]
    assert "company_domain" in errors["company_domian"]


def test_request_bad_country_named() -> None:
    errors = _errors({"linkedin_url": "linkedin.com/in/ada", "country": "England"})
    assert "ISO 3166-1 alpha-2" in errors["country"]


def test_request_country_upper_cased() -> None:
    request = PersonEnrichmentRequest(linkedin_url="linkedin.com/in/ada", country="gb")
    assert request.country == "GB"


def test_request_bad_field_named() -> None:
    errors = _errors({"linkedin_url": "linkedin.com/in/ada", "fields": ["email", "fax"]})
    assert "fields.1" in errors
    assert "'email' or 'phone'" in errors["fields.1"]


def test_request_duplicate_fields_rejected() -> None:
    errors = _errors({"linkedin_url": "linkedin.com/in/ada", "fields": ["email", "email"]})
    assert "at most once" in next(iter(errors.values()))


def test_request_float_max_amount_rejected() -> None:
    errors = _errors({"linkedin_url": "linkedin.com/in/ada", "waterfall": {"max_amount": 0.5}})
    assert "decimal string" in errors["waterfall.max_amount"]


def test_request_max_amount_exact() -> None:
    request = PersonEnrichmentRequest(linkedin_url="linkedin.com/in/ada", waterfall={"max_amount": "0.50"})
    assert request.waterfall.max_amount == Decimal("0.50")


def test_billing_amount_must_equal_lines() -> None:
    line = BillingLine(
        match_id="m1", field=RequestedField.EMAIL, amount=Decimal("0.20"), provider="hunter", verdict="valid"
    )
    with pytest.raises(ValidationError, match="differs from the sum"):
        Billing(billed=True, amount=Decimal("0.50"), lines=[line])


def test_result_serialises_money_as_strings() -> None:
    verified = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    line = BillingLine(
        match_id="m1", field=RequestedField.EMAIL, amount=Decimal("0.2"), provider="hunter", verdict="valid"
    )
    result = EnrichmentResult(
        id="enr_1",
        status=EnrichmentStatus.MATCHED,
        person=NormalisedPerson(first_name="Ada", last_name="Quill", ascii_first="ada"),
        email=EmailResult(
            address="ada.quill@quillon.de",
            verdict=EmailVerdict.VALID,
            verified_at=verified,
            provider="hunter",
            confidence=0.9,
        ),
        billing=Billing(billed=True, amount=Decimal("0.20"), lines=[line]),
    )
    dumped = result.model_dump(mode="json")
    assert dumped["billing"]["amount"] == "0.20"
    assert dumped["billing"]["lines"][0]["amount"] == "0.20"
    assert "ascii_first" not in dumped["person"]
    assert dumped["email"]["verified_at"] == "2026-12-04T15:00:00Z"


def test_email_result_requires_aware_time() -> None:
    with pytest.raises(ValidationError, match="verified_at"):
        EmailResult(
            address="a@b.de",
            verdict=EmailVerdict.VALID,
            verified_at=datetime(2026, 12, 4),  # noqa: DTZ001 - the naive time under test
            provider="hunter",
            confidence=0.5,
        )
