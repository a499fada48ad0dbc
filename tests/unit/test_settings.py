from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cascade.settings import Stage, get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_settings_defaults() -> None:
    settings = get_settings()
    assert settings.stage is Stage.LOCAL
    assert settings.email_price == Decimal("0.20")
    assert settings.phone_price == Decimal("0.30")
    assert settings.smtp_verification_enabled is False


def test_settings_read_once_per_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("CASCADE_EMAIL_PRICE", "0.25")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().email_price == Decimal("0.25")


def test_settings_reject_invalid_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASCADE_SYNC_DEADLINE_SECONDS", "40")
    with pytest.raises(ValidationError, match="sync_deadline_seconds"):
        get_settings()
