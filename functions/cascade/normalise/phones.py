"""Normalise phone numbers to E.164 with libphonenumber (the ``phonenumbers`` package).

A result reports only what the numbering plan defines. A valid number fits its country's
plan, which is no evidence that it is in service, and its line type is the plan's type for
that range. In shared plans such as the US and Canada, where landlines and mobiles use the same
ranges, it stays ``fixed_line_or_mobile``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeGuard

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType
from phonenumbers import ValidationResult as Possibility

from cascade.normalise.notes import Note, NoteKind, assumed, rejected, repaired


class LineType(StrEnum):
    """Line type of a number's range in its numbering plan, named as libphonenumber names it."""

    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    VOIP = "voip"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number in E.164 form, or the reasons it was rejected.

    ``is_valid`` means the number fits its numbering plan, not that it is in service.
    ``country`` is the ISO 3166 alpha-2 region of the number itself, which can differ from
    the country the caller passed, and is ``None`` for non-geographic numbers (+800, +882).
    """

    e164: str | None
    extension: str | None
    country: str | None
    line_type: LineType
    is_valid: bool
    assumed_international: bool
    repaired: bool
    notes: tuple[Note, ...]


_LINE_TYPES: dict[int, LineType] = {
    PhoneNumberType.FIXED_LINE: LineType.FIXED_LINE,
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE: LineType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: LineType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST: LineType.SHARED_COST,
    PhoneNumberType.VOIP: LineType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER: LineType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER: LineType.PAGER,
    PhoneNumberType.UAN: LineType.UAN,
    PhoneNumberType.VOICEMAIL: LineType.VOICEMAIL,
    PhoneNumberType.UNKNOWN: LineType.UNKNOWN,
}

# Far above any real cell, so that cleaning never spends time on pasted documents.
# phonenumbers itself rejects input longer than 250 characters as too long.
_MAX_INPUT_LENGTH = 1000

# "UK" is exceptionally reserved in ISO 3166 for the United Kingdom, whose code is GB,
# and CRM exports use it often.
_COUNTRY_ALIASES = {"UK": "GB"}

_SEND_INSTEAD = "Send the number with its country code, as in +44 20 7946 0123."
_UNRECOVERABLE = "unrecoverable spreadsheet format: re-export the column as text."

_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_URI_SCHEME = re.compile(r"(?:tel|callto):", re.IGNORECASE)
_FORMULA_STRING = re.compile(r'=\s*"(.*)"', re.DOTALL)

# A spreadsheet that stored the number as a float and wrote it back in scientific notation
# has already rounded away the last digits, so no conversion can recover the number.
_SCIENTIFIC_NOTATION = re.compile(r"[+-]?\d+(?:[.,]\d+)?\s*[eE]\s*[+-]?\d{1,3}")
# Error values (Excel, LibreOffice, Google Sheets) and the hashes a spreadsheet shows and
# may export when a column is too narrow. Typing "+44 ..." into Excel makes a formula that
# ends as #NAME?.
_SPREADSHEET_ERROR = re.compile(
    r"#(?:NAME\?|VALUE!|REF!|N/A|NUM!|DIV/0!|NULL!|SPILL!|CALC!|FIELD!|BLOCKED!|CONNECT!|BUSY!"
    r"|UNKNOWN!|ERROR!|GETTING_DATA)|#{2,}|Err:\d{3}",
    re.IGNORECASE,
)
# A whole number read as a float and written back ("447700900123.0"). A float64 stores every
# integer of up to 15 digits exactly, and E.164 numbers have at most 15, so only the "+"
# and leading zeros can be gone, and the repairs below restore those.
_FLOAT_SUFFIX = re.compile(r"(\d{6,15})\.0+")

# Separators between two numbers in one cell. A ";" that starts an RFC 3966 parameter
# (";ext=42") and a "," that starts a dialled extension (",42") are not separators, which
# the digit count in _has_multiple_numbers enforces for the comma.
_NUMBER_SEPARATOR = re.compile(
    r"[/|\n&]|;(?!\s*(?:ext|isub|phone-context)=)|,|\s(?:or|and)\s",
    re.IGNORECASE,
)
# A part with at least this many digits counts as a number. Extensions rarely have as many,
# and neither do area codes written before a slash ("0201/1234567").
_MIN_DIGITS_PER_NUMBER = 7

# Digits left when a spreadsheet dropped the "+" of an international number. E.164 allows
# 15 digits at most. Shorter strings are read only as national numbers, because 10 digits
# is a whole national number in the US and many other plans.
_BARE_INTERNATIONAL = re.compile(r"\d[\d .\-]*\d")
_INTERNATIONAL_DIGITS = range(11, 16)


def line_type_from_number_type(number_type: int) -> LineType:
    """Map a ``phonenumbers.PhoneNumberType`` value to its ``LineType``, ``UNKNOWN`` if unmapped."""
    return _LINE_TYPES.get(number_type, LineType.UNKNOWN)


def normalise_phone(value: str, country: str | None = None, default_region: str = "US") -> Phone:
    """Parse one phone field into E.164, repairing what spreadsheets and CRMs do to numbers.

    A number written without a country code is read in ``country`` (ISO 3166 alpha-2,
    any case), or in ``default_region`` when ``country`` is empty or not a known code.
    When that reading is not a valid number, these retries follow in order, and the first
    valid one wins:

    1. Re-add a trunk prefix or leading zero that a spreadsheet dropped (``repaired``).
    2. Read a leading ``00`` as ``+``, and a bare string of 11 to 15 digits as
       international (``assumed_international``).
    3. Take the one valid number from a cell that also contains words (an assumed note).

    No retry replaces a valid regional reading, and each one adds a note that states what
    it changed.

    Never raises on the content of ``value`` or ``country``: rejections come back as a
    ``Phone`` with ``e164`` set to ``None`` and a rejected note. Raises ``ValueError`` only
    when ``default_region`` is not a region with a numbering plan, because that is the
    service's configuration, not customer input.
    """
    region, notes = _resolve_region(country, default_region)
    if len(value) > _MAX_INPUT_LENGTH:
        return _rejected(
            notes,
            "too_long",
            f"the phone value has {len(value)} characters, far more than any phone number. "
            "Send one number per field, with its country code.",
        )

    text = _clean(value)
    if not text:
        return _rejected(notes, "empty", f"the phone number is empty. {_SEND_INSTEAD}")

    unrecoverable = _spreadsheet_rejection(value, text)
    if unrecoverable is not None:
        return _rejected(notes, *unrecoverable)

    float_match = _FLOAT_SUFFIX.fullmatch(text)
    if float_match is not None:
        text = float_match.group(1)
        notes += (
            repaired(
                "spreadsheet_float_suffix",
                f"removed the '.0' that a spreadsheet added to {value!r} by reading the number as a float.",
            ),
        )

    if _has_multiple_numbers(text):
        return _rejected(
            notes,
            "multiple_numbers",
            f"the phone value {value!r} contains more than one number. Send one number per field.",
        )

    text = " ".join(text.split())
    return _parse_with_retries(value, text, region, notes)


def _resolve_region(country: str | None, default_region: str) -> tuple[str, tuple[Note, ...]]:
    default = default_region.strip().upper()
    if default not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"default_region {default_region!r} is not a region with a telephone numbering plan: "
            "configure an ISO 3166 alpha-2 code such as 'US'"
        )
    if country is None or not country.strip():
        return default, ()

    code = country.strip().upper()
    if code in _COUNTRY_ALIASES:
        alias = _COUNTRY_ALIASES[code]
        return alias, (assumed("country_alias", f"read country {country!r} as {alias}."),)
    if code in phonenumbers.SUPPORTED_REGIONS:
        return code, ()

    note = assumed(
        "unknown_country",
        f"ignored country {country!r} because it is not an ISO 3166 alpha-2 code with a telephone "
        f"numbering plan, so a number without a country code was read as a {default} number.",
    )
    return default, (note,)


def _clean(value: str) -> str:
    """Undo what spreadsheets, CRMs and copy-paste add around a number, keeping line breaks."""
    characters: list[str] = []
    for character in unicodedata.normalize("NFKC", value):
        category = unicodedata.category(character)
        if category == "Nd":
            # Arabic-Indic, Devanagari and other decimal digits; NFKC already mapped fullwidth ones.
            characters.append(str(unicodedata.decimal(character)))
        elif category == "Cf":
            # Zero-width spaces, direction marks and byte-order marks from copy-paste.
            continue
        elif character in _LINE_BREAKS:
            characters.append("\n")
        elif character.isspace():
            characters.append(" ")
        else:
            characters.append(character)
    text = "".join(characters).strip()

    # A leading apostrophe makes a spreadsheet keep the cell as text, and ="..." is the
    # formula form of the same trick. Neither is part of the number.
    text = text.removeprefix("'").strip()
    formula = _FORMULA_STRING.fullmatch(text)
    if formula is not None:
        text = formula.group(1)
    text = text.removeprefix("=").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()

    scheme = _URI_SCHEME.match(text)
    if scheme is not None:
        text = text[scheme.end() :].strip()
    return text


def _spreadsheet_rejection(value: str, text: str) -> tuple[str, str] | None:
    if _SCIENTIFIC_NOTATION.fullmatch(text):
        return (
            "spreadsheet_scientific_notation",
            f"{_UNRECOVERABLE} The value {value!r} is in scientific notation, which has lost digits.",
        )
    if _SPREADSHEET_ERROR.fullmatch(text):
        return (
            "spreadsheet_error_value",
            f"{_UNRECOVERABLE} The value {value!r} is a spreadsheet error or display value, not a number.",
        )
    return None


def _has_multiple_numbers(text: str) -> bool:
    parts = _NUMBER_SEPARATOR.split(text)
    numbers = [part for part in parts if sum(c.isdigit() for c in part) >= _MIN_DIGITS_PER_NUMBER]
    return len(numbers) >= 2


def _parse_with_retries(value: str, text: str, region: str, notes: tuple[Note, ...]) -> Phone:
    regional = _parse(text, region)
    if _is_valid(regional):
        return _accepted(regional, notes)

    restored = _restore_trunk_prefix(value, text, region)
    if restored is not None:
        number, note = restored
        return _accepted(number, (*notes, note))

    international_text = _international_reading(text)
    international = None if international_text is None else _parse(international_text, region)
    if _is_valid(international):
        note = assumed(
            "assumed_international",
            f"read {value!r} as the international number {_international(international)} because it "
            f"is not a valid {region} number.",
        )
        return _accepted(international, (*notes, note), assumed_international=True)

    extracted = _extract_from_text(value, text, region)
    if extracted is not None:
        number, note = extracted
        return _accepted(number, (*notes, note))

    # A leading 00 states that the number is international, so the international reading
    # explains the failure better than the regional one.
    failed = international if international is not None and text.startswith("00") else regional
    return _rejected(notes, *_describe_failure(value, failed, region))


def _is_valid(parsed: PhoneNumber | NumberParseException | None) -> TypeGuard[PhoneNumber]:
    return isinstance(parsed, PhoneNumber) and phonenumbers.is_valid_number(parsed)


def _restore_trunk_prefix(value: str, text: str, region: str) -> tuple[PhoneNumber, Note] | None:
    """Re-add a trunk prefix or the leading zero that a spreadsheet drops when it stores a number.

    Regions with a trunk prefix (GB and DE "0", HU "06", US "1") parse numbers with or without
    it, so re-adding it matters only where the prefix is longer than the zero a spreadsheet
    drops. Italy, San Marino, the Vatican and a few others have no trunk prefix, because their
    leading 0 is part of the number and stays in international format, so dropping it
    changes the number.
    """
    if not text[0].isdigit():
        return None
    trunk_prefix = phonenumbers.ndd_prefix_for_region(region, True)
    prefixes = [trunk_prefix, "0"] if trunk_prefix and trunk_prefix != "0" else ["0"]
    for prefix in prefixes:
        if text.startswith(prefix):
            continue
        restored = _parse(prefix + text, region)
        if not _is_valid(restored):
            continue
        if prefix == "0":
            added = f"re-added to {value!r} the leading 0 that spreadsheets drop"
        else:
            added = f"re-added the national prefix {prefix} to {value!r}"
        code = "national_prefix_restored" if trunk_prefix else "leading_zero_restored"
        note = repaired(code, f"{added}, and read the number as {_international(restored)}.")
        return restored, note
    return None


def _extract_from_text(value: str, text: str, region: str) -> tuple[PhoneNumber, Note] | None:
    """Find the one valid number in a cell that also contains words, such as "020 7946 0123 (work)".

    phonenumbers reads letters as vanity digits, so a label after a number makes it too long.
    """
    if not any(character.isalpha() for character in text):
        return None
    matches = list(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID))
    if len(matches) != 1:
        return None
    number = matches[0].number
    note = assumed(
        "text_around_number_ignored",
        f"read the number {_international(number)} from {value!r} and ignored the text around it.",
    )
    return number, note


def _parse(text: str, region: str) -> PhoneNumber | NumberParseException:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as error:
        return error


def _international_reading(text: str) -> str | None:
    if text.startswith("00"):
        return "+" + text[2:]
    if _BARE_INTERNATIONAL.fullmatch(text):
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) in _INTERNATIONAL_DIGITS:
            return "+" + digits
    return None


# Rejection code and message template for a parsed number that is not valid, by how far it
# is from a possible number of its plan. {value} is the input as sent, {plan} the plan's name.
_INVALID_NUMBER = (
    "invalid_number",
    "the phone number {value} is not a valid number in the {plan} numbering plan.",
)
_POSSIBILITY_FAILURES: dict[int, tuple[str, str]] = {
    Possibility.TOO_SHORT: (
        "too_short",
        "the phone number {value} is too short for the {plan} numbering plan.",
    ),
    Possibility.TOO_LONG: ("too_long", "the phone number {value} is too long for the {plan} numbering plan."),
    Possibility.INVALID_LENGTH: (
        "invalid_length",
        "the phone number {value} has a length that no number in the {plan} numbering plan has.",
    ),
    Possibility.IS_POSSIBLE_LOCAL_ONLY: (
        "missing_area_code",
        "the phone number {value} lacks its area code, so it can be dialled only locally in the {plan} plan.",
    ),
    Possibility.INVALID_COUNTRY_CODE: (
        "invalid_country_code",
        "the phone number {value} starts with an unassigned country code.",
    ),
}
# The same for text that phonenumbers could not parse at all.
_NOT_A_NUMBER = ("not_a_number", "the phone value {value} is not a phone number.")
_PARSE_FAILURES: dict[int, tuple[str, str]] = {
    NumberParseException.NOT_A_NUMBER: _NOT_A_NUMBER,
    NumberParseException.TOO_LONG: ("too_long", "the phone value {value} is too long to be a phone number."),
    NumberParseException.TOO_SHORT_NSN: (
        "too_short",
        "the phone number {value} is too short for the {plan} numbering plan.",
    ),
    NumberParseException.TOO_SHORT_AFTER_IDD: (
        "too_short",
        "the phone number {value} is too short after its international prefix.",
    ),
    NumberParseException.INVALID_COUNTRY_CODE: (
        "invalid_country_code",
        "the phone number {value} starts with an unassigned country code.",
    ),
}


def _describe_failure(value: str, failed: PhoneNumber | NumberParseException, region: str) -> tuple[str, str]:
    if isinstance(failed, NumberParseException):
        code, template = _PARSE_FAILURES.get(failed.error_type, _NOT_A_NUMBER)
        plan = region
    else:
        possibility = phonenumbers.is_possible_number_with_reason(failed)
        code, template = _POSSIBILITY_FAILURES.get(possibility, _INVALID_NUMBER)
        plan = region if failed.country_code is None else _plan_name(failed.country_code)
    message = template.format(value=repr(value), plan=plan)
    return code, f"{message} {_SEND_INSTEAD}"


def _plan_name(country_code: int) -> str:
    region = phonenumbers.region_code_for_country_code(country_code)
    if region in phonenumbers.SUPPORTED_REGIONS:
        return f"+{country_code} ({region})"
    return f"+{country_code}"


def _international(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def _accepted(number: PhoneNumber, notes: tuple[Note, ...], *, assumed_international: bool = False) -> Phone:
    region = phonenumbers.region_code_for_number(number)
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        extension=number.extension or None,
        country=region if region in phonenumbers.SUPPORTED_REGIONS else None,
        line_type=line_type_from_number_type(phonenumbers.number_type(number)),
        is_valid=True,
        assumed_international=assumed_international,
        repaired=any(note.kind is NoteKind.REPAIRED for note in notes),
        notes=notes,
    )


def _rejected(notes: tuple[Note, ...], code: str, message: str) -> Phone:
    return Phone(
        e164=None,
        extension=None,
        country=None,
        line_type=LineType.UNKNOWN,
        is_valid=False,
        assumed_international=False,
        repaired=False,
        notes=(*notes, rejected(code, message)),
    )
