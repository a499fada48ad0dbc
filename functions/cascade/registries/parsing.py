"""Small readers for registry JSON, which mixes missing keys, nulls, empty strings and the text "null"."""

from __future__ import annotations

from datetime import date
from typing import Any


def text(mapping: Any, key: str) -> str | None:
    """Return the stripped string at ``key``, or ``None`` for a missing, non-string, empty or "null" value."""
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(key)
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    if not stripped or stripped.lower() == "null":
        return None
    return stripped


def day(value: Any) -> date | None:
    """Read the date at the start of ``value`` ("2025-08-01", "1995-03-12 16:23:00", "2007-01-10T05:00:00.000Z")."""
    if not isinstance(value, str) or len(value) < len("YYYY-MM-DD"):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def mapping(value: Any, key: str) -> dict[str, Any]:
    """Return the object at ``key``, or an empty dict when it is missing or not an object."""
    if not isinstance(value, dict):
        return {}
    found = value.get(key)
    return found if isinstance(found, dict) else {}


def items(value: Any, key: str) -> list[Any]:
    """Return the array at ``key``, or an empty list when it is missing or not an array."""
    if not isinstance(value, dict):
        return []
    found = value.get(key)
    return found if isinstance(found, list) else []


def integer(value: Any, key: str) -> int | None:
    if not isinstance(value, dict):
        return None
    found = value.get(key)
    if isinstance(found, bool) or not isinstance(found, int):
        return None
    return found
