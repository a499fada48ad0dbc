from __future__ import annotations

from dataclasses import fields
from typing import NamedTuple

import phonenumbers
import pytest
from hypothesis import assume, given, reject, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from cascade.normalise.notes import NoteKind, has_rejection
from cascade.normalise.phones import LineType, Phone, line_type_from_number_type, normalise_phone

UNRECOVERABLE = "unrecoverable spreadsheet format: re-export the column as text"

EXAMPLE_TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
)


class Expected(NamedTuple):
    e164: str
    extension: str | None
    line_type: LineType
    assumed_international: bool
    repaired: bool


def in_script(text: str, zero: int) -> str:
    """Rewrite the ASCII digits of ``text`` in the script whose digit zero is code point ``zero``."""
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


FULLWIDTH_ZERO = 0xFF10
ARABIC_INDIC_ZERO = 0x0660
EXTENDED_ARABIC_INDIC_ZERO = 0x06F0
DEVANAGARI_ZERO = 0x0966
FULLWIDTH_PLUS = "\uff0b"


def codes(phone: Phone, kind: NoteKind) -> list[str]:
    return [note.code for note in phone.notes if note.kind is kind]


def reparse(phone: Phone) -> Phone:
    assert phone.e164 is not None
    suffix = f";ext={phone.extension}" if phone.extension else ""
    return normalise_phone(phone.e164 + suffix)


def assert_rejected(phone: Phone, code: str) -> None:
    assert phone.e164 is None
    assert phone.extension is None
    assert phone.country is None
    assert phone.is_valid is False
    assert phone.line_type is LineType.UNKNOWN
    assert codes(phone, NoteKind.REJECTED) == [code]


# Expected values for the three kinds of failure that break enrichment pipelines: an
# international prefix written as 00 or a lost "+", spreadsheet manglings, and line types
# in shared numbering plans.
@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("0044 20 7946 0123", None, Expected("+442079460123", None, LineType.FIXED_LINE, True, False)),
        ("0044 20 7946 0123", "US", Expected("+442079460123", None, LineType.FIXED_LINE, True, False)),
        ("442079460123", None, Expected("+442079460123", None, LineType.FIXED_LINE, True, False)),
        ("612345678", "IT", Expected("+390612345678", None, LineType.FIXED_LINE, False, True)),
        ("2079460123", "GB", Expected("+442079460123", None, LineType.FIXED_LINE, False, False)),
        (
            "(201) 555-0123 x42",
            "US",
            Expected("+12015550123", "42", LineType.FIXED_LINE_OR_MOBILE, False, False),
        ),
    ],
)
def test_normalise_phone_known_failures(value: str, country: str | None, expected: Expected) -> None:
    phone = normalise_phone(value, country, default_region="US")

    assert phone.e164 == expected.e164
    assert phone.extension == expected.extension
    assert phone.line_type is expected.line_type
    assert phone.is_valid is True
    assert phone.assumed_international is expected.assumed_international
    assert phone.repaired is expected.repaired
    assert not has_rejection(phone.notes)


def test_normalise_phone_scientific_known_input() -> None:
    phone = normalise_phone("4.47701E+11", "GB")

    assert_rejected(phone, "spreadsheet_scientific_notation")
    assert phone.notes[-1].message.startswith(UNRECOVERABLE)
    assert "4.47701E+11" in phone.notes[-1].message


def test_normalise_phone_shared_plan_not_mobile() -> None:
    phone = normalise_phone("(201) 555-0123 x42", "US")

    assert phone.line_type is LineType.FIXED_LINE_OR_MOBILE
    assert phone.line_type.value != "mobile"
    assert phone.country == "US"


def test_phone_fields_claim_no_service_or_sms() -> None:
    names = [field.name for field in fields(Phone)]

    assert not [name for name in names if "sms" in name]
    assert not [name for name in names if "service" in name]
    assert not [name for name in names if "reachable" in name]


@pytest.mark.parametrize(
    ("value", "country"),
    [
        ("(201) 555-0123 x42", "US"),
        ("0044 20 7946 0123", None),
        ("612345678", "IT"),
        ("07700 900123", "GB"),
        ("4.47701E+11", "GB"),
        ("201-555-0123 / 201-555-0124", "US"),
    ],
)
def test_normalise_phone_notes_claim_no_service(value: str, country: str | None) -> None:
    messages = " ".join(note.message.lower() for note in normalise_phone(value, country).notes)

    assert "in service" not in messages
    assert "sms" not in messages
    assert "reachable" not in messages


@pytest.mark.parametrize(
    ("value", "extension"),
    [
        ("(201) 555-0123 x42", "42"),
        ("(201) 555-0123 x 42", "42"),
        ("201-555-0123 ext. 42", "42"),
        ("201-555-0123 ext 42", "42"),
        ("+1 201 555 0123 extension 42", "42"),
        ("201-555-0123 #42", "42"),
        ("201-555-0123,42", "42"),
        ("+12015550123;ext=42", "42"),
        ("tel:+1-201-555-0123;ext=42", "42"),
        ("201-555-0123 x1234567", "1234567"),
        ("201-555-0123 x", None),
        ("201-555-0123", None),
    ],
)
def test_normalise_phone_extension_kept_apart(value: str, extension: str | None) -> None:
    phone = normalise_phone(value, "US")

    assert phone.e164 == "+12015550123"
    assert phone.extension == extension


@pytest.mark.parametrize(
    ("value", "country", "e164", "assumed_international"),
    [
        # A region that dials 00 abroad parses 00 itself: nothing is assumed.
        ("0044 20 7946 0123", "GB", "+442079460123", False),
        ("0044 20 7946 0123", "DE", "+442079460123", False),
        ("00 91 98113 42484", "GB", "+919811342484", False),
        # The US dials 011, which phonenumbers parses for a US context.
        ("011 44 20 7946 0123", "US", "+442079460123", False),
        ("011 44 20 7946 0123", None, "+442079460123", False),
        # A region that dials 011 reads 00 as national digits, so the retry decides.
        ("0033 1 99 00 12 34", "US", "+33199001234", True),
        ("0049 30 12345678", None, "+493012345678", True),
        ("0039 06 1234 5678", "CA", "+390612345678", True),
        ("0044 (0)20 7946 0123", "US", "+442079460123", True),
        ("0044-20-7946-0123", None, "+442079460123", True),
        # Digits whose "+" a spreadsheet dropped.
        ("4930123456789", None, "+4930123456789", True),
        ("61491570156", None, "+61491570156", True),
        ("919811342484", None, "+919811342484", True),
        ("390612345678", None, "+390612345678", True),
        ("33612345678", "GB", "+33612345678", True),
        ("44 20 7946 0123", None, "+442079460123", True),
        ("44-20-7946-0123", None, "+442079460123", True),
        # phonenumbers strips a leading country code that matches the region itself.
        ("442079460123", "GB", "+442079460123", False),
    ],
)
def test_normalise_phone_international_prefix(
    value: str, country: str | None, e164: str, assumed_international: bool
) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.is_valid is True
    assert phone.assumed_international is assumed_international
    assert ("assumed_international" in codes(phone, NoteKind.ASSUMED)) is assumed_international


def test_normalise_phone_international_note() -> None:
    phone = normalise_phone("442079460123")

    assert phone.notes[0].kind is NoteKind.ASSUMED
    assert "442079460123" in phone.notes[0].message
    assert "+44 20 7946 0123" in phone.notes[0].message


@pytest.mark.parametrize(
    ("value", "country", "e164"),
    [
        ("12015550123", None, "+12015550123"),
        ("12015550123", "US", "+12015550123"),
        ("02079460123", "GB", "+442079460123"),
        ("16135550123", "CA", "+16135550123"),
    ],
)
def test_normalise_phone_regional_reading_wins(value: str, country: str | None, e164: str) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.assumed_international is False
    assert phone.notes == ()


@pytest.mark.parametrize(
    "value",
    [
        "4.47701E+11",
        "4,47701E+11",
        "1.2e10",
        "4.47701E11",
        "4.47701e+011",
        "4.47701E+11 ",
        "4.47701 E+11",
        "'4.47701E+11",
        '="4.47701E+11"',
        "3.39123E+10",
        "9.18E+11",
        "-4.47701E+11",
        "4.47701E-11",
        in_script("4.47701E+11", ARABIC_INDIC_ZERO),
        in_script("4.47701", FULLWIDTH_ZERO) + "\uff25+" + in_script("11", FULLWIDTH_ZERO),
    ],
)
def test_normalise_phone_scientific_rejected(value: str) -> None:
    phone = normalise_phone(value, "GB")

    assert_rejected(phone, "spreadsheet_scientific_notation")
    assert phone.notes[-1].message.startswith(UNRECOVERABLE)
    assert repr(value) in phone.notes[-1].message


@given(st.floats(min_value=1e6, max_value=1e15), st.sampled_from(["E", "e"]))
@settings(max_examples=200, deadline=None)
def test_normalise_phone_scientific_never_converted(number: float, marker: str) -> None:
    value = f"{number:.5E}".replace("E", marker)

    phone = normalise_phone(value, "GB")

    assert phone.e164 is None
    assert codes(phone, NoteKind.REJECTED) == ["spreadsheet_scientific_notation"]


@pytest.mark.parametrize(
    "value",
    ["#NAME?", "#VALUE!", "#REF!", "#N/A", "#NUM!", "#ERROR!", "#####", "########", "Err:508", "#name?"],
)
def test_normalise_phone_spreadsheet_error_rejected(value: str) -> None:
    phone = normalise_phone(value, "GB")

    assert_rejected(phone, "spreadsheet_error_value")
    assert phone.notes[-1].message.startswith(UNRECOVERABLE)


@pytest.mark.parametrize(
    ("value", "country", "e164", "notes"),
    [
        ("442079460123.0", "GB", "+442079460123", ["spreadsheet_float_suffix"]),
        ("2079460123.0", "GB", "+442079460123", ["spreadsheet_float_suffix"]),
        ("12015550123.0", "US", "+12015550123", ["spreadsheet_float_suffix"]),
        ("612345678.0", "IT", "+390612345678", ["spreadsheet_float_suffix", "leading_zero_restored"]),
        ("442079460123.00", None, "+442079460123", ["spreadsheet_float_suffix"]),
    ],
)
def test_normalise_phone_float_suffix(value: str, country: str | None, e164: str, notes: list[str]) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.repaired is True
    assert codes(phone, NoteKind.REPAIRED) == notes


def test_normalise_phone_dotted_number_not_float() -> None:
    phone = normalise_phone("201.555.0123", "US")

    assert phone.e164 == "+12015550123"
    assert phone.repaired is False


@pytest.mark.parametrize(
    ("value", "country", "e164", "code"),
    [
        # The leading 0 is part of the number and stays in international format.
        ("612345678", "IT", "+390612345678", "leading_zero_restored"),
        ("6 1234 5678", "IT", "+390612345678", "leading_zero_restored"),
        ("212345678", "IT", "+390212345678", "leading_zero_restored"),
        ("549886377", "SM", "+3780549886377", "leading_zero_restored"),
        ("669812345", "VA", "+390669812345", "leading_zero_restored"),
        ("123456789", "CI", "+2250123456789", "leading_zero_restored"),
        ("612345678 x12", "IT", "+390612345678", "leading_zero_restored"),
        # Hungary's trunk prefix is 06, and a spreadsheet drops only its 0.
        ("612345678", "HU", "+3612345678", "national_prefix_restored"),
    ],
)
def test_normalise_phone_dropped_zero_restored(value: str, country: str, e164: str, code: str) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.is_valid is True
    assert phone.repaired is True
    assert codes(phone, NoteKind.REPAIRED) == [code]
    assert value in phone.notes[0].message


@pytest.mark.parametrize(
    ("value", "country", "e164"),
    [
        # A trunk prefix is optional to phonenumbers, so losing it changes nothing.
        ("2079460123", "GB", "+442079460123"),
        ("3012345678", "DE", "+493012345678"),
        ("199001234", "FR", "+33199001234"),
        ("255501234", "AU", "+61255501234"),
        # Italian mobiles have no leading 0, so the plain parse is already valid.
        ("3123456789", "IT", "+393123456789"),
        ("0612345678", "IT", "+390612345678"),
    ],
)
def test_normalise_phone_trunk_prefix_not_needed(value: str, country: str, e164: str) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.repaired is False
    assert phone.notes == ()


@pytest.mark.parametrize(
    ("value", "country", "e164"),
    [
        ("'+91 98113 42484", None, "+919811342484"),
        ("'020 7946 0123", "GB", "+442079460123"),
        ('="0201234"', "DE", "+49201234"),
        ('= "020 7946 0123"', "GB", "+442079460123"),
        ("=+442079460123", None, "+442079460123"),
        ('="+44 20 7946 0123"', None, "+442079460123"),
        ('"020 7946 0123"', "GB", "+442079460123"),
        ("\t+442079460123", None, "+442079460123"),
        ("'+442079460123", None, "+442079460123"),
        ("tel:+1-201-555-0123", None, "+12015550123"),
        ("TEL:+1-201-555-0123", None, "+12015550123"),
        ("tel:2015550123;phone-context=+1", "GB", "+12015550123"),
        ("callto:+442079460123", None, "+442079460123"),
        ("+44\u00a020\u00a07946\u00a00123", None, "+442079460123"),
        ("020\u202f7946\u202f0123", "GB", "+442079460123"),
        ("020\u20077946\u20070123", "GB", "+442079460123"),
        ("\ufeff020 7946 0123", "GB", "+442079460123"),
        ("020\u200b7946\u200e0123", "GB", "+442079460123"),
        (in_script("2015550123", FULLWIDTH_ZERO), "US", "+12015550123"),
        (FULLWIDTH_PLUS + in_script("44 20 7946 0123", FULLWIDTH_ZERO), None, "+442079460123"),
        (in_script("2015550123", ARABIC_INDIC_ZERO), "US", "+12015550123"),
        (in_script("020 7946 0123", EXTENDED_ARABIC_INDIC_ZERO), "GB", "+442079460123"),
        (in_script("020 7946 0123", DEVANAGARI_ZERO), "GB", "+442079460123"),
        ("  +44 20 7946 0123  ", None, "+442079460123"),
        ("+44 (0)20 7946 0123", None, "+442079460123"),
        ("+49 (0) 30 12345678", None, "+493012345678"),
        ("0201/1234567", "DE", "+492011234567"),
        ("Tel: 020 7946 0123", "GB", "+442079460123"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
    ],
)
def test_normalise_phone_cleans_formatting(value: str, country: str | None, e164: str) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.is_valid is True
    assert phone.repaired is False


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("1-800-FLOWERS", "+18003569377"),
        ("1 800 FLOWERS", "+18003569377"),
        ("+1-800-flowers", "+18003569377"),
    ],
)
def test_normalise_phone_vanity_letters(value: str, e164: str) -> None:
    phone = normalise_phone(value, "US")

    assert phone.e164 == e164
    assert phone.line_type is LineType.TOLL_FREE
    assert phone.notes == ()


@pytest.mark.parametrize(
    ("value", "country", "e164", "extension"),
    [
        ("+1 201 555 0123 (mobile)", None, "+12015550123", None),
        ("020 7946 0123 mobile", "GB", "+442079460123", None),
        ("mobile: 020 7946 0123 (work)", "GB", "+442079460123", None),
        ("020 7946 0123 ext 42 (office)", "GB", "+442079460123", "42"),
        ("call 020 7946 0123 after 5pm", "GB", "+442079460123", None),
    ],
)
def test_normalise_phone_labels(value: str, country: str | None, e164: str, extension: str | None) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert phone.extension == extension
    assert codes(phone, NoteKind.ASSUMED) == ["text_around_number_ignored"]


@pytest.mark.parametrize(
    ("value", "e164", "country", "line_type"),
    [
        ("+44 20 7946 0123", "+442079460123", "GB", LineType.FIXED_LINE),
        ("+44 113 496 0123", "+441134960123", "GB", LineType.FIXED_LINE),
        ("+44 808 157 0123", "+448081570123", "GB", LineType.TOLL_FREE),
        ("+44 909 879 0123", "+449098790123", "GB", LineType.PREMIUM_RATE),
        ("+44 306 999 0123", "+443069990123", "GB", LineType.UAN),
        ("+1 201 555 0123", "+12015550123", "US", LineType.FIXED_LINE_OR_MOBILE),
        ("+1 613 555 0123", "+16135550123", "CA", LineType.FIXED_LINE_OR_MOBILE),
        ("+1 800 555 0199", "+18005550199", "US", LineType.TOLL_FREE),
        ("+1 900 555 0123", "+19005550123", "US", LineType.PREMIUM_RATE),
        ("+61 491 570 156", "+61491570156", "AU", LineType.MOBILE),
        ("+91 98113 42484", "+919811342484", "IN", LineType.MOBILE),
        ("+39 06 6981 2345", "+390669812345", "VA", LineType.FIXED_LINE),
        ("+800 1234 5678", "+80012345678", None, LineType.TOLL_FREE),
    ],
)
def test_normalise_phone_line_type(value: str, e164: str, country: str | None, line_type: LineType) -> None:
    phone = normalise_phone(value)

    assert phone.e164 == e164
    assert phone.country == country
    assert phone.line_type is line_type


@pytest.mark.parametrize(
    ("number_type", "line_type"),
    [
        (PhoneNumberType.FIXED_LINE, LineType.FIXED_LINE),
        (PhoneNumberType.MOBILE, LineType.MOBILE),
        (PhoneNumberType.FIXED_LINE_OR_MOBILE, LineType.FIXED_LINE_OR_MOBILE),
        (PhoneNumberType.TOLL_FREE, LineType.TOLL_FREE),
        (PhoneNumberType.PREMIUM_RATE, LineType.PREMIUM_RATE),
        (PhoneNumberType.SHARED_COST, LineType.SHARED_COST),
        (PhoneNumberType.VOIP, LineType.VOIP),
        (PhoneNumberType.PERSONAL_NUMBER, LineType.PERSONAL_NUMBER),
        (PhoneNumberType.PAGER, LineType.PAGER),
        (PhoneNumberType.UAN, LineType.UAN),
        (PhoneNumberType.VOICEMAIL, LineType.VOICEMAIL),
        (PhoneNumberType.UNKNOWN, LineType.UNKNOWN),
        (12345, LineType.UNKNOWN),
    ],
)
def test_line_type_from_number_type_maps(number_type: int, line_type: LineType) -> None:
    assert line_type_from_number_type(number_type) is line_type


def test_line_type_values_libphonenumber_names() -> None:
    names = {name.lower() for name in vars(PhoneNumberType) if name.isupper()}

    assert {member.value for member in LineType} == names


@pytest.mark.parametrize(
    ("value", "country", "code"),
    [
        ("07700 900123", "GB", "invalid_number"),
        ("+44 7700 900123", None, "invalid_number"),
        ("+39 6 1234 5678", None, "invalid_number"),
        ("1234567", "DE", "invalid_number"),
        ("0044 20 7946 012", None, "invalid_number"),
        ("12", "US", "too_short"),
        ("12345", "US", "too_short"),
        ("011", "US", "too_short"),
        ("+1 201 555 01234", None, "too_long"),
        ("+44 20 7946 01234", None, "too_long"),
        ("9999999999999999999", "US", "too_long"),
        ("1" * 300, "US", "too_long"),
        ("5" * 2000, "US", "too_long"),
        ("612345678", "SM", "invalid_length"),
        ("555-0123", "US", "missing_area_code"),
        ("+44 2079 4601", None, "missing_area_code"),
        ("+999 123456", None, "invalid_country_code"),
        ("abc", "US", "not_a_number"),
        ("n/a", "US", "not_a_number"),
        ("+", "US", "not_a_number"),
        ("+44", "US", "not_a_number"),
        ("", "US", "empty"),
        ("   ", "US", "empty"),
        ("'", "US", "empty"),
        ('=""', "US", "empty"),
        ("\u200b", "US", "empty"),
    ],
)
def test_normalise_phone_rejects_with_code(value: str, country: str | None, code: str) -> None:
    phone = normalise_phone(value, country)

    assert_rejected(phone, code)


def test_normalise_phone_invalid_number_message() -> None:
    message = normalise_phone("07700 900123", "GB").notes[-1].message

    assert "'07700 900123'" in message
    assert "+44 (GB)" in message
    assert "country code" in message


@pytest.mark.parametrize(
    "value",
    [
        "020 7946 0123 / 020 7946 0124",
        "020 7946 0123/020 7946 0124",
        "020 7946 0123, 020 7946 0124",
        "020 7946 0123; 020 7946 0124",
        "020 7946 0123\n020 7946 0124",
        "020 7946 0123\r\n020 7946 0124",
        "020 7946 0123 | 020 7946 0124",
        "020 7946 0123 or 020 7946 0124",
        "020 7946 0123 and +44 20 7946 0124",
        "020 7946 0123 & 07700 900123",
        "+1 201 555 0123 / +1 201 555 0124",
    ],
)
def test_normalise_phone_multiple_numbers_rejected(value: str) -> None:
    phone = normalise_phone(value, "GB")

    assert_rejected(phone, "multiple_numbers")
    assert repr(value) in phone.notes[-1].message


@pytest.mark.parametrize(
    ("value", "country", "e164"),
    [
        ("0201/1234567", "DE", "+492011234567"),
        ("201-555-0123,42", "US", "+12015550123"),
        ("+12015550123;ext=42", "US", "+12015550123"),
        ("+1 201 555 0123 / ext 42", "US", "+12015550123"),
        ("tel:2015550123;phone-context=+1", "US", "+12015550123"),
    ],
)
def test_normalise_phone_separator_in_number(value: str, country: str, e164: str) -> None:
    phone = normalise_phone(value, country)

    assert phone.e164 == e164
    assert not has_rejection(phone.notes)


@pytest.mark.parametrize("country", ["GB", "gb", " Gb ", "uk", "UK"])
def test_normalise_phone_country_case_insensitive(country: str) -> None:
    phone = normalise_phone("020 7946 0123", country)

    assert phone.e164 == "+442079460123"
    assert phone.country == "GB"


def test_normalise_phone_country_alias_noted() -> None:
    phone = normalise_phone("020 7946 0123", "UK")

    assert codes(phone, NoteKind.ASSUMED) == ["country_alias"]


@pytest.mark.parametrize("country", ["XX", "ZZZ", "United Kingdom", "1", "??", "AQ"])
def test_normalise_phone_unknown_country_uses_default(country: str) -> None:
    phone = normalise_phone("201-555-0123", country, default_region="US")

    assert phone.e164 == "+12015550123"
    assert codes(phone, NoteKind.ASSUMED) == ["unknown_country"]
    assert repr(country) in phone.notes[0].message


@pytest.mark.parametrize("country", [None, "", "  "])
def test_normalise_phone_empty_country_uses_default(country: str | None) -> None:
    phone = normalise_phone("020 7946 0123", country, default_region="GB")

    assert phone.e164 == "+442079460123"
    assert phone.notes == ()


def test_normalise_phone_country_from_number() -> None:
    phone = normalise_phone("+33 1 99 00 12 34", "GB")

    assert phone.country == "FR"
    assert phone.assumed_international is False


@pytest.mark.parametrize("default_region", ["XX", "", "001", "United States"])
def test_normalise_phone_bad_default_region(default_region: str) -> None:
    with pytest.raises(ValueError, match="default_region"):
        normalise_phone("201-555-0123", default_region=default_region)


def test_normalise_phone_default_region_case() -> None:
    phone = normalise_phone("020 7946 0123", default_region="gb")

    assert phone.e164 == "+442079460123"


@pytest.mark.parametrize(
    ("value", "country"),
    [
        ("(201) 555-0123 x42", "US"),
        ("0044 20 7946 0123", "US"),
        ("442079460123", None),
        ("612345678", "IT"),
        ("549886377", "SM"),
        ("442079460123.0", None),
        ("+800 1234 5678", None),
        ("1-800-FLOWERS", "US"),
        ("020 7946 0123 ext 42 (office)", "GB"),
    ],
)
def test_normalise_phone_idempotent_known(value: str, country: str | None) -> None:
    first = normalise_phone(value, country)

    second = reparse(first)

    assert second.e164 == first.e164
    assert second.extension == first.extension
    assert second.country == first.country
    assert second.line_type is first.line_type
    assert second.notes == ()


@st.composite
def example_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    region = draw(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
    number_type = draw(st.sampled_from(EXAMPLE_TYPES))
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None:
        reject()
    return region, example


@given(
    example_numbers(),
    st.sampled_from(
        [
            PhoneNumberFormat.E164,
            PhoneNumberFormat.INTERNATIONAL,
            PhoneNumberFormat.NATIONAL,
            PhoneNumberFormat.RFC3966,
        ]
    ),
    st.one_of(st.none(), st.from_regex(r"[1-9][0-9]{0,5}", fullmatch=True)),
)
@settings(max_examples=200, deadline=None)
def test_normalise_phone_examples_round_trip(
    example: tuple[str, phonenumbers.PhoneNumber], number_format: int, extension: str | None
) -> None:
    region, number = example
    text = phonenumbers.format_number(number, number_format)
    if extension is not None:
        text += f" ext. {extension}"
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)

    phone = normalise_phone(text, region)

    assert phone.e164 == e164
    assert phone.extension == extension
    assert phone.is_valid is True
    assert phone.assumed_international is False
    assert phone.repaired is False
    assert phone.line_type is line_type_from_number_type(phonenumbers.number_type(number))
    assert reparse(phone).e164 == e164
    assert reparse(phone).extension == extension


@given(example_numbers())
@settings(max_examples=200, deadline=None)
def test_normalise_phone_lost_plus_recovered(example: tuple[str, phonenumbers.PhoneNumber]) -> None:
    _, number = example
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assume(len(e164) - 1 in range(11, 16))

    phone = normalise_phone(e164[1:], default_region="US")

    assert phone.e164 == e164
    # Digits after a lost "+1" are already a valid number for the US default region.
    assert phone.assumed_international is (number.country_code != 1)


@given(st.text(), st.one_of(st.none(), st.text(max_size=4)))
@settings(max_examples=200, deadline=None)
def test_normalise_phone_text_never_raises(value: str, country: str | None) -> None:
    phone = normalise_phone(value, country)

    assert (phone.e164 is None) is has_rejection(phone.notes)
    assert phone.is_valid is (phone.e164 is not None)
    if phone.e164 is not None:
        again = reparse(phone)
        assert again.e164 == phone.e164
        assert again.extension == phone.extension
        assert again.country == phone.country
        assert again.line_type is phone.line_type


PHONE_LIKE_TEXT = st.lists(
    st.sampled_from(
        [
            *"0123456789+- ().,;#x'=\"/\n",
            *["00", "011", "ext", "ext=", "tel:", "E+11", "44", "39", "\u00a0"],
            *[in_script("3", ARABIC_INDIC_ZERO), in_script("0", FULLWIDTH_ZERO)],
        ]
    ),
    max_size=25,
).map("".join)


@given(PHONE_LIKE_TEXT, st.sampled_from([None, "GB", "US", "IT", "DE", "SM", "HU", "xx"]))
@settings(max_examples=200, deadline=None)
def test_normalise_phone_idempotent_fuzzed(value: str, country: str | None) -> None:
    phone = normalise_phone(value, country)

    assert (phone.e164 is None) is has_rejection(phone.notes)
    if phone.e164 is not None:
        again = reparse(phone)
        assert again.e164 == phone.e164
        assert again.extension == phone.extension
        assert again.country == phone.country
        assert again.line_type is phone.line_type
        assert again.notes == ()
