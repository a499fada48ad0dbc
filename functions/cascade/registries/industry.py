"""Industry code descriptions from the code lists bundled in ``cascade/registries/data``.

US SIC codes join to the SEC list as integers, because the SEC list writes "100" where EDGAR
writes "0100". UK SIC 2007 codes join to the Companies House condensed list as 5-character
strings. A 4-digit code on a Companies House profile is a SIC 2003 code, for which no list is
bundled. Brønnøysund sends its own NACE (SN2007) description with each code.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

from cascade.registries.models import IndustryCode, IndustryScheme

_DATA_PACKAGE = "cascade.registries.data"
_UK_SIC_2003_LENGTH = 4
_UK_SIC_2007_LENGTH = 5


def _rows(file_name: str) -> list[list[str]]:
    text = resources.files(_DATA_PACKAGE).joinpath(file_name).read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return [row for row in rows[1:] if row and row[0].strip()]


@functools.cache
def _us_sic() -> dict[int, str]:
    return {int(row[0]): row[2].strip() for row in _rows("sec_sic_codes.csv")}


@functools.cache
def _uk_sic_2007() -> dict[str, str]:
    return {row[0].strip(): row[1].strip() for row in _rows("uk_sic_2007_ch_condensed.csv")}


@functools.cache
def _naics_2022() -> dict[str, str]:
    return {row[0].strip(): row[1].strip() for row in _rows("naics_2022.csv")}


def us_sic_code(code: str | int) -> IndustryCode:
    """Return the SEC SIC code as 4 digits with the SEC list's title, or with a note when it is not listed."""
    text = str(code).strip()
    if not text.isdigit():
        return IndustryCode(scheme=IndustryScheme.US_SIC, code=text, note="not a numeric SIC code")
    description = _us_sic().get(int(text))
    note = None if description else "code not in the SEC SIC code list"
    return IndustryCode(scheme=IndustryScheme.US_SIC, code=text.zfill(4), description=description, note=note)


def uk_sic_code(code: str) -> IndustryCode:
    """Return a Companies House ``sic_codes`` entry as a UK SIC 2007 code, or as SIC 2003 for a 4-digit code."""
    text = code.strip()
    if len(text) == _UK_SIC_2003_LENGTH and text.isdigit():
        return IndustryCode(
            scheme=IndustryScheme.UK_SIC_2003,
            code=text,
            note="UK SIC 2003 code from an older filing; no SIC 2003 list is bundled",
        )
    description = _uk_sic_2007().get(text) if len(text) == _UK_SIC_2007_LENGTH else None
    note = None if description else "code not in the Companies House SIC 2007 list"
    return IndustryCode(scheme=IndustryScheme.UK_SIC_2007, code=text, description=description, note=note)


def naics_code(code: str | int) -> IndustryCode:
    """Return a 2022 NAICS code (2 to 6 digits) with its Census title, or with a note when it is not listed."""
    text = str(code).strip()
    description = _naics_2022().get(text)
    note = None if description else "code not in the 2022 NAICS list"
    return IndustryCode(scheme=IndustryScheme.NAICS_2022, code=text, description=description, note=note)


def nace_code(code: str, description: str | None) -> IndustryCode:
    """Return a Norwegian SN2007 (NACE) code such as "06.100" with the description Brønnøysund sent."""
    return IndustryCode(scheme=IndustryScheme.NACE_SN2007, code=code.strip(), description=description or None)
