from __future__ import annotations

import pytest

from cascade.domain.countries import ISO_COUNTRY_CODES, parse_country_code


def test_country_codes_complete() -> None:
    assert len(ISO_COUNTRY_CODES) == 249


@pytest.mark.parametrize(("raw", "expected"), [("gb", "GB"), (" us ", "US"), ("UK", "GB"), ("no", "NO")])
def test_parse_country_code_accepts(raw: str, expected: str) -> None:
    assert parse_country_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "GBR", "XX", "U5", "England"])
def test_parse_country_code_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2"):
        parse_country_code(raw)
