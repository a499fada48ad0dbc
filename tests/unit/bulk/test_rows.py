"""Building enrichment requests from CSV records: cleaning, validation errors and duplicate keys."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cascade.bulk.csv_input import CsvRecord
from cascade.bulk.headers import CanonicalField, map_headers
from cascade.bulk.rows import RowError, RowInput, build_row, clean_cell
from cascade.domain.models import RequestedField, WaterfallOverrides

EMAIL = [RequestedField.EMAIL]


def _build(
    header: Sequence[str],
    cells: Sequence[str],
    *,
    fields: Sequence[RequestedField] = EMAIL,
    default_country: str | None = None,
    number: int = 1,
) -> RowInput | RowError:
    return build_row(
        CsvRecord(number=number, cells=list(cells)),
        map_headers(header),
        fields=fields,
        waterfall=WaterfallOverrides(),
        max_age_days=None,
        default_country=default_country,
    )


def _valid(header: Sequence[str], cells: Sequence[str], **options: object) -> RowInput:
    row = _build(header, cells, **options)  # type: ignore[arg-type]
    assert isinstance(row, RowInput), row
    return row


def _invalid(header: Sequence[str], cells: Sequence[str], **options: object) -> RowError:
    row = _build(header, cells, **options)  # type: ignore[arg-type]
    assert isinstance(row, RowError), row
    return row


def test_duplicate_email_columns_first_filled_wins() -> None:
    row = _valid(["First Name", "Last Name", "Email", "Email"], ["Ada", "Quill", "ada.quill@quillon.example.com", ""])
    assert row.request.company_domain == "quillon.example.com"
    row = _valid(["First Name", "Last Name", "Email", "Email"], ["Ada", "Quill", "", "ada.quill@quillon.example.com"])
    assert row.request.company_domain == "quillon.example.com"


def test_duplicate_header_case_uses_filled_email() -> None:
    row = _valid(["First Name", "Email", "Email", "Company", "Last Name"],
                 ["Ada", "ada.quill@example.com", "", "Quillon", "Quill"])  # fmt: skip
    assert row.request.company_name == "Quillon"
    assert row.request.first_name == "Ada"


def test_company_domain_from_work_email() -> None:
    row = _valid(["First Name", "Last Name", "Email"], ["Ada", "Quill", "Ada.Quill@Machin-Tools.co.uk"])
    assert row.request.company_domain == "machin-tools.co.uk"
    assert row.person.company_domain == "machin-tools.co.uk"


def test_free_mail_email_not_a_company_domain() -> None:
    error = _invalid(["First Name", "Last Name", "Email"], ["Ada", "Quill", "ada.quill@gmail.com"])
    assert "too little to identify a person" in error.message
    assert "free-mail" in error.message


def test_free_mail_website_falls_back_to_company_name() -> None:
    row = _valid(["First Name", "Last Name", "Company", "Website"], ["Ada", "Quill", "Quillon Widgets", "gmail.com"])
    assert row.person.company_domain is None
    assert row.person.company_name == "Quillon Widgets"


def test_apollo_phone_guard_stripped() -> None:
    row = _valid(["First Name", "Last Name", "Company", "Mobile Phone", "Country"],
                 ["Ada", "Quill", "Quillon", "'+44 20 7946 0123", "GB"])  # fmt: skip
    assert row.phone == "+442079460123"


def test_international_prefix_00_phone() -> None:
    row = _valid(["Full Name", "Company", "Phone"], ["Ada Quill", "Quillon", "0044 20 7946 0123"])
    assert row.phone == "+442079460123"


def test_excel_scientific_phone_not_used() -> None:
    row = _valid(["Full Name", "Company", "Phone", "Country"], ["Ada Quill", "Quillon", "4.47701E+11", "GB"])
    assert row.phone is None
    assert any("phone" in note for note in row.notes)


def test_google_multi_value_takes_first() -> None:
    header = ["Given Name", "Family Name", "E-mail 1 - Value", "Organization 1 - Name"]
    row = _valid(header, ["Ada", "Quill", "ada@quillon.example.com ::: ada.q@other.example.org", "Quillon"])
    assert row.request.company_name == "Quillon"
    assert clean_cell("a@x.example.com ::: b@y.example.com", CanonicalField.EMAIL) == "a@x.example.com"
    assert clean_cell("a@x.example.com; b@y.example.com", CanonicalField.EMAIL) == "a@x.example.com"
    assert clean_cell("Quill; Sons", CanonicalField.COMPANY) == "Quill; Sons"


def test_linkedin_in_website_column() -> None:
    row = _valid(["Full Name", "Website 1 - Value"], ["Ada Quill", "https://www.linkedin.com/in/ada-quill-4d52c31b"])
    assert row.request.linkedin_url == "https://www.linkedin.com/in/ada-quill-4d52c31b"
    assert row.request.company_domain is None


def test_country_name_converted() -> None:
    header = ["Full Name", "Company", "Country/Region"]
    assert _valid(header, ["Ada Quill", "Quillon", "United Kingdom"]).request.country == "GB"
    assert _valid(header, ["Ada Quill", "Quillon", "uk"]).request.country == "GB"
    assert _valid(header, ["Ada Quill", "Quillon", "Germany"]).request.country == "DE"


def test_unknown_country_uses_default() -> None:
    row = _valid(["Full Name", "Company", "Country"], ["Ada Quill", "Quillon", "Atlantis"], default_country="IE")
    assert row.request.country == "IE"
    assert any("'Country'" in note for note in row.notes)


def test_blank_country_uses_default() -> None:
    row = _valid(["Full Name", "Company", "Country"], ["Ada Quill", "Quillon", ""], default_country="SE")
    assert row.request.country == "SE"


def test_record_id_becomes_external_id() -> None:
    row = _valid(["Record ID", "Full Name", "Company"], ["51203001314", "Ada Quill", "Quillon"])
    assert row.request.external_id == "51203001314"


def test_requested_fields_and_options_passed() -> None:
    row = build_row(
        CsvRecord(number=7, cells=["Ada Quill", "Quillon"]),
        map_headers(["Full Name", "Company"]),
        fields=[RequestedField.EMAIL, RequestedField.PHONE],
        waterfall=WaterfallOverrides(skip=["hunter"]),
        max_age_days=0,
        default_country=None,
    )
    assert isinstance(row, RowInput)
    assert row.number == 7
    assert row.request.fields == [RequestedField.EMAIL, RequestedField.PHONE]
    assert row.request.waterfall.skip == ["hunter"]
    assert row.request.max_age_days == 0


def test_too_little_to_identify() -> None:
    error = _invalid(["First Name", "Last Name", "Company"], ["Sam", "", ""], number=4)
    assert error.number == 4
    assert error.field == "body"
    assert "too little to identify a person" in error.message


def test_two_people_in_name_names_column() -> None:
    error = _invalid(["Full Name", "Company"], ["Ada Quill and Bo Farrowby", "Quillon"])
    assert error.field == "full_name"
    assert error.message.startswith("column 'Full Name':")


def test_overlong_name_names_column() -> None:
    error = _invalid(["First Name", "Last Name", "Company"], ["A" * 101, "Quill", "Quillon"])
    assert error.field == "first_name"
    assert "'First Name'" in error.message


def test_extra_cells_rejected() -> None:
    error = _invalid(["Full Name", "Company"], ["Ada Quill", "Quillon", "Ltd"])
    assert error.field == "row"
    assert "3 cells but the header has 2 columns" in error.message


def test_sales_navigator_url_alone_rejected() -> None:
    error = _invalid(["LinkedIn URL"], ["https://www.linkedin.com/sales/lead/ACwAAAExample,NAME_SEARCH,abcd"])
    assert error.field == "linkedin_url"
    assert "'LinkedIn URL'" in error.message


def test_all_caps_name_recapitalised() -> None:
    row = _valid(["Full Name", "Company"], ["DENZIL MACHIN", "Machin Tools"])
    assert row.person.first_name == "Denzil"
    assert row.person.last_name == "Machin"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["Ada", "Quill", "https://www.quillon.example.com/about"], ["ADA", "QUILL", "quillon.example.com"]),
        (["Ada", "Quill", "quillon.example.com"], ["Ada", "Quill", "http://www.Quillon.example.com/"]),
    ],
)
def test_dedupe_key_matches_same_person(first: list[str], second: list[str]) -> None:
    header = ["First Name", "Last Name", "Website"]
    assert _valid(header, first).dedupe_key == _valid(header, second).dedupe_key


def test_dedupe_key_by_linkedin_profile() -> None:
    header = ["Full Name", "Company", "LinkedIn URL"]
    first = _valid(header, ["Ada Quill", "Quillon", "http://de.linkedin.com/in/ada-quill-4d52c31b/"])
    second = _valid(header, ["A. Quill", "Other Co", "https://www.linkedin.com/in/ada-quill-4d52c31b"])
    assert first.dedupe_key == second.dedupe_key


def test_dedupe_key_differs_by_person_and_fields() -> None:
    header = ["First Name", "Last Name", "Company"]
    ada = _valid(header, ["Ada", "Quill", "Quillon Widgets Ltd"])
    ada_again = _valid(header, ["ada", "quill", "Quillon Widgets Ltd"])
    bo = _valid(header, ["Bo", "Quill", "Quillon Widgets Ltd"])
    ada_phone = _valid(header, ["Ada", "Quill", "Quillon Widgets Ltd"], fields=[RequestedField.PHONE])
    assert ada.dedupe_key == ada_again.dedupe_key
    assert ada.dedupe_key != bo.dedupe_key
    assert ada.dedupe_key != ada_phone.dedupe_key
